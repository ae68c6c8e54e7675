/**
 * Live event streams (text/event-stream) as every service serves them. A comment goes out
 * every 15 s because proxies and browsers close a stream that stays silent; every stream ends
 * when its client leaves or the server stops, so stopping need not wait for open tabs, and a
 * stream asked for while the server stops is refused rather than held.
 */
import type { Context, Env } from 'hono';
import { streamSSE, type SSEStreamingApi } from 'hono/streaming';

const KEEP_ALIVE_MS = 15_000;

export interface LiveStreamOptions<E extends Env> {
  /** Aborted when the server stops. */
  shutdown: AbortSignal;
  /** The answer to a stream asked for once the server is stopping. */
  refusal: (c: Context<E>) => Response;
  /** A failure of the stream's own work; its ending because the client left is not one. */
  onError: (err: Error) => void;
}

/**
 * Streams what `run` writes. `ended` aborts when the client leaves or the server stops; `run`
 * returns then, and whatever it throws after that moment is the stream ending, not a failure.
 */
export function liveStream<E extends Env>(
  c: Context<E>,
  options: LiveStreamOptions<E>,
  run: (stream: SSEStreamingApi, ended: AbortSignal) => Promise<void>,
): Response {
  if (options.shutdown.aborted) return options.refusal(c);
  return streamSSE(
    c,
    async (stream) => {
      const ending = new AbortController();
      const end = () => ending.abort();
      stream.onAbort(end);
      options.shutdown.addEventListener('abort', end, { once: true });
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      try {
        await run(stream, ending.signal);
      } catch (err) {
        if (!ending.signal.aborted) throw err;
      } finally {
        clearInterval(keepAlive);
        options.shutdown.removeEventListener('abort', end);
      }
    },
    async (err) => options.onError(err),
  );
}

/** Resolves once `signal` aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
