/**
 * `hitl ui`: the platform reviewers' queue. Pages are rendered here; every read and every
 * decision goes to the ext-auth admin API under the signed-in reviewer's own credential, so
 * ext-auth, not this page, decides who may approve what and records who did.
 *
 * The app is its parts mounted in order: what anyone may fetch (assets, the sign-in page),
 * then, behind `requireSession` and `requireCsrf`, the queue, the history and the live stream.
 */
import { Hono } from 'hono';
import { deleteCookie } from 'hono/cookie';
import { securityHeaders } from '../shared/security-headers.js';
import { serveStaticFiles } from '../shared/static-files.js';
import { AdminError } from '../shared/admin-client.js';
import { Cards } from './cards.js';
import { SESSION_COOKIE, type UiEnv, type UiOptions } from './env.js';
import { refuseCrossSitePosts, requireCsrf, requireSession } from './require-session.js';
import { eventsApp } from './routes/events.js';
import { historyApp } from './routes/history.js';
import { queueApp } from './routes/queue.js';
import { signInApp, signOutApp } from './routes/sign-in.js';
import { Page } from './views/layout.js';

export function uiApp(options: UiOptions): Hono {
  const cards = new Cards(options.previews, options.sealer);
  // Stryker disable StringLiteral: Hono mounts an app at '' exactly as at '/', so every route answers the same either way
  const reviewerPages = new Hono<UiEnv>()
    .use(requireSession(options))
    .use(requireCsrf(options.sealer))
    .route('/', queueApp(options, cards))
    .route('/', historyApp(options, cards))
    .route('/', eventsApp(options, cards))
    .route('/', signOutApp(options));
  // Stryker restore StringLiteral

  const app = new Hono();
  app.use(securityHeaders);
  app.get('/assets/:name', serveStaticFiles(options.assets));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.use(refuseCrossSitePosts);
  // Stryker disable StringLiteral: as above, '' mounts as '/'
  app.route('/', signInApp(options));
  app.route('/', reviewerPages);
  // Stryker restore StringLiteral

  app.onError((err, c) => {
    if (err instanceof AdminError && err.status === 401 && !options.proxy) {
      // The token was revoked or the session ended: start again.
      // Stryker disable next-line ObjectLiteral: Hono's cookie helpers default the path to '/', so the cookie is cleared for the whole site either way
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.req.method === 'GET' ? c.redirect('/sign-in', 303) : c.text('sign in again', 401);
    }
    const notFound = err instanceof AdminError && err.status === 404;
    options.log.error({ err: err.message, path: c.req.path }, 'page failed');
    const text = notFound ? err.message : `The approval gate could not be reached: ${err.message}`;
    return c.html(
      <Page title="Problem">
        <h1>Something went wrong</h1>
        <p class="notice error" role="alert">
          {text}
        </p>
        <p>
          <a href="/">Back to the queue</a>
        </p>
      </Page>,
      notFound ? 404 : 502,
    );
  });

  return app;
}
