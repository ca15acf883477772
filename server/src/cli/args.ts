/**
 * The command-line reader every `ocular` subcommand shares: `--flag value` pairs and flags without
 * a value, in any order around the positional targets (exactly one for eval, train, serve and
 * export; one or more for check and format; a file and a model name for summary). Each
 * subcommand declares a table of its options (flag, how its value is read, what a refusal says) and
 * keeps only its checks across options and its defaults. The words are read in order and the first
 * wrong one is refused, so a command line with several mistakes is told about its earliest; the
 * refusal is printed with the subcommand's usage and exits 2.
 *
 * Not node's util.parseArgs: that also reads `--flag=value`, groups of short flags and `--`, and
 * refuses a value starting with a dash in its own words, where these commands take the word after
 * a flag as its value whatever it is and say every refusal in their own words (tests assert them).
 */
import type { BackendPreference } from '../engine/engine';

/** An option whose flag takes the next word as its value. */
export interface ValueOption<T> {
  readonly takesValue: true;
  /** The value the word stands for, or undefined to refuse it; the word is undefined when the flag ends the line. */
  readonly read: (word: string | undefined) => T | undefined;
  /** What the refusal says; a function when the message names the word refused. */
  readonly refusal: string | ((word: string | undefined) => string);
}

/** An option said by its flag alone, such as --no-batching: its value is true when given. */
export interface Switch {
  readonly takesValue: false;
}

/** A subcommand's options by name: `batch` is the flag `--batch`. */
export type OptionTable = Readonly<Record<string, ValueOption<unknown> | Switch>>;

/** The options a command line gives, by name; one it does not give is absent, so the subcommand fills in its default. */
export type OptionValues<Table extends OptionTable> = { -readonly [Name in keyof Table]?: Table[Name] extends ValueOption<infer T> ? T : true };

/** How a subcommand names its target in the refusals of a command line with two targets or none. */
export interface TargetWords {
  /** Said before `, not 'a' and 'b'` when two are given. */
  readonly one: string;
  /** Said when none is given. */
  readonly missing: string;
}

/** How a subcommand that takes one target or more (check's and format's files) names them in its refusals. */
export interface TargetsWords {
  /** Said when none is given. */
  readonly missing: string;
  /** The most it takes, when there is a limit (summary's file and model name), and what it says before `, not 'a', 'b' and 'c'` when given more. */
  readonly most?: { readonly count: number; readonly words: string };
}

/** The target of eval, serve and export. */
export const MODEL_OR_RUN: TargetWords = { one: 'one model file or run folder', missing: 'give a model file or a run folder' };

/** The choices of train's and export's --backend. */
export const BACKENDS: readonly BackendPreference[] = ['auto', 'gpu', 'native', 'wasm', 'cpu'];

export interface CommandLine<Table extends OptionTable> {
  readonly target: string;
  readonly options: OptionValues<Table>;
}

export interface CommandLineTargets<Table extends OptionTable> {
  /** One or more, in the order given. */
  readonly targets: readonly string[];
  readonly options: OptionValues<Table>;
}

/** The target and options of a command line (the words after the subcommand), or the refusal of its first wrong word. */
export function readCommandLine<Table extends OptionTable>(args: readonly string[], table: Table, target: TargetWords): CommandLine<Table> | string {
  const line = readCommandLineTargets(args, table, { missing: target.missing, most: { count: 1, words: target.one } });
  return typeof line === 'string' ? line : { target: line.targets[0]!, options: line.options };
}

/** Quoted words as a sentence lists them: 'a', 'b' and 'c'. */
const listed = (words: readonly string[]): string => {
  const quoted = words.map((word) => `'${word}'`);
  return quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}` : quoted.join('');
};

/** As `readCommandLine`, for a subcommand that takes one target or more. */
export function readCommandLineTargets<Table extends OptionTable>(args: readonly string[], table: Table, words: TargetsWords): CommandLineTargets<Table> | string {
  const targets: string[] = [];
  const options: Record<string, unknown> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      if (words.most && targets.length === words.most.count) return `${words.most.words}, not ${listed([...targets, arg])}`;
      targets.push(arg);
      continue;
    }
    const name = arg.slice(2);
    // Own names only: `--constructor` is an unknown option, not something every object has.
    const option = Object.hasOwn(table, name) ? table[name] : undefined;
    if (!option) return `unknown option ${arg}`;
    if (!option.takesValue) {
      options[name] = true;
      continue;
    }
    const word = args[++i];
    const value = option.read(word);
    if (value === undefined) return typeof option.refusal === 'string' ? option.refusal : option.refusal(word);
    options[name] = value;
  }
  if (targets.length === 0) return words.missing;
  return { targets, options: options as OptionValues<Table> };
}

/** An option read by a function of its own, for values the readers below do not cover. */
export function valueOption<T>(read: (word: string | undefined) => T | undefined, refusal: ValueOption<T>['refusal']): ValueOption<T> {
  return { takesValue: true, read, refusal };
}

/** One word of a fixed list. */
export function oneOf<T extends string>(choices: readonly T[], refusal: string): ValueOption<T> {
  return valueOption((word) => (choices as readonly (string | undefined)[]).includes(word) ? (word as T) : undefined, refusal);
}

/** Any word but the empty one: a file, an address, a name. */
export function text(refusal: string): ValueOption<string> {
  return valueOption((word) => word || undefined, refusal);
}

/**
 * A whole number from min to max. The word is read as Number() reads it, as these commands always
 * have: ' 8 ' is 8, and an empty word is 0.
 */
export function wholeNumber(min: number, max: number, refusal: string): ValueOption<number> {
  return valueOption((word) => {
    const number = Number(word);
    return Number.isInteger(number) && number >= min && number <= max ? number : undefined;
  }, refusal);
}

/** An option said by its flag alone. */
export const SWITCH: Switch = { takesValue: false };

/** Prints the refusal of a subcommand's command line with its usage, and gives the exit code of a wrong command line. */
export function refuseCommandLine(command: string, refusal: string, usage: string): number {
  process.stderr.write(`ocular ${command}: ${refusal}\nUsage:\n${usage}`);
  return 2;
}
