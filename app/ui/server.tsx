/**
 * `hitl ui`: the platform reviewers' queue. Pages are rendered here; every read and every
 * decision goes to the ext-auth admin API under the signed-in reviewer's own credential, so
 * ext-auth, not this page, decides who may approve what and records who did.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { streamSSE } from 'hono/streaming';
import type { Logger } from '../shared/log.js';
import { securityHeaders } from '../shared/security-headers.js';
import { serveStaticFiles, type StaticFile } from '../shared/static-files.js';
import { ENDED_STATUSES, type ApprovalRequest, type Status } from '../contracts/admin-api.js';
import { AdminError, type AdminClient } from './admin-client.js';
import type { MigrationPreviews } from './migration-preview.js';
import { returnPath } from './return-path.js';
import type { Credential, Session, SessionSealer } from './session.js';
import { RequestCard, type CardProps } from './views/card.js';
import { noLongerWaiting } from './views/format.js';
import { HistoryPage } from './views/history.js';
import type { Viewer } from './views/layout.js';
import { Page } from './views/layout.js';
import { QueuePage } from './views/queue.js';
import { SignInPage } from './views/sign-in.js';

export interface UiOptions {
  admin: AdminClient;
  previews: MigrationPreviews;
  sealer: SessionSealer;
  assets: Map<string, StaticFile>;
  sessionTtlMs: number;
  /** A session unused this long has ended. */
  sessionIdleMs: number;
  /** Mark cookies Secure (the UI is served over HTTPS). */
  secureCookies: boolean;
  /** Set when an authenticating proxy in front of the UI names the reviewer. */
  proxy?: { identityHeader: string; groupsHeader: string };
  /** Ends every live queue stream, so stopping the server need not wait for open tabs. */
  shutdown: AbortSignal;
  log: Logger;
}

type Env = { Variables: { session: Session } };
type Notice = { kind: 'error' | 'info'; text: string };

const SESSION_COOKIE = 'hitl_session';
const FLASH_COOKIE = 'hitl_flash';
const HISTORY_PAGE = 50;
const KEEP_ALIVE_MS = 15_000;

