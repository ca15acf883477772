/**
 * A small LSP client for tests and benchmarks: it spawns the bundled language server
 * (`node dist/server.js --stdio`) and talks JSON-RPC to it over stdio with vscode-jsonrpc, the way
 * an editor does. It records every `textDocument/publishDiagnostics` and `window/logMessage` the
 * server sends, so that tests can wait for the diagnostics of a given document version instead of
 * sleeping, and can check afterwards that no request handler failed behind the scenes.
 *
 * This module is not a test file itself; the test runner only picks up `*.test.js`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection, type RequestParam, type RequestType } from 'vscode-jsonrpc/node';
import {
  DidChangeTextDocumentNotification,
  DidCloseTextDocumentNotification,
  DidOpenTextDocumentNotification,
  ExitNotification,
  InitializedNotification,
  InitializeRequest,
  LogMessageNotification,
  PublishDiagnosticsNotification,
  ShutdownRequest,
  type InitializeResult,
  type LogMessageParams,
  type Position,
  type PublishDiagnosticsParams,
  type TextDocumentContentChangeEvent,
} from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';

/** The repository root, from out/test/protocol/ where this module runs after compilation. */
export const repoRoot = path.resolve(__dirname, '../../..');
export const serverPath = path.join(repoRoot, 'dist/server.js');

/** How long a test waits for an answer before it fails: far above any real latency, far below the runner's patience. */
const DEFAULT_TIMEOUT_MS = 10_000;

/** The `exit` notification's outcome: the server process's exit code, or null if a signal ended it. */
export type ExitCode = number | null;

interface DiagnosticsWaiter {
  readonly uri: string;
  readonly accept: (params: PublishDiagnosticsParams) => boolean;
  readonly resolve: (params: PublishDiagnosticsParams) => void;
}

export class LspClient {
  readonly process: ChildProcess;
  readonly connection: MessageConnection;
  /** Everything the server wrote to stderr: shown when a wait times out, to explain why. */
  stderr = '';
  /** Every `window/logMessage` the server sent, in order. The server logs a failed handler here. */
  readonly logs: LogMessageParams[] = [];
  private readonly published = new Map<string, PublishDiagnosticsParams[]>();
  private waiters: DiagnosticsWaiter[] = [];
  private readonly exited: Promise<ExitCode>;

  constructor(args: readonly string[] = ['--stdio']) {
    this.process = spawn(process.execPath, [serverPath, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.connection = createMessageConnection(new StreamMessageReader(this.process.stdout!), new StreamMessageWriter(this.process.stdin!));
    this.connection.onNotification(PublishDiagnosticsNotification.type, (params) => this.record(params));
    this.connection.onNotification(LogMessageNotification.type, (params) => {
      this.logs.push(params);
    });
    // A write after the server has gone fails with EPIPE; the test that caused it reports the real problem.
    this.process.stdin!.on('error', () => undefined);
    this.connection.listen();
  }

  get pid(): number {
    return this.process.pid!;
  }

  /** Sends `initialize` and then `initialized`, as an editor does before anything else. */
  async initialize(): Promise<InitializeResult> {
    const result = await this.request(InitializeRequest.type, { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null });
    await this.connection.sendNotification(InitializedNotification.type, {});
    return result;
  }

  /** Sends a request and fails after a timeout instead of hanging the test run. */
  request<P, R, E>(type: RequestType<P, R, E>, params: RequestParam<P>, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<R> {
    return this.withTimeout(this.connection.sendRequest(type, params), `${type.method} got no answer`, timeoutMs);
  }

  async open(uri: string, text: string, version = 1): Promise<void> {
    await this.connection.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'ocular', version, text } });
  }

  async change(uri: string, version: number, contentChanges: TextDocumentContentChangeEvent[]): Promise<void> {
    await this.connection.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version }, contentChanges });
  }

  async close(uri: string): Promise<void> {
    await this.connection.sendNotification(DidCloseTextDocumentNotification.type, { textDocument: { uri } });
  }

  /**
   * The diagnostics published for a document at a version, whether they arrived before this call
   * or arrive after it. Waiting by version, not for "the next" notification, keeps tests free of races.
   */
  diagnostics(uri: string, version: number, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PublishDiagnosticsParams> {
    return this.waitForDiagnostics(uri, (params) => params.version === version, `diagnostics for ${uri} version ${version}`, timeoutMs);
  }

  /** The first diagnostics, published before or after this call, for which `accept` holds. */
  waitForDiagnostics(uri: string, accept: (params: PublishDiagnosticsParams) => boolean, what: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<PublishDiagnosticsParams> {
    const earlier = this.published.get(uri)?.find(accept);
    if (earlier) return Promise.resolve(earlier);
    return this.withTimeout(new Promise((resolve) => this.waiters.push({ uri, accept, resolve })), `no ${what}`, timeoutMs);
  }

  /** Every diagnostics notification received for a document, oldest first. */
  allDiagnostics(uri: string): readonly PublishDiagnosticsParams[] {
    return this.published.get(uri) ?? [];
  }

  /** Sends `shutdown` then `exit`, and resolves with the exit code of the server process. */
  async shutdown(): Promise<ExitCode> {
    await this.withTimeout(this.connection.sendRequest(ShutdownRequest.type), 'shutdown got no answer', DEFAULT_TIMEOUT_MS);
    return this.exit();
  }

  /** Sends `exit` alone and resolves with the exit code of the server process. */
  async exit(): Promise<ExitCode> {
    await this.connection.sendNotification(ExitNotification.type);
    return this.deadline(this.exited, 'the server did not exit', DEFAULT_TIMEOUT_MS);
  }

  /** Ends the connection and kills the process if it is still running; safe to call twice. */
  dispose(): void {
    this.connection.dispose();
    if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill();
  }

  private record(params: PublishDiagnosticsParams): void {
    const list = this.published.get(params.uri) ?? [];
    list.push(params);
    this.published.set(params.uri, list);
    const ready = this.waiters.filter((w) => w.uri === params.uri && w.accept(params));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve(params);
  }

  /** Waits for an answer, but no longer than `timeoutMs`, nor past the server's death, so a crash fails at once. */
  private withTimeout<T>(promise: Promise<T>, message: string, timeoutMs: number): Promise<T> {
    const died = this.exited.then((code): never => {
      throw new Error(`${message}: the server exited with code ${code}; server stderr:\n${this.stderr}`);
    });
    // The race below may settle first; the server's later, expected exit must not count as an unhandled rejection.
    died.catch(() => undefined);
    return this.deadline(Promise.race([promise, died]), message, timeoutMs);
  }

  private deadline<T>(promise: Promise<T>, message: string, timeoutMs: number): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${message} within ${timeoutMs} ms; server stderr:\n${this.stderr}`)), timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }
}

/**
 * Splits a test text at its cursor marker `‸` (a character the language never uses): the text
 * without the marker, and the LSP position where the marker stood.
 */
export function withCursor(marked: string): { text: string; offset: number; position: Position } {
  const offset = marked.indexOf('‸');
  if (offset < 0 || marked.indexOf('‸', offset + 1) >= 0) throw new Error(`expected exactly one ‸ in ${JSON.stringify(marked)}`);
  const text = marked.slice(0, offset) + marked.slice(offset + 1);
  return { text, offset, position: positionAt(text, offset) };
}

/** The zero-based line and UTF-16 character of an offset, as LSP counts them (`\r`, `\n` and `\r\n` end lines). */
export function positionAt(text: string, offset: number): Position {
  return TextDocument.create('untitled:position', 'ocular', 0, text).positionAt(offset);
}
