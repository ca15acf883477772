/**
 * The command-line reader the subcommands share (server/src/cli/args.ts), and ocular check,
 * summary, format, eval, train, serve and export, which declare their options with it: command
 * lines and what each reads to, or the exact refusal it gets (the message `ocular <command>:`
 * prints before the usage, exit 2).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { oneOf, readCommandLine, readCommandLineTargets, SWITCH, text, valueOption, wholeNumber, type CommandLine, type CommandLineTargets, type TargetsWords } from '../../server/src/cli/args';
import { parseEvalArgs } from '../../server/src/cli/eval';
import { parseCheckArgs, parseFormatArgs, parseSummaryArgs } from '../../server/src/cli/file-commands';
import { parseExportArgs } from '../../server/src/cli/export';
import { parseServeArgs } from '../../server/src/cli/serve';
import { parseTrainArgs } from '../../server/src/cli/train';

/** A table with one option of each kind the reader has. */
const TABLE = {
  size: wholeNumber(1, 9, '--size takes 1 to 9'),
  name: text('--name takes a name'),
  mode: oneOf(['fast', 'slow'] as const, '--mode takes fast or slow'),
  even: valueOption(
    (word) => (word !== undefined && Number(word) % 2 === 0 ? Number(word) : undefined),
    (word) => `--even takes an even number, not '${word ?? ''}'`,
  ),
  quiet: SWITCH,
};
const WORDS = { one: 'one thing', missing: 'give a thing' };

const readerCases: [string, string[], CommandLine<typeof TABLE> | string][] = [
  ['a target alone', ['t'], { target: 't', options: {} }],
  ['every kind of option, around the target', ['--size', '3', 't', '--quiet', '--name', 'n', '--mode', 'slow', '--even', '4'], { target: 't', options: { size: 3, quiet: true, name: 'n', mode: 'slow', even: 4 } }],
  ['a repeated option: the last counts', ['t', '--size', '3', '--size', '4'], { target: 't', options: { size: 4 } }],
  ['the word after a flag is its value, whatever it is', ['t', '--name', '--quiet'], { target: 't', options: { name: '--quiet' } }],
  ['a word with one dash is a target', ['-q'], { target: '-q', options: {} }],
  ['a number as Number() reads it', ['t', '--size', ' 8 '], { target: 't', options: { size: 8 } }],
  ['a value missing at the end', ['t', '--size'], '--size takes 1 to 9'],
  ['a text value missing at the end', ['t', '--name'], '--name takes a name'],
  ['an empty text value', ['t', '--name', ''], '--name takes a name'],
  ['a value outside the range', ['t', '--size', '10'], '--size takes 1 to 9'],
  ['a value not in the list', ['t', '--mode', 'medium'], '--mode takes fast or slow'],
  ['a refusal naming the word', ['t', '--even', '3'], "--even takes an even number, not '3'"],
  ['a refusal naming a missing word', ['t', '--even'], "--even takes an even number, not ''"],
  ['an unknown option', ['t', '--loud'], 'unknown option --loud'],
  ['a name every object has', ['t', '--constructor'], 'unknown option --constructor'],
  ['a value joined to its flag', ['t', '--size=3'], 'unknown option --size=3'],
  ['two dashes alone', ['t', '--'], 'unknown option --'],
  ['two targets', ['a', 'b'], "one thing, not 'a' and 'b'"],
  ['no target', [], 'give a thing'],
  ['options but no target', ['--quiet', '--size', '2'], 'give a thing'],
  ['two mistakes: the first is told', ['a', 'b', '--loud'], "one thing, not 'a' and 'b'"],
  ['two mistakes the other way round', ['--loud', 'a', 'b'], 'unknown option --loud'],
];
for (const [name, args, expected] of readerCases) {
  test(`reads ${name}: ${args.join(' ') || '(nothing)'}`, () => assert.deepEqual(readCommandLine(args, TABLE, WORDS), expected));
}

