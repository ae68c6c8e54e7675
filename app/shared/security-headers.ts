import type { MiddlewareHandler } from 'hono';

/**
 * What every HTML page this project serves sends: a Content-Security-Policy with no inline
 * script or style and nothing from other origins, no framing, no sniffing, no referrer, and
 * no caching of pages that carry a reviewer's or a user's data.
 */
const HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

export const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  for (const [name, value] of Object.entries(HEADERS)) c.header(name, value);
  if (!c.res.headers.has('cache-control')) c.header('cache-control', 'no-store');
};
