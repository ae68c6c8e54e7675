/**
 * Waiting between attempts at something that may come back (a stream, a connection, a
 * gateway still starting): each failure doubles the next wait, so a peer that stays down is
 * not hammered, up to a cap, so one that returns is noticed soon.
 */
export class Backoff {
  private nextMs: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {
    this.nextMs = firstMs;
  }

  /** The wait before the next attempt; the one after is twice as long, up to the cap. */
  next(): number {
    const wait = this.nextMs;
    this.nextMs = Math.min(this.nextMs * 2, this.maxMs);
    return wait;
  }

  /** After a success, so the next failure starts again from the shortest wait. */
  reset(): void {
    this.nextMs = this.firstMs;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts, so a stopping process does not wait out a pause. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
