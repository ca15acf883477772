/**
 * The extension host side of Ocular: starts the language server and wires the commands.
 *
 * Everything that understands `.ocular` files lives in the server; this module only connects
 * VS Code to it and turns custom protocol answers into editor UI.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { ModelSummaryRequest } from '../../protocol/protocol';
import { AugmentPreviews } from './augment-preview';
import { DatasetsView } from './datasets';
import { downloadDatasetCommand } from './download';
import { Galleries } from './gallery';
import { registerResults } from './results/commands';
import { Training } from './training';
import { Shipping } from './ship';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // The server's log and the model summaries go to separate channels: a log channel stamps
  // every line with a time, which would break the summary's table.
  const output = vscode.window.createOutputChannel('Ocular', { log: true });
  const summaries = vscode.window.createOutputChannel('Ocular Model Summary');
  context.subscriptions.push(output, summaries);

  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.stdio },
    debug: { module: serverModule, transport: TransportKind.stdio, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [{ language: 'ocular' }],
    outputChannel: output,
    synchronize: { configurationSection: 'ocular' },
  };
  client = new LanguageClient('ocular', 'Ocular Language Server', serverOptions, clientOptions);

  context.subscriptions.push(
    vscode.commands.registerCommand('ocular.showModelSummary', () => showModelSummary(summaries)),
    vscode.commands.registerCommand('ocular.restartServer', () => client?.restart()),
    vscode.commands.registerCommand('ocular.downloadDataset', downloadDatasetCommand),
  );
  await client.start();
  const datasets = new DatasetsView(client);
  context.subscriptions.push(datasets, vscode.window.createTreeView('ocularDatasets', { treeDataProvider: datasets }));
  context.subscriptions.push(new Galleries(client, context.extensionUri), new AugmentPreviews(client, context.extensionUri));
  context.subscriptions.push(...registerResults(client, context.extensionUri));
  context.subscriptions.push(new Training(client));
  context.subscriptions.push(new Shipping(context.extensionPath));
}

export async function deactivate(): Promise<void> {
  await client?.stop();
  client = undefined;
}

/** Prints the model under the cursor as a layer table into the Ocular output channel. */
async function showModelSummary(output: vscode.OutputChannel): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!client || !editor || editor.document.languageId !== 'ocular') {
    void vscode.window.showInformationMessage('Open an .ocular file to see its model summary.');
    return;
  }
  const summary = await client.sendRequest(ModelSummaryRequest, {
    uri: editor.document.uri.toString(),
    line: editor.selection.active.line,
  });
  if (!summary) {
    void vscode.window.showWarningMessage('No model in this file can be summarised yet: fix the errors shown in the Problems panel.');
    return;
  }
  output.appendLine(summary.text);
  output.show(true);
}
