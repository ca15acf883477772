/**
 * One request at a time for a panel: starting one cancels the one before, and the answer of a
 * cancelled request is dropped, so a page never shows what it no longer asked for.
 */
import * as vscode from 'vscode';

/** A request's value, or the message of the error it failed with. */
export type Answer<T> = { readonly value: T } | { readonly error: string };

export class LatestRequest {
  private source: vscode.CancellationTokenSource | undefined;

  /**
   * Cancels the request before and runs `work` with a fresh token. Resolves to its answer, or to
   * undefined when a later request or `cancel` came first, whether it then succeeded or failed.
   */
  async run<T>(work: (token: vscode.CancellationToken) => Thenable<T>): Promise<Answer<T> | undefined> {
    this.source?.cancel();
    const source = (this.source = new vscode.CancellationTokenSource());
    try {
      const value = await work(source.token);
      return source.token.isCancellationRequested ? undefined : { value };
    } catch (error) {
      return source.token.isCancellationRequested ? undefined : { error: error instanceof Error ? error.message : String(error) };
    }
  }

  cancel(): void {
    this.source?.cancel();
  }
}
