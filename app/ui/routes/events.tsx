/**
 * The live queue: ext-auth's queue changes, followed under the reviewer's own credential and
 * turned into what queue.js swaps in: a rendered card for a request that (still) waits, or the
 * id of one that is gone.
 */
import { Hono } from 'hono';
import { liveStream, type LiveStreamOptions } from '../../shared/sse.js';
import type { Cards } from '../cards.js';
import type { UiEnv, UiOptions } from '../env.js';

/** Changes after which a request may still wait, so its card is rendered again. */
const STILL_WAITING = new Set(['parked', 'approval', 'joined', 'deferred']);

export function eventsApp({ admin, shutdown, log }: UiOptions, cards: Cards): Hono<UiEnv> {
  const app = new Hono<UiEnv>();
  const streamOptions: LiveStreamOptions<UiEnv> = {
    shutdown,
    // A tab reconnecting while the server stops must not hold the shutdown open.
    refusal: (c) => c.text('shutting down', 503, { connection: 'close' }),
    onError: (err) => log.warn({ err: err.message }, 'live queue stream ended'),
  };

  app.get('/events', (c) => {
    const session = c.get('session');
    const viewer = cards.viewerOf(session);
    return liveStream(c, streamOptions, async (stream, ended) => {
      await stream.write('retry: 1000\n\n');
      for await (const item of admin.events(session.credential, ended)) {
        if (item === 'ready') {
          await stream.writeSSE({ event: 'ready', data: 'ready' });
          continue;
        }
        const request = STILL_WAITING.has(item.type) ? await admin.request(session.credential, item.id).catch(() => undefined) : undefined;
        if (request?.status === 'pending') {
          const [card] = await cards.render([request], viewer);
          await stream.writeSSE({ event: 'card', data: String(await card.toString()) });
        } else {
          await stream.writeSSE({ event: 'gone', data: item.id });
        }
      }
    });
  });

  return app;
}
