/**
 * The UI's gatekeepers, as middleware: who is signed in (a sealed session cookie, or the name
 * an authenticating proxy vouches for), and, for every form post, the CSRF token bound to
 * that session and a same-site origin.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { SESSION_COOKIE, type UiEnv, type UiOptions } from './env.js';
import type { Session, SessionSealer } from './session.js';

/** Refuses cross-site form posts outright; the CSRF token is the second lock. */
export const refuseCrossSitePosts: MiddlewareHandler = async (c, next) => {
  const site = c.req.header('sec-fetch-site');
  if (c.req.method === 'POST' && site && site !== 'same-origin' && site !== 'none') {
    return c.text('cross-site requests are refused', 403);
  }
  await next();
};

/**
 * Sets `session`, or answers: a page asked for by a browser goes to the sign-in page and back;
 * everything else (htmx, the live stream, a post) gets 401.
 */
export function requireSession(options: Pick<UiOptions, 'proxy' | 'sealer'>): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    const session = sessionOf(c, options);
    if (!session) {
      if (options.proxy) return c.text(`no reviewer identity: the authenticating proxy must set ${options.proxy.identityHeader}`, 401);
      if (c.req.method === 'GET' && !c.req.header('hx-request') && c.req.path !== '/events') {
        return c.redirect(`/sign-in?next=${encodeURIComponent(c.req.path + (new URL(c.req.url).search || ''))}`, 303);
      }
      return c.text('sign in first', 401);
    }
    c.set('session', session);
    await next();
  };
}

/** Every form post of a signed-in reviewer carries `_csrf`, bound to their session. */
export function requireCsrf(sealer: SessionSealer): MiddlewareHandler<UiEnv> {
  return async (c, next) => {
    if (c.req.method === 'POST') {
      const form = await c.req.parseBody();
      if (!sealer.checkCsrf(c.get('session').id, form._csrf)) return c.text('the form is missing its CSRF token or it is wrong; reload the page', 403);
    }
    await next();
  };
}

function sessionOf(c: Context, options: Pick<UiOptions, 'proxy' | 'sealer'>): Session | undefined {
  if (options.proxy) {
    const name = c.req.header(options.proxy.identityHeader)?.trim();
    if (!name) return undefined;
    const groups = (c.req.header(options.proxy.groupsHeader) ?? '').split(',').map((g) => g.trim()).filter(Boolean);
    // The proxy vouches for the name on every request, so the session is the identity itself.
    return { id: `proxy:${name}`, reviewer: name, credential: { kind: 'proxy', name, groups }, expiresAt: Number.MAX_SAFE_INTEGER };
  }
  return options.sealer.openSession(getCookie(c, SESSION_COOKIE));
}
