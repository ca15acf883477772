/**
 * The entry VS Code loads into its extension host (`extensionTestsPath`): runs the scenarios one
 * after the other and fails (VS Code exits non-zero) when any of them fails.
 */
import { scenarios } from './scenarios';

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const { name, fn } of scenarios) {
    const started = Date.now();
    try {
      await fn();
      console.log(`✔ ${name} (${Date.now() - started} ms)`);
    } catch (error) {
      failures.push(name);
      console.error(`✖ ${name} (${Date.now() - started} ms)`);
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    }
  }
  console.log(`ℹ tests ${scenarios.length}\nℹ pass ${scenarios.length - failures.length}\nℹ fail ${failures.length}`);
  if (failures.length > 0) throw new Error(`${failures.length} scenario(s) failed: ${failures.join('; ')}`);
}
