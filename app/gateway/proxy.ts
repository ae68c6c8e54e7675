/**
 * A stand-in for agentgateway on one machine: routes every path to the MCP server, and on
 * gated prefixes asks ext-auth first, with agentgateway's semantics (contracts.md §1):
 * body forwarded up to a limit (413 past it, ext-auth not called), the Check held as long as
 * it takes, denied responses relayed, OK headers applied, and failure to reach ext-auth
 * failing closed.
 */
import { Hono, type Context } from 'hono';
import type { Logger } from '../shared/log.js';
import type { AuthDecision, ExtAuthClient } from './ext-auth-client.js';

export interface ProxyOptions {
  upstream: string;
  gates: readonly string[];
  maxBody: number;
  context: Record<string, string>;
  extAuth: ExtAuthClient;
  log: Logger;
}

const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'te', 'trailer', 'host', 'content-length'];

export function gatewayApp(options: ProxyOptions): Hono {
  const app = new Hono();
  app.all('*', async (c) => {
    const url = new URL(c.req.url);
    const gated = options.gates.some((prefix) => url.pathname === prefix || url.pathname.startsWith(`${prefix}/`));
    if (!gated) return forward(c, options.upstream, c.req.raw.body, []);

    const body = await readLimited(c.req.raw, options.maxBody);
    if (body === 'too large') return c.json({ error: `request body over ${options.maxBody} bytes` }, 413);
    let decision: AuthDecision;
    try {
      decision = await options.extAuth.check(
        {
          method: c.req.method,
          path: url.pathname + url.search,
          host: url.host,
          scheme: url.protocol.replace(':', ''),
          headers: checkHeaders(c, url),
          body,
          contextExtensions: options.context,
        },
        c.req.raw.signal,
      );
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'ext-auth unreachable; failing closed');
      return c.json({ approved: false, reason: 'approval gate unavailable' }, 403);
    }
    if (!decision.allowed) return new Response(decision.body || null, { status: decision.status, headers: decision.headers });
    return forward(c, options.upstream, new Uint8Array(body), decision.headers, decision.removeHeaders);
  });
  return app;
}

/** Headers as agentgateway sends them: lower-case names, pseudo-headers included. */
function checkHeaders(c: Context, url: URL): Record<string, string> {
  const headers: Record<string, string> = {
    ':authority': url.host,
    ':method': c.req.method,
    ':path': url.pathname + url.search,
    ':scheme': url.protocol.replace(':', ''),
  };
  c.req.raw.headers.forEach((value, name) => (headers[name.toLowerCase()] = value));
  return headers;
}

async function readLimited(request: Request, max: number): Promise<Buffer | 'too large'> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > max) return 'too large';
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > max) return 'too large';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function forward(
  c: Context,
  upstream: string,
  body: BodyInit | null,
  addHeaders: [string, string][],
  removeHeaders: string[] = [],
): Promise<Response> {
  const url = new URL(c.req.url);
  const headers = new Headers(c.req.raw.headers);
  for (const name of [...HOP_BY_HOP, ...removeHeaders]) headers.delete(name);
  for (const [name, value] of addHeaders) headers.set(name, value);
  const hasBody = body !== null && !['GET', 'HEAD'].includes(c.req.method);
  try {
    const response = await fetch(`${upstream}${url.pathname}${url.search}`, {
      method: c.req.method,
      headers,
      body: hasBody ? body : undefined,
      signal: c.req.raw.signal,
      redirect: 'manual',
      ...(hasBody ? { duplex: 'half' } : {}),
    } as RequestInit);
    const out = new Headers(response.headers);
    for (const name of ['content-encoding', 'content-length', 'transfer-encoding', 'connection']) out.delete(name);
    return new Response(response.body, { status: response.status, headers: out });
  } catch (err) {
    return c.json({ error: `upstream unreachable: ${(err as Error).message}` }, 502);
  }
}
