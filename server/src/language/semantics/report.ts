/**
 * Collects diagnostics during analysis. A statement inside a block is checked once per call, so
 * the same problem can be found many times; the collector keeps one copy of each.
 */
import type { Diagnostic, Fix, RelatedLocation, Severity } from '../diagnostics';
import type { Span } from '../syntax/span';

export class DiagnosticSink {
  private readonly seen = new Set<string>();
  readonly diagnostics: Diagnostic[] = [];

  add(diagnostic: Diagnostic): void {
    const key = `${diagnostic.span.start}:${diagnostic.span.end}:${diagnostic.message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.diagnostics.push(diagnostic);
  }

  report(severity: Severity, code: string, span: Span, message: string, extra: { fixes?: readonly Fix[]; related?: readonly RelatedLocation[] } = {}): void {
    this.add({ span, severity, code, message, ...extra });
  }
}

/**
 * Where a problem found while expanding a model is shown. Inside a block call, a problem that
 * depends on the call's arguments is shown on the call in the model (where the user can see and
 * change the arguments), with the line inside the block as related information.
 */
export interface CallSite {
  readonly span: Span;
  /** The call as written, such as `basic 128 stride=2`, for messages. */
  readonly label: string;
}

export function reportAt(sink: DiagnosticSink, callSite: CallSite | undefined, dependsOnCall: boolean, severity: Severity, code: string, span: Span, message: string, fixes?: readonly Fix[]): void {
  if (callSite && dependsOnCall) {
    sink.report(severity, code, callSite.span, `In '${callSite.label}': ${message}`, { related: [{ span, message: 'Inside the block, here.' }] });
  } else {
    sink.report(severity, code, span, message, fixes ? { fixes } : {});
  }
}
