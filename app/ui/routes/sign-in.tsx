/**
 * Signing in with a reviewer token, and out. Signing in opens a session in ext-auth's store
 * and seals its id with the token into the cookie; signing out ends that session there, so a
 * copy of the cookie opens nothing afterwards. Behind an authenticating proxy the proxy signs
 * reviewers in, and these pages only send them home.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { AdminError } from '../../shared/admin-client.js';
import { cookieOptions, SESSION_COOKIE, type UiEnv, type UiOptions } from '../env.js';
import { returnPath } from '../return-path.js';
import type { Credential } from '../../contracts/reviewer-session.js';
import { SignInPage } from '../views/sign-in.js';

const ownOrigin = (c: Context) => new URL(c.req.url).origin;

export function signInApp(options: UiOptions): Hono {
  const { admin, sealer, log } = options;
  const app = new Hono();

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
      if (err instanceof AdminError && err.status === 401) return c.html(<SignInPage next={next} problem="That token was not accepted." />, 401);
      throw err;
    }
    const credential: Credential = { kind: 'bearer', token, session: opened.id };
    const session = sealer.newSession(opened.reviewer, credential, options.sessionTtlMs);
    setCookie(c, SESSION_COOKIE, sealer.seal(session), cookieOptions(options, options.sessionTtlMs));
    log.info({ reviewer: opened.reviewer }, 'reviewer signed in');
    return c.redirect(next, 303);
  });

  return app;
}

/** Mounted behind `requireSession` and `requireCsrf`. */
export function signOutApp(options: UiOptions): Hono<UiEnv> {
  const { admin, log } = options;
  const app = new Hono<UiEnv>();

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

  return app;
}
