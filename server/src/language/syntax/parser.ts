/**
 * Parses tokens into a `SourceFile`. The parser never throws and always returns a tree: after a
 * syntax error it reports one diagnostic and skips to the end of the line (or to the closing
 * brace of a broken section header), so one typo gives one error, not fifty.
 */
import type { Diagnostic } from '../diagnostics';
import { closest } from '../names';
import type { Arg, Body, Expr, Name, Param, Section, SectionKind, SourceFile, Statement } from './ast';
import { lex } from './lexer';
import { cover, span, type Span } from './span';
import type { Token, TokenKind } from './tokens';

export const SECTION_KINDS: readonly SectionKind[] = ['model', 'block', 'dataset', 'train'];

/** Far beyond any real model file, and far below what would exhaust the stack. */
export const MAX_NESTING = 100;
export const MAX_OPERATORS = 200;

export interface ParseResult {
  readonly file: SourceFile;
  readonly tokens: readonly Token[];
  readonly diagnostics: readonly Diagnostic[];
}

export function parse(source: string): ParseResult {
  const lexed = lex(source);
  const parser = new Parser(source, lexed.tokens);
  const file = parser.parseFile();
  return { file, tokens: lexed.tokens, diagnostics: [...lexed.diagnostics, ...parser.diagnostics] };
}

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  /** Tokens without comments: comments matter to the formatter and the grammar, not to the tree. */
  private readonly tokens: Token[];
  private pos = 0;
  /** Open braces, parentheses and signs around the current token; bounded so no input can exhaust the stack. */
  private depth = 0;
  /** Operators in the expression being read; bounded for the same reason (evaluation recurses on them). */
  private operators = 0;
  /** Set after a too-deep construct is reported, so the rest of its line adds no errors. */
  private silenced = false;

  constructor(
    private readonly source: string,
    tokens: readonly Token[],
  ) {
    this.tokens = tokens.filter((t) => t.kind !== 'comment');
  }

  parseFile(): SourceFile {
    const sections: Section[] = [];
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (token.kind === 'eof') break;
      if (token.kind === 'ident' && isSectionKind(token.text)) {
        sections.push(this.parseSection(token.text));
        continue;
      }
      this.reportTopLevel(token);
      this.skipStray();
    }
    return { sections };
  }

  private reportTopLevel(token: Token): void {
    const suggestion = token.kind === 'ident' ? closest(token.text, SECTION_KINDS) : undefined;
    const found = token.kind === 'rbrace' ? "'}' with no open section" : `'${this.source.slice(token.span.start, token.span.end)}'`;
    this.error(
      token.span,
      suggestion
        ? `Unknown section '${token.text}': did you mean '${suggestion}'?`
        : `Expected a section (model, block, dataset or train) but found ${found}.`,
      suggestion ? [{ title: `Change to '${suggestion}'`, edits: [{ span: token.span, text: suggestion }] }] : undefined,
    );
  }

  /** Skips a line that is not a section; when it opens a brace, skips to the matching one. */
  private skipStray(): void {
    let depth = 0;
    for (;;) {
      const token = this.peek();
      if (token.kind === 'eof') return;
      if (token.kind === 'newline' && depth === 0) return;
      if (token.kind === 'lbrace') depth++;
      if (token.kind === 'rbrace') {
        depth--;
        if (depth <= 0) {
          this.next();
          return;
        }
      }
      this.next();
    }
  }

  private parseSection(kind: SectionKind): Section {
    const keywordToken = this.next();
    const keyword: Name = { text: keywordToken.text, span: keywordToken.span };
    let name: Name | undefined;
    let params: Param[] = [];
    let headerBroken = false;

    if (this.peek().kind === 'ident') {
      const token = this.next();
      name = { text: token.text, span: token.span };
    } else if (kind !== 'train') {
      this.error(this.peek().kind === 'newline' || this.peek().kind === 'eof' ? keyword.span : this.peek().span, `Expected a name after '${kind}', as in '${kind} ${exampleName(kind)} {'.`);
      headerBroken = true;
    }
    if (!headerBroken && this.peek().kind === 'lparen' && (kind === 'model' || kind === 'block')) {
      const reported = this.diagnostics.length;
      params = this.parseParams();
      // A broken parameter list has been reported; a missing '{' after it is the same typo again.
      headerBroken = this.diagnostics.length > reported;
    }
    this.skipNewlinesBefore('lbrace');
    let open: Span;
    if (this.peek().kind === 'lbrace') {
      open = this.next().span;
    } else {
      if (!headerBroken) {
        const at = this.peek();
        this.error(at.kind === 'newline' || at.kind === 'eof' ? span(this.prevEnd(), this.prevEnd()) : at.span, `Expected '{' to open the ${kind} section.`);
      }
      this.skipToLineEnd();
      open = span(this.prevEnd(), this.prevEnd());
    }
    const body = this.parseBody(open, `${kind}${name ? ` ${name.text}` : ''}`, keyword.span);
    const end = body.close ?? body.statements[body.statements.length - 1]?.span ?? open;
    return { kind, keyword, ...(name ? { name } : {}), params, body, span: cover(keyword.span, end) };
  }

  private parseParams(): Param[] {
    const params: Param[] = [];
    const open = this.next();
    while (this.peek().kind !== 'rparen') {
      const token = this.peek();
      if (token.kind !== 'ident') {
        this.error(token.kind === 'newline' || token.kind === 'eof' ? open.span : token.span, token.kind === 'newline' || token.kind === 'eof' ? "This parameter list has no closing ')'." : `Expected a parameter name but found '${token.text}'.`);
        this.skipUntil(['rparen', 'lbrace', 'newline']);
        if (this.peek().kind === 'rparen') this.next();
        return params;
      }
      this.next();
      const name: Name = { text: token.text, span: token.span };
      let defaultValue: Expr | undefined;
      if (this.peek().kind === 'equals') {
        this.next();
        defaultValue = this.parseExpr();
      }
      params.push({ name, ...(defaultValue ? { default: defaultValue } : {}), span: cover(name.span, defaultValue?.span ?? name.span) });
      if (this.peek().kind === 'comma') this.next();
      else if (this.peek().kind !== 'rparen') {
        const at = this.peek();
        this.error(at.kind === 'newline' || at.kind === 'eof' ? open.span : at.span, at.kind === 'newline' || at.kind === 'eof' || at.kind === 'lbrace' ? "This parameter list has no closing ')'." : `Expected ',' or ')' but found '${at.text}'.`);
        this.skipUntil(['rparen', 'lbrace', 'newline']);
        if (this.peek().kind === 'rparen') this.next();
        return params;
      }
    }
    this.next();
    return params;
  }

  /**
   * Parses statements until the closing brace. A section keyword at the start of a line followed by
   * a name and '{' is taken as the next section, so that a missing '}' is one error, not a cascade.
   */
  private parseBody(open: Span, what: string, reportAt: Span): Body {
    const statements: Statement[] = [];
    for (;;) {
      this.skipNewlines();
      const token = this.peek();
      if (token.kind === 'rbrace') {
        return { open, close: this.next().span, statements };
      }
      if (token.kind === 'eof' || this.startsSection()) {
        this.error(reportAt, `The ${what} section has no closing '}'.`);
        return { open, statements };
      }
      const statement = this.parseStatement();
      if (statement) statements.push(statement);
    }
  }

  private startsSection(): boolean {
    const token = this.peek();
    if (token.kind !== 'ident' || !isSectionKind(token.text) || !this.atLineStart(token)) return false;
    const second = this.peekAt(1);
    if (second.kind === 'lbrace') return true;
    const third = this.peekAt(2);
    return second.kind === 'ident' && (third.kind === 'lbrace' || third.kind === 'lparen');
  }

  private atLineStart(token: Token): boolean {
    const previous = this.source[token.span.start - 1];
    return previous === undefined || previous === '\n' || previous === '\r';
  }

  private parseStatement(): Statement | undefined {
    const token = this.peek();
    if (token.kind !== 'ident') {
      this.error(token.span, `Expected a statement (a layer or setting name) but found '${this.source.slice(token.span.start, token.span.end)}'.`);
      this.skipToLineEnd();
      return undefined;
    }
    this.next();
    const head: Name = { text: token.text, span: token.span };
    const args: Arg[] = [];
    let lastSpan = head.span;
    while (!this.atStatementEnd()) {
      const arg = this.parseArg();
      if (!arg) {
        this.skipToStatementEnd();
        break;
      }
      args.push(arg);
      lastSpan = arg.span;
    }
    let body: Body | undefined;
    if (this.peek().kind === 'lbrace') {
      if (this.depth >= MAX_NESTING) {
        this.tooDeep(this.peek().span);
        this.skipStray();
        this.silenced = false;
        return { head, args, span: cover(head.span, lastSpan) };
      }
      const open = this.next().span;
      this.depth++;
      body = this.parseBody(open, `'${head.text}'`, head.span);
      this.depth--;
      lastSpan = body.close ?? body.statements[body.statements.length - 1]?.span ?? open;
    }
    return { head, args, ...(body ? { body } : {}), span: cover(head.span, lastSpan) };
  }

  private atStatementEnd(): boolean {
    const kind = this.peek().kind;
    return kind === 'newline' || kind === 'eof' || kind === 'lbrace' || kind === 'rbrace';
  }

  private parseArg(): Arg | undefined {
    this.operators = 0;
    const token = this.peek();
    if (token.kind === 'ident' && this.peekAt(1).kind === 'equals') {
      this.next();
      const equals = this.next();
      const key: Name = { text: token.text, span: token.span };
      if (this.atStatementEnd()) {
        this.error(cover(token.span, equals.span), `Expected a value after '${token.text}='.`);
        return { key, value: { kind: 'missing', span: span(equals.span.end, equals.span.end) }, span: cover(token.span, equals.span) };
      }
      const value = this.parseExpr(true);
      return { key, value, span: cover(token.span, value.span) };
    }
    if (!startsExpr(token.kind)) {
      this.error(token.span, `Unexpected '${this.source.slice(token.span.start, token.span.end)}': expected a value or key=value.`);
      return undefined;
    }
    const value = this.parseExpr(true);
    return { value, span: value.span };
  }

  /**
   * In an argument list, `8 -1` is two values and `8 - 1` or `8-1` one: a sign with space before
   * it and none after starts the next argument, as the formatter keeps it written.
   */
  private parseExpr(argument = false): Expr {
    let left = this.parseTerm();
    while (this.peek().kind === 'plus' || this.peek().kind === 'minus') {
      if (argument && this.startsSignedValue(this.peek())) break;
      if (++this.operators > MAX_OPERATORS) return this.tooLong(left);
      const op = this.next().kind === 'plus' ? '+' : '-';
      const right = this.parseTerm();
      left = { kind: 'binary', op, left, right, span: cover(left.span, right.span) };
    }
    return left;
  }

  private startsSignedValue(sign: Token): boolean {
    const before = this.source[sign.span.start - 1];
    const after = this.source[sign.span.end];
    return (before === ' ' || before === '\t') && after !== undefined && after !== ' ' && after !== '\t';
  }

  private parseTerm(): Expr {
    let left = this.parseUnary();
    while (this.peek().kind === 'star' || this.peek().kind === 'slash') {
      if (++this.operators > MAX_OPERATORS) return this.tooLong(left);
      const op = this.next().kind === 'star' ? '*' : '/';
      const right = this.parseUnary();
      left = { kind: 'binary', op, left, right, span: cover(left.span, right.span) };
    }
    return left;
  }

  private parseUnary(): Expr {
    const token = this.peek();
    if (this.depth >= MAX_NESTING) {
      this.tooDeep(token.span);
      this.skipToLineEnd();
      return { kind: 'missing', span: token.span };
    }
    this.depth++;
    try {
      return this.parseSignedOrPrimary(token);
    } finally {
      this.depth--;
    }
  }

  private parseSignedOrPrimary(token: Token): Expr {
    if (token.kind === 'minus' || token.kind === 'plus') {
      this.next();
      const operand = this.parseUnary();
      return { kind: 'unary', op: token.kind === 'minus' ? '-' : '+', operand, span: cover(token.span, operand.span) };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
        this.next();
        return { kind: 'number', value: Number(token.text), span: token.span };
      case 'shape':
        this.next();
        return { kind: 'shape', dims: token.text.split('x').map(Number), span: token.span };
      case 'string':
        this.next();
        return { kind: 'string', value: token.text, span: token.span };
      case 'ident':
        this.next();
        return { kind: 'ident', name: token.text, span: token.span };
      case 'lparen':
        return this.parseParenthesised();
      case 'bad':
        // The lexer has already reported it; a missing value keeps the argument list going.
        this.next();
        return { kind: 'missing', span: token.span };
      default: {
        const at = token.kind === 'newline' || token.kind === 'eof' ? span(this.prevEnd(), this.prevEnd()) : token.span;
        this.error(at, token.kind === 'newline' || token.kind === 'eof' ? 'Expected a value at the end of the line.' : `Expected a value but found '${token.text}'.`);
        return { kind: 'missing', span: at };
      }
    }
  }

  /** `(expr)` groups; `(a, b)` and `()` are tuples. */
  private parseParenthesised(): Expr {
    const open = this.next();
    const items: Expr[] = [];
    let sawComma = false;
    while (this.peek().kind !== 'rparen') {
      if (!startsExpr(this.peek().kind)) {
        const at = this.peek();
        this.error(at.kind === 'newline' || at.kind === 'eof' ? open.span : at.span, at.kind === 'newline' || at.kind === 'eof' ? "This '(' has no closing ')'." : `Expected a value or ')' but found '${at.text}'.`);
        return { kind: 'tuple', items, span: cover(open.span, items[items.length - 1]?.span ?? open.span) };
      }
      items.push(this.parseExpr());
      if (this.peek().kind === 'comma') {
        this.next();
        sawComma = true;
      } else if (this.peek().kind !== 'rparen') {
        const at = this.peek();
        this.error(at.kind === 'newline' || at.kind === 'eof' ? open.span : at.span, at.kind === 'newline' || at.kind === 'eof' ? "This '(' has no closing ')'." : `Expected ',' or ')' but found '${at.text}'.`);
        return { kind: 'tuple', items, span: cover(open.span, items[items.length - 1]?.span ?? open.span) };
      }
    }
    const close = this.next();
    if (items.length === 1 && !sawComma) return items[0]!;
    return { kind: 'tuple', items, span: cover(open.span, close.span) };
  }

  private skipNewlines(): void {
    while (this.peek().kind === 'newline') {
      this.next();
      this.silenced = false;
    }
  }

  private tooDeep(at: Span): void {
    this.error(at, `This is nested more than ${MAX_NESTING} levels deep; Ocular skips the rest of it. Use a block or repeat instead.`);
    this.silenced = true;
  }

  private tooLong(left: Expr): Expr {
    this.error(this.peek().span, `This expression has more than ${MAX_OPERATORS} operators; Ocular skips the rest of the line. Simplify it.`);
    this.silenced = true;
    this.skipToLineEnd();
    return left;
  }

  /** Lets a section's '{' sit on the line after its header, as some people write it. */
  private skipNewlinesBefore(kind: TokenKind): void {
    let ahead = 0;
    while (this.peekAt(ahead).kind === 'newline') ahead++;
    if (this.peekAt(ahead).kind === kind) this.pos += ahead;
  }

  private skipToLineEnd(): void {
    while (this.peek().kind !== 'newline' && this.peek().kind !== 'eof') this.next();
  }

  private skipToStatementEnd(): void {
    while (!this.atStatementEnd()) this.next();
  }

  private skipUntil(kinds: readonly TokenKind[]): void {
    while (!kinds.includes(this.peek().kind) && this.peek().kind !== 'eof') this.next();
  }

  private peek(): Token {
    return this.tokens[this.pos]!;
  }

  private peekAt(ahead: number): Token {
    return this.tokens[Math.min(this.pos + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const token = this.tokens[this.pos]!;
    if (token.kind !== 'eof') this.pos++;
    return token;
  }

  private prevEnd(): number {
    return this.pos > 0 ? this.tokens[this.pos - 1]!.span.end : 0;
  }

  private error(at: Span, message: string, fixes?: Diagnostic['fixes']): void {
    if (this.silenced) return;
    this.diagnostics.push({ span: at, severity: 'error', code: 'syntax', message, ...(fixes ? { fixes } : {}) });
  }
}

function isSectionKind(text: string): text is SectionKind {
  return (SECTION_KINDS as readonly string[]).includes(text);
}

function startsExpr(kind: TokenKind): boolean {
  return kind === 'number' || kind === 'shape' || kind === 'string' || kind === 'ident' || kind === 'lparen' || kind === 'minus' || kind === 'plus' || kind === 'bad';
}

function exampleName(kind: SectionKind): string {
  return { model: 'SimpleCNN', block: 'basic(channels)', dataset: 'cifar', train: '' }[kind];
}