/** Subcommands taking one target or more: any number, or at most two. */
const MANY = { missing: 'give some things' };
const AT_MOST_TWO = { missing: 'give a thing', most: { count: 2, words: 'a thing and a name' } };
const targetsCases: [string, string[], TargetsWords, CommandLineTargets<typeof TABLE> | string][] = [
  ['one target', ['a'], MANY, { targets: ['a'], options: {} }],
  ['targets around options, in their order', ['a', '--quiet', 'b', '--size', '2', 'c'], MANY, { targets: ['a', 'b', 'c'], options: { quiet: true, size: 2 } }],
  ['no target', ['--quiet'], MANY, 'give some things'],
  ['an unknown option after targets', ['a', 'b', '--loud'], MANY, 'unknown option --loud'],
  ['a wrong value', ['a', '--size', '0'], MANY, '--size takes 1 to 9'],
  ['as many as allowed', ['a', 'b'], AT_MOST_TWO, { targets: ['a', 'b'], options: {} }],
  ['one more than allowed', ['a', 'b', 'c'], AT_MOST_TWO, "a thing and a name, not 'a', 'b' and 'c'"],
  ['too many, then an unknown option: the first is told', ['a', 'b', 'c', '--loud'], AT_MOST_TWO, "a thing and a name, not 'a', 'b' and 'c'"],
  ['an unknown option, then too many', ['--loud', 'a', 'b', 'c'], AT_MOST_TWO, 'unknown option --loud'],
];
for (const [name, args, words, expected] of targetsCases) {
  test(`reads targets: ${name}: ${args.join(' ') || '(nothing)'}`, () => assert.deepEqual(readCommandLineTargets(args, TABLE, words), expected));
}

/** What ocular train asks for a model file given relative to the current folder. */
const trainRequest = (file: string, options: object): object => ({ modelFile: path.resolve(file), cacheDir: path.join(process.cwd(), '.ocular', 'cache'), ...options });

