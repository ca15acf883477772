/**
 * `ocular serve FILE|RUN_DIR [--port N] [--host H] [--token T] [--no-batching]`: serves a run's
 * best checkpoint (for a model file, its newest trained run, else its untrained seeded model)
 * over HTTP until interrupted. Prints the URL on its first stdout line, which the editor reads.
 */
import { loadServable } from '../serve/servable';
import { startServer } from '../serve/server';

export const SERVE_USAGE = '  ocular serve FILE|RUN_DIR [--port N] [--host H] [--token T] [--no-batching]\n                                   serve predictions over HTTP (POST /predict, /predict/batch; GET /health, /metadata)\n';

interface ServeArgs {
  readonly target: string;
  readonly port: number;
  readonly host: string;
  readonly token?: string;
  readonly batching: boolean;
}

export function parseServeArgs(args: readonly string[]): ServeArgs | string {
  let target: string | undefined;
  let port = 8080;
  let host = '127.0.0.1';
  let token: string | undefined;
  let batching = true;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--port') {
      port = Number(args[++i]);
      if (!Number.isInteger(port) || port < 0 || port > 65535) return '--port takes a port number (0 picks a free one)';
    } else if (arg === '--host') {
      const value = args[++i];
      if (!value) return '--host takes an address';
      host = value;
    } else if (arg === '--token') {
      token = args[++i];
      if (!token) return '--token takes the bearer token clients must send';
    } else if (arg === '--no-batching') {
      batching = false;
    } else if (arg.startsWith('--')) {
      return `unknown option ${arg}`;
    } else if (target === undefined) {
      target = arg;
    } else {
      return `one model file or run folder, not '${target}' and '${arg}'`;
    }
  }
  if (target === undefined) return 'give a model file or a run folder';
  return { target, port, host, batching, ...(token ? { token } : {}) };
}

export async function serveCommand(args: readonly string[]): Promise<number> {
  const options = parseServeArgs(args);
  if (typeof options === 'string') {
    process.stderr.write(`ocular serve: ${options}\nUsage:\n${SERVE_USAGE}`);
    return 2;
  }
  try {
    const servable = await loadServable(options.target);
    const running = await startServer(
      {
        name: servable.model.name,
        preprocessing: servable.preprocessing,
        backend: servable.backend,
        weightsSource: servable.weightsSource,
        predict: (images) => servable.engineModel.predict(images),
      },
      { host: options.host, port: options.port, maxBatch: options.batching ? 32 : 1, ...(options.token ? { token: options.token } : {}) },
    );
    process.stdout.write(`Serving ${servable.model.name} at ${running.url}\n`);
    process.stderr.write(`weights: ${servable.weightsSource}; backend ${servable.backend}; POST ${running.url}/predict with an image\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.close();
    servable.engineModel.dispose();
    return 0;
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    process.stderr.write(`ocular serve: error: ${message}\n`);
    return 1;
  }
}
