/**
 * `ocular serve FILE|RUN_DIR [--port N] [--host H] [--token T] [--no-batching]`: serves a run's
 * best checkpoint (for a model file, its newest trained run, else its untrained seeded model)
 * over HTTP until interrupted. Prints the URL on its first stdout line, which the editor reads.
 */
import { loadServable } from '../serve/servable';
import { startServer } from '../serve/server';
import { MODEL_OR_RUN, readCommandLine, refuseCommandLine, SWITCH, text, wholeNumber } from './args';

export const SERVE_USAGE = '  ocular serve FILE|RUN_DIR [--port N] [--host H] [--token T] [--no-batching]\n                                   serve predictions over HTTP (POST /predict, /predict/batch; GET /health, /metadata)\n';

interface ServeArgs {
  readonly target: string;
  readonly port: number;
  readonly host: string;
  readonly token?: string;
  readonly batching: boolean;
}

const SERVE_OPTIONS = {
  port: wholeNumber(0, 65535, '--port takes a port number (0 picks a free one)'),
  host: text('--host takes an address'),
  token: text('--token takes the bearer token clients must send'),
  'no-batching': SWITCH,
};

/** The options with their defaults, or a message saying what is wrong with the command line. */
export function parseServeArgs(args: readonly string[]): ServeArgs | string {
  const line = readCommandLine(args, SERVE_OPTIONS, MODEL_OR_RUN);
  if (typeof line === 'string') return line;
  const { port = 8080, host = '127.0.0.1', 'no-batching': noBatching, ...rest } = line.options;
  return { target: line.target, port, host, batching: noBatching !== true, ...rest };
}

export async function serveCommand(args: readonly string[]): Promise<number> {
  const options = parseServeArgs(args);
  if (typeof options === 'string') return refuseCommandLine('serve', options, SERVE_USAGE);
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
