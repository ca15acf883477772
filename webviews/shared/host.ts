/**
 * A page's connection to its panel in the extension host, typed by the page's entry in
 * `WebviewPages` (protocol/protocol.ts): messages both ways and the state VS Code keeps while the
 * panel is hidden. Only types come from the protocol module, so nothing of Node's reaches the page.
 */
import type { PageName, WebviewPages } from '../../protocol/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

export interface HostConnection<P extends PageName> {
  post(message: WebviewPages[P]['toHost']): void;
  /** Calls `handler` with every message the host posts to this page. */
  onMessage(handler: (message: WebviewPages[P]['toPage']) => void): void;
  /** The state saved by the last `setState` of this page, or `fallback` on a first load. */
  state(fallback: WebviewPages[P]['state']): WebviewPages[P]['state'];
  setState(state: WebviewPages[P]['state']): void;
}

/**
 * Connects a page to its host. VS Code lets a page acquire its API once, so each page calls this
 * once, at start-up; `page` only selects the types.
 */
export function connect<P extends PageName>(_page: P): HostConnection<P> {
  const api = acquireVsCodeApi();
  return {
    post: (message) => api.postMessage(message),
    onMessage: (handler) => window.addEventListener('message', (event: MessageEvent) => handler(event.data as WebviewPages[P]['toPage'])),
    state: (fallback) => ({ ...fallback, ...((api.getState() as Partial<WebviewPages[P]['state']> | undefined) ?? {}) }),
    setState: (state) => api.setState(state),
  };
}
