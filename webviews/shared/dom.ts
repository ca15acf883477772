/**
 * Building DOM for pages that show untrusted text (class and file names come from folder names):
 * text only ever goes in through `textContent` or attributes, never through HTML parsing, so a
 * folder named `<img src=x onerror=…>` is shown literally and runs nothing.
 */

export interface ElementOptions {
  readonly className?: string;
  /** Set as `textContent`. */
  readonly text?: string;
  /** Set with `setAttribute` (a value is never parsed as HTML). */
  readonly attributes?: Readonly<Record<string, string>>;
}

/** A new element with its class, text and attributes, holding `children` in order. */
export function element<K extends keyof HTMLElementTagNameMap>(tag: K, options: ElementOptions = {}, children: readonly Node[] = []): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (options.className) node.className = options.className;
  if (options.text !== undefined) node.textContent = options.text;
  for (const [name, value] of Object.entries(options.attributes ?? {})) node.setAttribute(name, value);
  for (const child of children) node.appendChild(child);
  return node;
}