export function uiApp(options: UiOptions): Hono {
  const { admin, previews, sealer, log } = options;
  const app = new Hono<Env>();

  app.use(securityHeaders);
  app.get('/assets/:name', serveStaticFiles(options.assets));
  app.get('/favicon.ico', (c) => c.body(null, 204));

  // Refuse cross-site form posts outright; the CSRF token below is the second lock.
  app.use(async (c, next) => {
    const site = c.req.header('sec-fetch-site');
    if (c.req.method === 'POST' && site && site !== 'same-origin' && site !== 'none') {
      return c.text('cross-site requests are refused', 403);
    }
    await next();
  });

  const ownOrigin = (c: Context) => new URL(c.req.url).origin;
  app.get('/sign-in', (c) => (options.proxy ? c.redirect('/') : c.html(<SignInPage next={returnPath(c.req.query('next'), ownOrigin(c))} />)));

  app.post('/sign-in', async (c) => {
    if (options.proxy) return c.redirect('/', 303);
    const form = await c.req.parseBody();
    const next = returnPath(form.next, ownOrigin(c));
    const token = typeof form.token === 'string' ? form.token.trim() : '';
    if (!token) return c.html(<SignInPage next={next} problem="Enter your reviewer token." />, 400);
    let opened;
    try {
      const limits = { ttlSeconds: Math.ceil(options.sessionTtlMs / 1000), idleSeconds: Math.ceil(options.sessionIdleMs / 1000) };
      opened = await admin.openSession({ kind: 'bearer', token }, limits);
    } catch (err) {
      if (err instanceof AdminError && err.status === 401 && !options.proxy) {
        return c.html(<SignInPage next={next} problem="That token was not accepted." />, 401);
      }
      throw err;
    }
    const name = opened.reviewer;
    const credential: Credential = { kind: 'bearer', token, session: opened.id };
    const session = sealer.newSession(name, credential, options.sessionTtlMs);
    setCookie(c, SESSION_COOKIE, sealer.seal(session), cookieOptions(options, options.sessionTtlMs));
    log.info({ reviewer: name }, 'reviewer signed in');
    return c.redirect(next, 303);
  });

  app.use(async (c, next) => {
    const session = sessionOf(c, options);
    if (!session) {
      if (options.proxy) return c.text(`no reviewer identity: the authenticating proxy must set ${options.proxy.identityHeader}`, 401);
      if (c.req.method === 'GET' && !c.req.header('hx-request') && c.req.path !== '/events') {
        return c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''))}`, 303);
      }
      return c.text('sign in first', 401);
    }
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      if (!sealer.checkCsrf(session.id, form._csrf)) return c.text('the form is missing its CSRF token or it is wrong; reload the page', 403);
    }
    c.set('session', session);
    await next();
  });

  const viewerOf = (session: Session): Viewer => ({ name: session.reviewer, csrf: sealer.csrfToken(session.id) });

  async function cardsFor(requests: ApprovalRequest[], viewer: Viewer, notices: Map<string, Notice> = new Map()) {
    const targets = requests.filter((r) => r.toolName === 'run_migration').map((r) => r.toolArgs.version);
    const plans = targets.length ? await previews.previewsFor(targets) : new Map();
    const now = Date.now();
    return requests.map((request) => {
      const props: CardProps = { request, viewer, now, notice: notices.get(request.id) };
      if (request.toolName === 'run_migration') props.preview = plans.get(request.toolArgs.version);
      return <RequestCard {...props} />;
    });
  }

  app.get('/', async (c) => {
    const session = c.get('session');
    const viewer = viewerOf(session);
    const flash = sealer.open<Notice>(getCookie(c, FLASH_COOKIE));
    if (flash) deleteCookie(c, FLASH_COOKIE, { path: '/' });
    const cards = await cardsFor(await admin.pending(session.credential), viewer);
    return c.html(<QueuePage viewer={viewer} cards={cards} flash={flash} />);
  });

  // What queue.js reconciles against when its live stream (re)connects: the ids waiting now,
  // then the cards it lacks, so a deep queue is not re-rendered on every reconnect.
  app.get('/pending-ids', async (c) => c.json((await admin.pending(c.get('session').credential)).map((r) => r.id)));

  app.get('/cards', async (c) => {
    const session = c.get('session');
    const wanted = new Set(c.req.queries('id') ?? []);
    const pending = (await admin.pending(session.credential)).filter((r) => wanted.has(r.id));
    return c.html(<>{await cardsFor(pending, viewerOf(session))}</>);
  });

  app.get('/requests/:id', async (c) => {
    const session = c.get('session');
    const viewer = viewerOf(session);
    const request = await admin.request(session.credential, c.req.param('id'));
    const body =
      request.status === 'pending' ? (
        (await cardsFor([request], viewer))[0]
      ) : (
        <p class="notice info">
          {noLongerWaiting(request)} See the <a href="/history">history</a>.
        </p>
      );
    return c.html(
      <Page title={request.toolName} viewer={viewer} current="queue" scripts={['queue.js']}>
        <h1>Request {request.id}</h1>
        {body}
      </Page>,
    );
  });

  app.post('/decide/:id', async (c) => {
    const session = c.get('session');
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const decision = form.decision;
    const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
    let notice: Notice;
    if (decision !== 'approve' && decision !== 'reject') {
      notice = { kind: 'error', text: 'Choose Approve or Reject.' };
    } else {
      try {
        await admin.decide(session.credential, id, decision === 'approve', reason);
        notice = { kind: 'info', text: `${decision === 'approve' ? 'Approved' : 'Rejected'}.` };
      } catch (err) {
        if (!(err instanceof AdminError) || err.status === 401 || err.status >= 500) throw err;
        notice = { kind: 'error', text: err.message };
      }
    }
    log.info({ reviewer: session.reviewer, id, decision, outcome: notice.kind }, 'decision submitted');
    if (!c.req.header('hx-request')) {
      setCookie(c, FLASH_COOKIE, sealer.seal(notice), { ...cookieOptions(options, 60_000) });
      return c.redirect('/', 303);
    }
    // htmx swaps the card for whatever comes back: nothing once it is decided, otherwise the
    // card again with the outcome on it (a refusal, or an approval still short of the rule).
    const request = await admin.request(session.credential, id).catch(() => undefined);
    if (request?.status !== 'pending') {
      if (notice.kind === 'info') return c.body('', 200);
      return c.html(
        <article class="card" id={`card-${id}`}>
          <p class="notice error" role="alert">
            {notice.text}
          </p>
        </article>,
      );
    }
    const [card] = await cardsFor([request], viewerOf(session), new Map([[id, notice]]));
    return c.html(card);
  });

  app.get('/events', (c) => {
    // A tab reconnecting while the server stops must not hold the shutdown open.
    if (options.shutdown.aborted) return c.text('shutting down', 503, { connection: 'close' });
    const session = c.get('session');
    const viewer = viewerOf(session);
    return streamSSE(
      c,
      async (stream) => {
        const upstream = new AbortController();
        stream.onAbort(() => upstream.abort());
        options.shutdown.addEventListener('abort', () => upstream.abort(), { once: true });
        const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
        try {
          await stream.write('retry: 1000\n\n');
          for await (const item of admin.events(session.credential, upstream.signal)) {
            if (item === 'ready') {
              await stream.writeSSE({ event: 'ready', data: 'ready' });
              continue;
            }
            const changed = ['parked', 'approval', 'joined', 'deferred'].includes(item.type);
            const request = changed ? await admin.request(session.credential, item.id).catch(() => undefined) : undefined;
            if (request?.status === 'pending') {
              const [card] = await cardsFor([request], viewer);
              await stream.writeSSE({ event: 'card', data: String(await card.toString()) });
            } else {
              await stream.writeSSE({ event: 'gone', data: item.id });
            }
          }
        } catch (err) {
          // A closed tab aborts the upstream stream; only other endings are worth a log line.
          if (!upstream.signal.aborted) throw err;
        } finally {
          clearInterval(keepAlive);
        }
      },
      async (err) => {
        log.warn({ err: err.message }, 'live queue stream ended');
      },
    );
  });

  app.get('/history', async (c) => {
    const session = c.get('session');
    const status = c.req.query('status');
    const filter = {
      status: ENDED_STATUSES.includes(status as Status) ? (status as Status) : undefined,
      requester: c.req.query('requester')?.trim() || undefined,
      tool: c.req.query('tool')?.trim() || undefined,
      offset: Math.max(0, Number.parseInt(c.req.query('offset') ?? '0', 10) || 0),
    };
    const page = await admin.history(session.credential, { ...filter, limit: HISTORY_PAGE });
    return c.html(<HistoryPage viewer={viewerOf(session)} items={page.items} total={page.total} limit={HISTORY_PAGE} filter={filter} />);
  });

  app.get('/audit.jsonl', async (c) => {
    const upstream = await admin.audit(c.get('session').credential);
    return new Response(upstream.body, {
      headers: { 'content-type': 'application/x-ndjson', 'content-disposition': 'attachment; filename="hitl-audit.jsonl"' },
    });
  });

  app.post('/sign-out', async (c) => {
    const session = c.get('session');
    // Ended in ext-auth's store first: a copy of the cookie must not outlive the sign-out.
    // One that has already ended (signed out elsewhere, idle, revoked) has nothing left to end.
    if (session.credential.kind === 'bearer') {
      await admin.endSession(session.credential).catch((err) => {
        if (!(err instanceof AdminError && err.status === 401)) throw err;
      });
    }
    log.info({ reviewer: session.reviewer }, 'reviewer signed out');
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect(options.proxy ? '/' : '/sign-in', 303);
  });

  app.onError((err, c) => {
    if (err instanceof AdminError && err.status === 401 && !options.proxy) {
      // The token was revoked or the proxy identity is not a reviewer: start again.
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.req.method === 'GET' ? c.redirect('/sign-in', 303) : c.text('sign in again', 401);
    }
    const status = err instanceof AdminError ? (err.status === 404 ? 404 : 502) : 502;
    log.error({ err: err.message, path: c.req.path }, 'page failed');
    const text = err instanceof AdminError && err.status === 404 ? err.message : `The approval gate could not be reached: ${err.message}`;
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
      status,
    );
  });

  return app as unknown as Hono;
}

function sessionOf(c: Context, options: UiOptions): Session | undefined {
  if (options.proxy) {
    const name = c.req.header(options.proxy.identityHeader)?.trim();
    if (!name) return undefined;
    const groups = (c.req.header(options.proxy.groupsHeader) ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    // The proxy vouches for the name on every request, so the session is the identity itself.
    return { id: `proxy:${name}`, reviewer: name, credential: { kind: 'proxy', name, groups }, expiresAt: Number.MAX_SAFE_INTEGER };
  }
  return options.sealer.openSession(getCookie(c, SESSION_COOKIE));
}

function cookieOptions(options: UiOptions, maxAgeMs: number) {
  return { path: '/', httpOnly: true, sameSite: 'Strict' as const, secure: options.secureCookies, maxAge: Math.floor(maxAgeMs / 1000) };
}
