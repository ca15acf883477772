/**
 * The end-to-end scenarios of test/e2e/ocular.e2e.mjs, through the VS Code API instead of the
 * DOM: the same example, the same edits, the same expectations.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXAMPLE = 'simple_cnn_cifar.ocular';
const MODEL = 'SimpleCNN32';
const EXTENSION_ID = 'ocular.ocular';

export interface Scenario {
  readonly name: string;
  readonly fn: () => Promise<void>;
}

function exampleUri(): vscode.Uri {
  const folder = process.env.OCULAR_E2E_WORKSPACE ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) throw new Error('no workspace: run through `npm run test:electron`');
  return vscode.Uri.file(path.join(folder, EXAMPLE));
}

/** Calls `fn` until it returns something truthy, or fails after `timeoutMs` saying `what`. */
async function poll<T>(what: string, fn: () => T | PromiseLike<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function openExample(): Promise<vscode.TextEditor> {
  const document = await vscode.workspace.openTextDocument(exampleUri());
  return vscode.window.showTextDocument(document);
}

/** The position of `word` on the first line whose text starts (after indentation) with `lineStart`. */
function positionOf(document: vscode.TextDocument, lineStart: string, word: string): vscode.Position {
  for (let line = 0; line < document.lineCount; line += 1) {
    const text = document.lineAt(line).text;
    if (text.trimStart().startsWith(lineStart)) {
      const column = text.indexOf(word);
      assert.ok(column >= 0, `'${word}' is not on the line '${text}'`);
      return new vscode.Position(line, column);
    }
  }
  throw new Error(`no line starts with '${lineStart}'`);
}

function hoverText(hovers: readonly vscode.Hover[]): string {
  return hovers
    .flatMap((hover) => hover.contents)
    .map((content) => (typeof content === 'string' ? content : content.value))
    .join('\n');
}

function hintLabel(hint: vscode.InlayHint): string {
  return typeof hint.label === 'string' ? hint.label : hint.label.map((part) => part.value).join('');
}

async function replaceWord(editor: vscode.TextEditor, lineStart: string, from: string, to: string): Promise<void> {
  const start = positionOf(editor.document, lineStart, from);
  const done = await editor.edit((edit) => edit.replace(new vscode.Range(start, start.translate(0, from.length)), to));
  assert.ok(done, `could not replace '${from}' with '${to}'`);
}

const unknownLayer = (uri: vscode.Uri) =>
  vscode.languages.getDiagnostics(uri).find((d) => d.message.includes("Unknown layer 'rleu'"));

export const scenarios: Scenario[] = [
  {
    name: 'activation: opening an .ocular file starts the extension and its language server',
    fn: async () => {
      const editor = await openExample();
      assert.equal(editor.document.languageId, 'ocular');
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `${EXTENSION_ID} is not installed`);
      await poll(`${EXTENSION_ID} to activate`, () => extension.isActive);
      // The server's answer: the example's dataset folders do not exist in the test workspace.
      await poll('diagnostics from the language server', () => vscode.languages.getDiagnostics(editor.document.uri).length > 0);
    },
  },
  {
    name: 'colours: keywords, layers and shapes get distinct TextMate scopes',
    fn: async () => {
      const editor = await openExample();
      // The command VS Code's own colorizer tests use: the tokens with their scopes and colours.
      type Token = { c: string; t: string; r?: Record<string, string> };
      const tokens = (await vscode.commands.executeCommand<Token[]>('_workbench.captureSyntaxTokens', editor.document.uri)) ?? [];
      const scopeOf = (text: string) => tokens.find((token) => token.c.trim() === text)?.t ?? '';
      const scopes = { model: scopeOf('model'), conv: scopeOf('conv'), shape: scopeOf('3x32x32') };
      for (const [word, scope] of Object.entries(scopes)) {
        assert.ok(scope && scope.trim() !== 'source.ocular', `'${word}' has no scope of its own: '${scope}'`);
      }
      assert.equal(new Set(Object.values(scopes)).size, 3, `model, conv and 3x32x32 share scopes: ${JSON.stringify(scopes)}`);
    },
  },
  {
    name: 'hover: a layer shows its output shape and parameter count',
    fn: async () => {
      const { document } = await openExample();
      const position = positionOf(document, 'conv 32', 'conv');
      const text = await poll('a hover on conv 32', async () =>
        hoverText((await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', document.uri, position)) ?? []),
      );
      assert.match(text, /32×32×32/);
      assert.match(text, /\b896\b/);
    },
  },
  {
    name: 'inlay hints: every layer shows its output shape at the end of its line',
    fn: async () => {
      const { document } = await openExample();
      const whole = new vscode.Range(0, 0, document.lineCount, 0);
      const hints = await poll('inlay hints', async () => {
        const found = await vscode.commands.executeCommand<vscode.InlayHint[]>('vscode.executeInlayHintProvider', document.uri, whole);
        return found && found.length > 0 ? found : undefined;
      });
      const on = (lineStart: string) => {
        const line = positionOf(document, lineStart, lineStart.split(' ')[0] ?? lineStart).line;
        return hints.filter((hint) => hint.position.line === line).map(hintLabel).join(' ');
      };
      assert.match(on('conv 32'), /32×32×32/);
      assert.match(on('conv 32'), /896 params/);
      assert.match(on('maxpool 2'), /32×16×16/);
      assert.match(on('flatten'), /4096/);
    },
  },
  {
    name: 'outline: the document symbols list the model and its layers',
    fn: async () => {
      const { document } = await openExample();
      const symbols = await poll('document symbols', () =>
        vscode.commands.executeCommand<vscode.DocumentSymbol[]>('vscode.executeDocumentSymbolProvider', document.uri),
      );
      const model = symbols.find((symbol) => symbol.name === MODEL);
      assert.ok(model, `no symbol ${MODEL} among ${symbols.map((s) => s.name).join(', ')}`);
      const children = model.children.map((child) => child.name);
      for (const layer of ['input 3x32x32', 'conv 32', 'relu', 'maxpool 2', 'conv 64', 'flatten', 'dense 512', 'dropout']) {
        assert.ok(children.some((name) => name.startsWith(layer)), `the outline of ${MODEL} lacks '${layer}': ${children.join(', ')}`);
      }
    },
  },
  {
    name: 'typo: a misspelt layer gets an error diagnostic, gone once fixed',
    fn: async () => {
      const editor = await openExample();
      const uri = editor.document.uri;
      try {
        await replaceWord(editor, 'relu', 'relu', 'rleu');
        const diagnostic = await poll("the diagnostic for 'rleu'", () => unknownLayer(uri));
        assert.equal(diagnostic.severity, vscode.DiagnosticSeverity.Error);
        assert.match(diagnostic.message, /did you mean 'relu'/);
        assert.equal(diagnostic.range.start.line, positionOf(editor.document, 'rleu', 'rleu').line);
        await replaceWord(editor, 'rleu', 'rleu', 'relu');
        await poll("the diagnostic for 'rleu' to go", () => !unknownLayer(uri));
      } finally {
        await vscode.commands.executeCommand('workbench.action.files.revert');
      }
    },
  },
  {
    name: 'command palette: Ocular: Show Model Summary runs',
    fn: async () => {
      const editor = await openExample();
      editor.selection = new vscode.Selection(positionOf(editor.document, 'conv 32', 'conv'), positionOf(editor.document, 'conv 32', 'conv'));
      const commands = await vscode.commands.getCommands(true);
      assert.ok(commands.includes('ocular.showModelSummary'), 'the command ocular.showModelSummary is not registered');
      await vscode.commands.executeCommand('ocular.showModelSummary');
    },
  },
];
