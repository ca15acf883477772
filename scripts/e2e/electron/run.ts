/**
 * Runs the end-to-end scenarios inside a desktop VS Code downloaded by @vscode/test-electron,
 * with this repository as the extension under development. `npm run test:electron`.
 *
 * This needs internet access (to download VS Code) and a display (use `xvfb-run -a npm run
 * test:electron` on a headless Linux). CI runs the same scenarios in code-server instead
 * (`npm run test:e2e`), where no download is possible.
 *
 * Environment: OCULAR_VSCODE_VERSION (default 'stable'; e.g. '1.91.0' for the oldest supported).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  // out/e2e-electron/run.js → the repository root.
  const repoRoot = path.resolve(__dirname, '..', '..');
  const scratch = mkdtempSync(path.join(tmpdir(), 'ocular-electron-'));
  const workspace = path.join(scratch, 'workspace');
  // The scenarios edit files: they work on a copy of the examples, never on the repository.
  cpSync(path.join(repoRoot, 'examples'), workspace, { recursive: true });
  try {
    await runTests({
      version: process.env.OCULAR_VSCODE_VERSION ?? 'stable',
      // The download goes to the git-ignored .e2e/ folder, beside code-server's cache.
      cachePath: path.join(repoRoot, '.e2e', 'vscode-test'),
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: path.join(__dirname, 'suite', 'index.js'),
      launchArgs: [
        workspace,
        // Fresh user data and no other extensions: nothing from the contributor's own setup.
        `--user-data-dir=${path.join(scratch, 'user-data')}`,
        `--extensions-dir=${path.join(scratch, 'extensions')}`,
        '--disable-extensions',
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
      ],
      extensionTestsEnv: { OCULAR_E2E_WORKSPACE: workspace },
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
