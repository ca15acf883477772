/**
 * The HTML shell of every webview page: the page's bundled script and stylesheet from
 * dist/webviews/ under a strict Content-Security-Policy. It is pure (no VS Code import) so the
 * headless-Chromium page tests load pages through exactly this shell and this policy.
 */
import { randomBytes } from 'node:crypto';

export interface PageShell {
  /** The page's folder name under webviews/, also its bundle name. */
  readonly page: string;
  readonly title: string;
  /** `webview.cspSource`: the origin VS Code serves local resources from. */
  readonly cspSource: string;
  /** URIs of dist/webviews/<page>.js and .css as the webview must load them. */
  readonly scriptUri: string;
  readonly styleUri: string;
  /** A fresh value per load (see `nonce()`): only the script carrying it runs. */
  readonly nonce: string;
}

/** A random nonce for one page load: 128 bits, base64. */
export function nonce(): string {
  return randomBytes(16).toString('base64');
}

/**
 * The policy: nothing by default; scripts only with the nonce; styles and images only from the
 * webview's own resource origin (images also as `data:` URIs the host made). No network source
 * appears, so a page cannot load or send anything off the machine.
 */
export function contentSecurityPolicy(cspSource: string, nonceValue: string): string {
  return [`default-src 'none'`, `script-src 'nonce-${nonceValue}'`, `style-src ${cspSource}`, `img-src ${cspSource} data:`, `font-src ${cspSource}`].join('; ');
}

const escapeAttribute = (value: string): string => value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function pageHtml(shell: PageShell): string {
  const attr = escapeAttribute;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(shell.cspSource, shell.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${attr(shell.title)}</title>
<link rel="stylesheet" href="${attr(shell.styleUri)}">
</head>
<body data-page="${attr(shell.page)}">
<script nonce="${attr(shell.nonce)}" src="${attr(shell.scriptUri)}"></script>
</body>
</html>
`;
}
