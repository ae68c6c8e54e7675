/**
 * The admin API's side of reviewer sessions: `POST /sessions` opens one for the calling
 * reviewer, `DELETE /sessions/current` ends it, and any call that names a session is refused
 * with 401 unless that session is still live for the same reviewer and credential.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { REVIEWER_SESSION_HEADER, type OpenedSession, type SessionLimits } from '../contracts/reviewer-session.js';
import { tokenSha256Hex } from '../contracts/reviewer-tokens.js';
import type { Reviewer } from './reviewers.js';
import type { ReviewerSessions } from './sessions.js';

type Env = { Variables: { reviewer: Reviewer } };

/** The longest a session may last, and may sit idle: a day, whatever the UI asks for. */
const MAX_SECONDS = 24 * 3600;
/** How often a live event stream looks again at its session. */
const STREAM_CHECK_MS = 5_000;

/** What the session is bound to: the bearer token's SHA-256, or the proxy-vouched name. */
function credentialOf(c: Context<Env>): string {
  const bearer = /^Bearer\s+(\S+)$/i.exec(c.req.header('authorization') ?? '');
  return bearer ? `token:${tokenSha256Hex(bearer[1])}` : `proxy:${c.get('reviewer').name}`;
}

const ended = (c: Context) => c.json({ error: 'this session has ended; sign in again' }, 401, { 'www-authenticate': 'Bearer realm="hitl"' });

/** Runs after the reviewer is known: a named session must be live, and using it keeps it so. */
export function requireLiveSession(sessions: ReviewerSessions): MiddlewareHandler<Env> {
  return async (c, next) => {
    const id = c.req.header(REVIEWER_SESSION_HEADER);
    if (id !== undefined && !(await sessions.check(id, c.get('reviewer').name, credentialOf(c)))) return ended(c);
    await next();
  };
}

export function sessionApi(sessions: ReviewerSessions): Hono<Env> {
  const app = new Hono<Env>();

  app.post('/sessions', async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as Partial<SessionLimits> | undefined;
    const valid = (n: unknown): n is number => Number.isInteger(n) && (n as number) > 0 && (n as number) <= MAX_SECONDS;
    if (!valid(body?.ttlSeconds) || !valid(body?.idleSeconds)) {
      return c.json({ error: `body must be JSON {"ttlSeconds", "idleSeconds"}, whole seconds from 1 to ${MAX_SECONDS}` }, 400);
    }
    const reviewer = c.get('reviewer').name;
    const id = await sessions.open(reviewer, credentialOf(c), { ttlSeconds: body.ttlSeconds, idleSeconds: body.idleSeconds });
    return c.json({ id, reviewer } satisfies OpenedSession, 201);
  });

  app.delete('/sessions/current', async (c) => {
    const id = c.req.header(REVIEWER_SESSION_HEADER);
    if (!id) return c.json({ error: `name the session to end in ${REVIEWER_SESSION_HEADER}` }, 400);
    await sessions.end(id, 'signed out');
    return c.body(null, 204);
  });

  return app;
}

/**
 * For a long-lived answer (the event stream): resolves once the session the call named has
 * ended, so a signed-out tab stops receiving the queue. `stop` ends the watch.
 */
export function watchSession(c: Context<Env>, sessions: ReviewerSessions): { ended: Promise<void>; stop(): void } {
  const id = c.req.header(REVIEWER_SESSION_HEADER);
  if (id === undefined) return { ended: new Promise(() => undefined), stop: () => undefined };
  const reviewer = c.get('reviewer').name;
  const credential = credentialOf(c);
  let timer: NodeJS.Timeout;
  const ended = new Promise<void>((resolve) => {
    timer = setInterval(() => {
      sessions.check(id, reviewer, credential, false).then((live) => live || resolve(), () => resolve());
    }, STREAM_CHECK_MS);
  });
  return { ended, stop: () => clearInterval(timer) };
}
