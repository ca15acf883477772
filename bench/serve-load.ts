/**
 * A loopback load generator for the prediction server, shared by the server's load test and
 * bench/serve.ts: `clients` concurrent clients each POST the same image to /predict, one request
 * after another, until `seconds` have passed. Each request gives up after REQUEST_TIMEOUT_MS
 * (counted as a failure), so a run ends at most that long after its deadline.
 */

/** How long one request may take before it counts as a failure. */
export const REQUEST_TIMEOUT_MS = 10_000;
export interface LoadResult {
  readonly answered: number;
  /** Each failed request's status and body. */
  readonly failures: readonly string[];
  /** Each answered request's latency, in milliseconds. */
  readonly latenciesMs: readonly number[];
  readonly seconds: number;
}

export async function loadTest(url: string, options: { readonly clients: number; readonly seconds: number; readonly body: Buffer; readonly headers: Record<string, string> }): Promise<LoadResult> {
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  const latenciesMs: number[] = [];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: options.clients }, async () => {
      while (performance.now() < deadline) {
        const sent = performance.now();
        try {
          const response = await fetch(`${url}/predict`, { method: 'POST', body: options.body, headers: options.headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
          const text = await response.text();
          if (response.status === 200) latenciesMs.push(performance.now() - sent);
          else failures.push(`${response.status} ${text}`);
        } catch (error) {
          failures.push(`no answer: ${(error as Error).message}`);
        }
      }
    }),
  );
  return { answered: latenciesMs.length, failures, latenciesMs, seconds: (performance.now() - start) / 1000 };
}

/** The q-quantile (0–1) of some values, by the nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}
