import type { MiddlewareHandler } from 'hono';

const LOOPBACK = ['localhost', '127.0.0.1', '[::1]'];

/**
 * DNS-rebinding protection: a browser tricked into resolving an attacker's name to this
 * server still sends the attacker's name as Host (and its page as Origin), so both must name
 * a host we serve. Entries in `extraHosts` may carry a port ("gw:8080") or not ("gw").
 */
export function allowHosts(extraHosts: readonly string[]): MiddlewareHandler {
  const allowed = [...LOOPBACK, ...extraHosts.map((h) => h.toLowerCase())];
  const permits = (hostWithPort: string) => {
    const host = hostWithPort.toLowerCase();
    const name = host.replace(/:\d+$/, '');
    return allowed.includes(host) || allowed.includes(name);
  };
  return async (c, next) => {
    const host = c.req.header('host') ?? '';
    const origin = c.req.header('origin');
    let originHost: string | undefined;
    if (origin) {
      try {
        originHost = new URL(origin).host;
      } catch {
        originHost = '';
      }
    }
    if (!permits(host) || (originHost !== undefined && !permits(originHost))) {
      return c.json(
        { jsonrpc: '2.0', id: null, error: { code: -32000, message: `host not allowed: ${host}${origin ? ` (origin ${origin})` : ''}` } },
        403,
      );
    }
    await next();
  };
}
