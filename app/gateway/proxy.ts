/**
 * A stand-in for agentgateway on one machine: routes every path to the MCP server, and on
 * gated prefixes asks ext-auth first, with agentgateway's semantics: the body forwarded up to
 * a limit (a longer one cut to the limit and sent with size -1, never refused here), the Check
 * held as long as it takes, denied responses relayed as they are, OK headers overwriting the
 * client's (an empty value skipped), and failure to reach ext-auth failing closed.
 *
 * Two things come before any of that, on every route: the request target is rewritten into
 * its canonical form (canonical-path.ts), which is what is decided on and forwarded, and
 * every client-sent `x-hitl-*` header is dropped, so only ext-auth can add one.
 */
import type { IncomingMessage } from 'node:http';
import { Hono, type Context } from 'hono';
import type { Logger } from '../shared/log.js';
import { canonicalTarget, UnsafePathError } from './canonical-path.js';
import type { AuthDecision, ExtAuthClient } from './ext-auth-client.js';
import { gatewaySpan } from './trace.js';

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
    let target: { path: string; query: string };
    try {
      target = canonicalTarget(rawTarget(c));
    } catch (err) {
      if (!(err instanceof UnsafePathError)) throw err;
      return c.json({ error: `request target refused: ${err.message}` }, 400);
    }
    const url = new URL(c.req.url);
    const gated = options.gates.some((prefix) => target.path === prefix || target.path.startsWith(`${prefix}/`));
    if (!gated) return forward(c, options.upstream, target, c.req.raw.body, []);

    const body = await bufferPrefix(c.req.raw, options.maxBody);
    let decision: AuthDecision;
    try {
      decision = await options.extAuth.check(
        {
          id: gatewaySpan(c.req.header('traceparent')),
          method: c.req.method,
          path: target.path + target.query,
          host: url.host,
          scheme: url.protocol.replace(':', ''),
          headers: checkHeaders(c, url, target),
          body: body.prefix,
          size: body.cut ? -1 : body.prefix.length,
          contextExtensions: options.context,
        },
        c.req.raw.signal,
      );
    } catch (err) {
      options.log.warn({ err: (err as Error).message }, 'ext-auth unreachable; failing closed');
      return c.json({ approved: false, reason: 'approval gate unavailable' }, 403);
    }
    if (!decision.allowed) return new Response(decision.body || null, { status: decision.status, headers: decision.headers });
    return forward(c, options.upstream, target, body.whole, okHeaders(decision.headers), decision.removeHeaders);
  });
  return app;
}

/** The request target exactly as the client sent it, before any URL parser touched it. */
function rawTarget(c: Context): string {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming?.url === undefined) throw new UnsafePathError('the raw request target is not available');
  return incoming.url;
}

/** Only ext-auth may set `x-hitl-*` on the way upstream; a client that sends one is ignored. */
const isGatewayHeader = (name: string) => name.toLowerCase().startsWith('x-hitl-');

function clientHeaders(c: Context): Headers {
  const headers = new Headers(c.req.raw.headers);
  for (const name of [...headers.keys()]) if (isGatewayHeader(name)) headers.delete(name);
  return headers;
}

/** Headers as agentgateway sends them: lower-case names, pseudo-headers included. */
function checkHeaders(c: Context, url: URL, target: { path: string; query: string }): Record<string, string> {
  const headers: Record<string, string> = {
    ':authority': url.host,
    ':method': c.req.method,
    ':path': target.path + target.query,
    ':scheme': url.protocol.replace(':', ''),
  };
  clientHeaders(c).forEach((value, name) => (headers[name.toLowerCase()] = value));
  return headers;
}

interface BufferedBody {
  /** At most the limit's worth of bytes: what ext-auth sees. */
  prefix: Buffer;
  /** Whether the body went on past the limit. */
  cut: boolean;
  /** The whole body for the upstream: the buffered prefix, then the rest as it streams in. */
  whole: BodyInit | null;
}

/**
 * Reads up to `max` bytes of the body for the Check, as agentgateway does with partial bodies
 * allowed: a longer body is not refused, ext-auth gets its first `max` bytes and size -1.
 */
async function bufferPrefix(request: Request, max: number): Promise<BufferedBody> {
  if (!request.body) return { prefix: Buffer.alloc(0), cut: false, whole: null };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (size <= max) {
    const { done, value } = await reader.read();
    if (done) {
      const all = Buffer.concat(chunks);
      return { prefix: all, cut: false, whole: all };
    }
    chunks.push(value);
    size += value.length;
  }
  const read = Buffer.concat(chunks);
  const whole = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(read);
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    // Stryker disable next-line ArrowFunction: only releases the client's request stream early; Node reads off or destroys what is left of it when the exchange ends, so nothing a client or upstream sees differs
    cancel: (reason) => reader.cancel(reason),
  });
  return { prefix: read.subarray(0, max), cut: true, whole };
}

/** agentgateway skips an OK header whose value is empty, so the client's own value goes through. */
function okHeaders(headers: [string, string][]): [string, string][] {
  return headers.filter(([, value]) => value !== '');
}

async function forward(
  c: Context,
  upstream: string,
  target: { path: string; query: string },
  body: BodyInit | null,
  addHeaders: [string, string][],
  removeHeaders: string[] = [],
): Promise<Response> {
  const headers = clientHeaders(c);
  for (const name of [...HOP_BY_HOP, ...removeHeaders]) headers.delete(name);
  for (const [name, value] of addHeaders) headers.set(name, value);
  try {
    // A GET or HEAD never carries a body here (the request it came in as cannot), so `body`
    // is null for them; a body that streams needs half-duplex.
    const response = await fetch(`${upstream}${target.path}${target.query}`, {
      method: c.req.method,
      headers,
      body,
      signal: c.req.raw.signal,
      redirect: 'manual',
      duplex: 'half',
    } as RequestInit);
    const out = new Headers(response.headers);
    for (const name of ['content-encoding', 'content-length', 'transfer-encoding', 'connection']) out.delete(name);
    return new Response(response.body, { status: response.status, headers: out });
  } catch (err) {
    return c.json({ error: `upstream unreachable: ${(err as Error).message}` }, 502);
  }
}
