import type { Span } from './syntax/span';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** A place elsewhere in the file that explains a diagnostic, such as the block a shape error happened in. */
export interface RelatedLocation {
  readonly span: Span;
  readonly message: string;
}

/**
 * A replacement a quick fix can apply. `span` is replaced by `text`; an empty span inserts.
 * Fixes are plain data so that every front end (LSP code actions, the CLI) can offer them.
 */
export interface Fix {
  readonly title: string;
  readonly edits: readonly { readonly span: Span; readonly text: string }[];
}

export interface Diagnostic {
  readonly span: Span;
  readonly severity: Severity;
  readonly message: string;
  /** A stable identifier for the kind of problem, such as `unknown-layer` or `shape`. */
  readonly code: string;
  readonly related?: readonly RelatedLocation[];
  readonly fixes?: readonly Fix[];
}
