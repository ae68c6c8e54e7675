/** Latency percentiles and throughput from a list of per-request durations. */
export interface LatencySummary {
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

export function summarise(durationsMs: number[], wallMs: number): LatencySummary {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { requests: sorted.length, seconds: wallMs / 1000, perSecond: (sorted.length / wallMs) * 1000, p50: at(0.5), p99: at(0.99) };
}

/** Runs `total` calls of `once` with `concurrency` in flight and times each one. */
export async function drive(concurrency: number, total: number, once: () => Promise<void>): Promise<LatencySummary> {
  const durations: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t = performance.now();
        await once();
        durations.push(performance.now() - t);
      }
    }),
  );
  return summarise(durations, performance.now() - started);
}

export const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`;
export const rate = (n: number) => `${Math.round(n).toLocaleString('en')}/s`;