const commandCases: [string, (args: readonly string[]) => unknown, string[], unknown][] = [
  ['eval', parseEvalArgs, ['run', '--split', 'test', '--batch', '8'], { target: 'run', split: 'test', batch: 8 }],
  ['eval', parseEvalArgs, ['run', '--batch'], '--batch takes a whole number of images, 1 or more'],
  ['eval', parseEvalArgs, ['run', '--split', 'dev'], '--split takes train, val, test'],
  ['train', parseTrainArgs, ['m.ocular'], trainRequest('m.ocular', {})],
  [
    'train',
    parseTrainArgs,
    ['m.ocular', '--backend', 'wasm', '--resume', 'Tiny-1', '--epochs', '3', '--threads', '2', '--model', 'M'],
    trainRequest('m.ocular', { backend: 'wasm', resumeRunId: 'Tiny-1', epochs: 3, threads: 2, model: 'M' }),
  ],
  ['train', parseTrainArgs, ['a', 'b'], "one model file, not 'a' and 'b'"],
  ['train', parseTrainArgs, ['--epochs', '2'], 'give the model file to train'],
  ['train', parseTrainArgs, ['m.ocular', '--epochs', '1.5'], '--epochs takes a whole number, 1 or more'],
  ['train', parseTrainArgs, ['m.ocular', '--resume'], '--resume takes a run id (a folder name under .ocular/runs)'],
  ['train', parseTrainArgs, ['m.ocular', '--backend', 'tpu'], '--backend takes auto, gpu, native, wasm, cpu'],
  ['train', parseTrainArgs, ['m.ocular', '--seed', '1'], 'unknown option --seed'],
  ['serve', parseServeArgs, ['run'], { target: 'run', port: 8080, host: '127.0.0.1', batching: true }],
  ['serve', parseServeArgs, ['run', '--no-batching', '--port', '0', '--host', '0.0.0.0', '--token', 's3cret'], { target: 'run', port: 0, host: '0.0.0.0', batching: false, token: 's3cret' }],
  ['serve', parseServeArgs, ['run', '--port', '65536'], '--port takes a port number (0 picks a free one)'],
  ['serve', parseServeArgs, ['run', '--host'], '--host takes an address'],
  ['serve', parseServeArgs, ['run', '--token'], '--token takes the bearer token clients must send'],
  // --no-batching takes no value, so the word after it is a second target.
  ['serve', parseServeArgs, ['run', '--no-batching', 'x'], "one model file or run folder, not 'run' and 'x'"],
  ['serve', parseServeArgs, ['--no-batching'], 'give a model file or a run folder'],
  [
    'export',
    parseExportArgs,
    ['run', '--format', 'tfjs', '--out', 'o', '--quantize', 'int8', '--prune', '0', '--backend', 'cpu'],
    { target: 'run', format: 'tfjs', outDir: 'o', quantize: 'int8', prune: 0, backend: 'cpu' },
  ],
  ['export', parseExportArgs, ['run', '--format', 'onnx', '--out', 'o', '--prune', '0.5', '--finetune', '2'], { target: 'run', format: 'onnx', outDir: 'o', prune: 0.5, fineTune: 2 }],
  ['export', parseExportArgs, ['run', '--out', 'o'], '--format is needed: onnx, tfjs, pytorch'],
  ['export', parseExportArgs, ['run', '--format', 'onnx'], '--out is needed: the folder to write the export into'],
  ['export', parseExportArgs, ['run', '--format', 'onnx', '--out'], '--out takes the folder to write'],
  ['export', parseExportArgs, ['run', '--format', 'onnx', '--out', 'o', '--quantize'], '--quantize takes int8 or float16'],
  ['export', parseExportArgs, ['run', '--format', 'onnx', '--out', 'o', '--prune', '1'], '--prune takes the share of weights to zero, such as 0.5 (0 up to, not including, 1)'],
  ['export', parseExportArgs, ['run', '--format', 'onnx', '--out', 'o', '--backend', 'tpu'], '--backend takes auto, gpu, native, wasm or cpu'],
  ['export', parseExportArgs, ['run', '--format', 'onnx', '--out', 'o', '--finetune', '2'], '--finetune fine-tunes pruned weights: give --prune with a share above 0 too, such as --prune 0.5 --finetune 2'],
  ['export', parseExportArgs, ['--format', 'onnx', '--out', 'o'], 'give a model file or a run folder'],
  ['export', parseExportArgs, ['a', 'b', '--format', 'onnx'], "one model file or run folder, not 'a' and 'b'"],
  ['check', parseCheckArgs, ['a.ocular', 'b.ocular'], { files: ['a.ocular', 'b.ocular'], scanData: true }],
  ['check', parseCheckArgs, ['--no-data', 'a.ocular'], { files: ['a.ocular'], scanData: false }],
  ['check', parseCheckArgs, ['a.ocular', '--nodata'], 'unknown option --nodata'],
  ['check', parseCheckArgs, ['a.ocular', '--check'], 'unknown option --check'],
  ['check', parseCheckArgs, ['--no-data'], 'give one or more model files to check'],
  ['summary', parseSummaryArgs, ['a.ocular'], { file: 'a.ocular' }],
  ['summary', parseSummaryArgs, ['a.ocular', 'Net'], { file: 'a.ocular', model: 'Net' }],
  ['summary', parseSummaryArgs, ['a.ocular', '--model', 'Net'], 'unknown option --model'],
  ['summary', parseSummaryArgs, ['a.ocular', 'Net', 'Other'], "a model file and a model name, not 'a.ocular', 'Net' and 'Other'"],
  ['summary', parseSummaryArgs, [], 'give a model file'],
  ['format', parseFormatArgs, ['a.ocular', 'b.ocular'], { files: ['a.ocular', 'b.ocular'], checkOnly: false }],
  ['format', parseFormatArgs, ['a.ocular', '--check'], { files: ['a.ocular'], checkOnly: true }],
  ['format', parseFormatArgs, ['a.ocular', '--dry-run'], 'unknown option --dry-run'],
  ['format', parseFormatArgs, ['--check'], 'give one or more model files to format'],
];
for (const [command, parse, args, expected] of commandCases) {
  test(`ocular ${command} ${args.join(' ')}`, () => assert.deepEqual(parse(args), expected));
}
