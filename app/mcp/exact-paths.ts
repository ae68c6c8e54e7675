import type { IncomingMessage } from 'node:http';
import type { MiddlewareHandler } from 'hono';

/**
 * Serves only the exact raw paths given. The router and the URL parser decode escapes and
 * resolve dot segments (`/public/%2e%2e/privileged/mcp` is routed as `/privileged/mcp`), so
 * a path the gateway saw as one route could land on another's handler. Checking the target
 * as it came off the wire, before anything parses it, leaves one spelling per endpoint.
 */
export function onlyExactPaths(paths: readonly string[]): MiddlewareHandler {
  const served = new Set(paths);
  return async (c, next) => {
    const raw = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming?.url;
    const path = raw?.split('?')[0];
    if (path === undefined || !served.has(path)) return c.json({ error: 'not found' }, 404);
    await next();
  };
}
