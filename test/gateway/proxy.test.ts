/**
 * The stand-in gateway on its own, in this process: a scripted ext_authz server over real
 * gRPC, an upstream over real HTTP that records what reaches it, and requests written with
 * node:http so that the request target and headers arrive exactly as sent. Each case names
 * the one outcome it expects: which status, what ext-auth saw, what reached the upstream.
 */
import * as grpc from '@grpc/grpc-js';
import { Hono } from 'hono';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { authorizationService } from '../../app/contracts/ext-authz.js';
import { ExtAuthClient } from '../../app/gateway/ext-auth-client.js';
import { gatewayApp } from '../../app/gateway/proxy.js';
import { listen, type Listening } from '../../app/shared/http.js';
import { logSink } from '../helpers/log-sink.js';

const MAX_BODY = 64;
const CONTEXT = { gate: 'platform', approvals: '1' };
const CALLER_TRACE = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

type Answer = (http: any) => object | 'hold' | grpc.ServiceError;
interface Received {
  method: string;
  target: string;
  headers: Record<string, string>;
  body: string;
  bytes: Buffer;
}
interface Ctx {
  checks: any[];
  answer: Answer;
  /** Resolves with a held Check's request once it arrives; its promise `cancelled` settles when the gateway cancels it. */
  held: { arrived: Promise<void>; cancelled: Promise<void> };
  authz: grpc.Server;
  authzPort: number;
  upstream: Listening;
  received: Received[];
  upstreamAborted: Promise<void>;
  gateway: Listening;
  extAuth: ExtAuthClient;
  logLines: any[];
  /** A fresh `held` for the next case. */
  reset(): void;
}

const allow = (headers: [string, string][] = [], remove: string[] = []) => ({
  status: { code: 0 },
  ok_response: { headers: headers.map(([key, value]) => ({ header: { key, value } })), headers_to_remove: remove },
});

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

const it = suite<Ctx>('the stand-in gateway');

it.before(async (ctx) => {
  ctx.checks = [];
  ctx.received = [];
  ctx.logLines = [];
  ctx.answer = () => allow();
  ctx.authz = new grpc.Server();
  ctx.authz.addService(authorizationService().service, {
    Check: (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      const http = call.request.attributes.request.http;
      ctx.checks.push({ ...http, context_extensions: call.request.attributes.context_extensions });
      const answer = ctx.answer(http);
      if (answer === 'hold') {
        call.on('cancelled', heldCancelled.resolve);
        heldArrived.resolve();
        return;
      }
      if (answer instanceof Error) return callback(answer);
      callback(null, answer);
    },
  });
  let heldArrived = deferred();
  let heldCancelled = deferred();
  Object.defineProperty(ctx, 'held', {
    get: () => ({ arrived: heldArrived.promise, cancelled: heldCancelled.promise }),
  });
  ctx.authzPort = await new Promise<number>((resolve, reject) =>
    ctx.authz.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );

  const upstreamAborted = deferred();
  ctx.upstreamAborted = upstreamAborted.promise;
  const upstream = new Hono<{ Bindings: { incoming: { url: string } } }>()
    .get('/public/moved', (c) => c.redirect('/public/elsewhere', 302))
    .get('/public/compressed', () => {
      const body = gzipSync('the uncompressed answer');
      return new Response(body, { headers: { 'content-encoding': 'gzip', 'content-length': String(body.length), 'content-type': 'text/plain' } });
    })
    .get('/public/slow', (c) => {
      c.req.raw.signal.addEventListener('abort', upstreamAborted.resolve, { once: true });
      heldArrived.resolve();
      return new Promise<Response>(() => {});
    })
    .all('*', async (c) => {
      const bytes = Buffer.from(await c.req.arrayBuffer());
      ctx.received.push({ method: c.req.method, target: c.env.incoming.url, headers: Object.fromEntries(c.req.raw.headers), body: bytes.toString(), bytes });
      return c.text('from upstream', 201, { 'x-upstream': 'yes' });
    });
  ctx.upstream = await listen(upstream as unknown as Hono, 0, '127.0.0.1');

  ctx.extAuth = new ExtAuthClient(`127.0.0.1:${ctx.authzPort}`);
  const sink = logSink(ctx.logLines);
  const log = pino({ level: 'warn' }, sink);
  ctx.gateway = await listen(gatewayApp({ upstream: ctx.upstream.url, gates: ['/privileged', '/ops'], maxBody: MAX_BODY, context: CONTEXT, extAuth: ctx.extAuth, log }), 0, '127.0.0.1');
  ctx.reset = () => {
    heldArrived = deferred();
    heldCancelled = deferred();
  };
});

it.before.each((ctx) => {
  ctx.checks.length = 0;
  ctx.received.length = 0;
  ctx.logLines.length = 0;
  ctx.answer = () => allow();
  ctx.reset();
});

it.after(async (ctx) => {
  await ctx.gateway.close(0);
  ctx.extAuth.close();
  await ctx.upstream.close(0);
  ctx.authz.forceShutdown();
});

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request written as given: the target unparsed, the body in the chunks given (chunked when more than one). */
function send(
  base: string,
  target: string,
  options: { method?: string; headers?: Record<string, string | string[]>; chunks?: (string | Buffer)[]; signal?: AbortSignal } = {},
): Promise<Reply> {
  const { hostname, port } = new URL(base);
  const chunks = options.chunks ?? [];
  const headers = { ...options.headers };
  if (chunks.length === 1) headers['content-length'] = String(Buffer.byteLength(chunks[0]));
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path: target, method: options.method ?? 'POST', headers, signal: options.signal }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part) => parts.push(part));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const call = '{"jsonrpc":"2.0","id":1,"method":"tools/call"}';

it('an open path is forwarded as sent (method, target, headers, body) with no Check, and its answer relayed', async (ctx) => {
  const reply = await send(ctx.gateway.url, '/public/mcp?x=1&y=%41', { method: 'PUT', headers: { 'x-custom': 'kept' }, chunks: ['open ', 'body'] });
  assert.equal([reply.status, reply.headers['x-upstream'], reply.body], [201, 'yes', 'from upstream']);
  assert.is(ctx.checks.length, 0, 'no Check on an open path');
  assert.equal(ctx.received.map(({ method, target, body }) => ({ method, target, body })), [{ method: 'PUT', target: '/public/mcp?x=1&y=%41', body: 'open body' }]);
  assert.is(ctx.received[0].headers['x-custom'], 'kept');
});

it('each gated prefix gates itself and every path under it, never a longer name or a path that merely holds it', async (ctx) => {
  const targets = ['/privileged', '/privileged/', '/privileged/mcp', '/ops/mcp', '/privilegedx', '/public/privileged', '/privileged-mcp', '/opsx'];
  for (const target of targets) await send(ctx.gateway.url, target, { chunks: [call] });
  assert.equal(ctx.checks.map((check) => check.path), ['/privileged', '/privileged/', '/privileged/mcp', '/ops/mcp']);
  assert.equal(ctx.received.map((r) => r.target), targets);
});

it('the target is decided on and forwarded in its canonical form, the query as sent', async (ctx) => {
  const reply = await send(ctx.gateway.url, '/public/..//%70rivileged/./mcp?to=%7e', { chunks: [call] });
  assert.is(reply.status, 201);
  assert.equal(ctx.checks.map((check) => [check.path, check.headers[':path']]), [['/privileged/mcp?to=%7e', '/privileged/mcp?to=%7e']]);
  assert.equal(ctx.received.map((r) => r.target), ['/privileged/mcp?to=%7e']);
});

it('a target that cannot be rewritten safely is refused with 400 naming why, on every route; nothing is asked or forwarded', async (ctx) => {
  for (const target of ['/privileged%2Fmcp', '/public%2F..%2Fprivileged/mcp']) {
    const reply = await send(ctx.gateway.url, target, { chunks: [call] });
    assert.equal([reply.status, JSON.parse(reply.body)], [400, { error: 'request target refused: the path holds an encoded slash or backslash' }]);
  }
  assert.equal([ctx.checks.length, ctx.received.length], [0, 0]);
});

it('served without the raw request target, the gateway refuses rather than trust a parsed URL', async (ctx) => {
  const app = gatewayApp({ upstream: ctx.upstream.url, gates: ['/privileged'], maxBody: MAX_BODY, context: CONTEXT, extAuth: ctx.extAuth, log: pino({ level: 'silent' }) });
  const reply = await app.request('/public/mcp', { method: 'POST', body: call });
  assert.equal([reply.status, await reply.json()], [400, { error: 'request target refused: the raw request target is not available' }]);
  assert.equal([ctx.checks.length, ctx.received.length], [0, 0]);
});

it('the Check carries what agentgateway sends: method, path with query, host, scheme, lower-case headers with the pseudo-headers, the body and its size, the policy context, a span in the caller\'s trace', async (ctx) => {
  await send(ctx.gateway.url, '/privileged/mcp?a=1', {
    headers: { 'X-User-Id': 'alice', traceparent: CALLER_TRACE, 'content-type': 'application/json' },
    chunks: [call],
  });
  const [check] = ctx.checks;
  const host = new URL(ctx.gateway.url).host;
  assert.equal(
    [check.method, check.path, check.host, check.scheme, check.protocol, Number(check.size), check.body, check.context_extensions],
    ['POST', '/privileged/mcp?a=1', host, 'http', 'HTTP/1.1', call.length, call, CONTEXT],
  );
  assert.equal(
    [check.headers[':authority'], check.headers[':method'], check.headers[':path'], check.headers[':scheme'], check.headers['x-user-id'], check.headers['content-type']],
    [host, 'POST', '/privileged/mcp?a=1', 'http', 'alice', 'application/json'],
  );
  const [version, traceId, spanId, flags] = check.id.split('-');
  assert.equal([version, traceId, flags], ['00', CALLER_TRACE.split('-')[1], '01'], 'in the caller\'s trace');
  assert.match(spanId, /^[0-9a-f]{16}$/);
  assert.is.not(spanId, CALLER_TRACE.split('-')[2], 'the gateway\'s own span');
});

it('the body goes to ext-auth as agentgateway sends it: a lossy UTF-8 string with the original size, never as raw bytes', async (ctx) => {
  const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
  await send(ctx.gateway.url, '/privileged/mcp', { chunks: [bytes] });
  const [check] = ctx.checks;
  assert.equal([check.body, Number(check.size), check.raw_body.length], ['{"a":"\ufffd("}', bytes.length, 0]);
  assert.equal(ctx.received[0].bytes, bytes, 'the upstream gets the bytes as sent');
});

it('a request with no body is checked with an empty body and size 0, and forwarded without one', async (ctx) => {
  const reply = await send(ctx.gateway.url, '/privileged/mcp', { method: 'GET', headers: { accept: 'text/event-stream' } });
  assert.is(reply.status, 201);
  assert.equal([ctx.checks[0].method, ctx.checks[0].body, Number(ctx.checks[0].size)], ['GET', '', 0]);
  assert.equal([ctx.received[0].method, ctx.received[0].body], ['GET', '']);
});

it('a body of exactly the limit is sent whole with its size; one byte more is cut to the limit with size -1, and the upstream still gets it whole', async (ctx) => {
  const atLimit = 'a'.repeat(MAX_BODY);
  const over = 'b'.repeat(MAX_BODY + 1);
  const long = Array.from({ length: 20 }, (_, i) => String(i % 10).repeat(100));
  assert.is((await send(ctx.gateway.url, '/privileged/mcp', { chunks: [atLimit] })).status, 201);
  assert.is((await send(ctx.gateway.url, '/privileged/mcp', { chunks: [over.slice(0, 10), over.slice(10)] })).status, 201, 'never 413');
  assert.is((await send(ctx.gateway.url, '/privileged/mcp', { chunks: long })).status, 201);
  assert.equal(
    ctx.checks.map((check) => [check.body, Number(check.size)]),
    [
      [atLimit, MAX_BODY],
      [over.slice(0, MAX_BODY), -1],
      [long.join('').slice(0, MAX_BODY), -1],
    ],
  );
  assert.equal(ctx.received.map((r) => r.body), [atLimit, over, long.join('')]);
});

it('a denial is relayed as it is: its status (200 included), headers and body; nothing reaches the upstream', async (ctx) => {
  const denials = [
    { status: { code: 7 }, denied_response: { status: { code: 429 }, headers: [{ header: { key: 'x-why', value: 'slow down' } }], body: 'too many' } },
    { status: { code: 7 }, denied_response: { status: { code: 200 }, headers: [], body: '{"result":"refused"}' } },
  ];
  const replies: [number, string | undefined, string][] = [];
  for (const denial of denials) {
    ctx.answer = () => denial;
    const reply = await send(ctx.gateway.url, '/privileged/mcp', { chunks: [call] });
    replies.push([reply.status, reply.headers['x-why'] as string | undefined, reply.body]);
  }
  assert.equal(replies, [
    [429, 'slow down', 'too many'],
    [200, undefined, '{"result":"refused"}'],
  ]);
  assert.is(ctx.received.length, 0);
});

it('a denial without a denied response is a 403 with no body', async (ctx) => {
  ctx.answer = () => ({ status: { code: 7 } });
  const reply = await send(ctx.gateway.url, '/privileged/mcp', { chunks: [call] });
  assert.equal([reply.status, reply.body], [403, '']);
  assert.is(ctx.received.length, 0);
});

it('OK headers overwrite the client\'s, an empty one is skipped so the client\'s goes through, headers_to_remove are removed', async (ctx) => {
  ctx.answer = () => allow([['x-tag', 'from-gate'], ['x-note', ''], ['x-hitl-approved-by', 'bob']], ['authorization']);
  await send(ctx.gateway.url, '/privileged/mcp', {
    headers: { 'x-tag': 'from-client', 'x-note': 'client-note', authorization: 'Bearer agent', 'x-hitl-approval-id': 'forged' },
    chunks: [call],
  });
  const { headers } = ctx.received[0];
  assert.equal([headers['x-tag'], headers['x-note'], headers.authorization], ['from-gate', 'client-note', undefined]);
  assert.equal(Object.keys(headers).filter((name) => name.startsWith('x-hitl-')), ['x-hitl-approved-by']);
  assert.is(headers['x-hitl-approved-by'], 'bob');
});

it('client-sent x-hitl-* headers never reach ext-auth nor, on an open path, the upstream', async (ctx) => {
  const forged = { 'X-Hitl-Approved-By': 'mallory', 'x-hitl-approval': 'forged' };
  await send(ctx.gateway.url, '/privileged/mcp', { headers: forged, chunks: [call] });
  await send(ctx.gateway.url, '/public/mcp', { headers: forged, chunks: [call] });
  assert.equal(Object.keys(ctx.checks[0].headers).filter((name) => name.startsWith('x-hitl-')), []);
  assert.equal(ctx.received.map((r) => Object.keys(r.headers).filter((name) => name.startsWith('x-hitl-'))), [[], []]);
});

it('hop-by-hop headers stop at the gateway; the upstream sees its own host and the body\'s real framing', async (ctx) => {
  const hopByHop = { 'keep-alive': 'timeout=5', 'proxy-connection': 'keep-alive', te: 'trailers', trailer: 'x-late', upgrade: 'h2c' };
  for (const target of ['/public/mcp', '/privileged/mcp']) {
    const reply = await send(ctx.gateway.url, target, { headers: hopByHop, chunks: ['chunked ', 'body'] });
    assert.is(reply.status, 201, `${target} forwarded`);
  }
  const upstreamHost = new URL(ctx.upstream.url).host;
  for (const { headers, body } of ctx.received) {
    assert.equal(Object.keys(hopByHop).filter((name) => name in headers), []);
    assert.equal([headers.host, body], [upstreamHost, 'chunked body']);
  }
});

it('the upstream\'s answer is relayed decoded, without its encoding and length headers', async (ctx) => {
  const reply = await send(ctx.gateway.url, '/public/compressed', { method: 'GET' });
  assert.equal([reply.status, reply.headers['content-encoding'], reply.body], [200, undefined, 'the uncompressed answer']);
});

it('a redirect from the upstream is relayed to the client, not followed', async (ctx) => {
  const reply = await send(ctx.gateway.url, '/public/moved', { method: 'GET' });
  assert.equal([reply.status, reply.headers.location], [302, '/public/elsewhere']);
  assert.is(ctx.received.length, 0);
});

it('a client that leaves cancels its held Check', async (ctx) => {
  ctx.answer = () => 'hold';
  const leave = new AbortController();
  const reply = send(ctx.gateway.url, '/privileged/mcp', { chunks: [call], signal: leave.signal });
  await ctx.held.arrived;
  leave.abort();
  assert.is((await reply.then(() => null, (err: Error) => err))?.name, 'AbortError');
  await ctx.held.cancelled;
  assert.is(ctx.received.length, 0);
});

it('a client that leaves cancels its request to the upstream', async (ctx) => {
  const leave = new AbortController();
  const reply = send(ctx.gateway.url, '/public/slow', { method: 'GET', signal: leave.signal });
  await ctx.held.arrived;
  leave.abort();
  assert.is((await reply.then(() => null, (err: Error) => err))?.name, 'AbortError');
  await ctx.upstreamAborted;
});

it('ext-auth failing fails closed: 403 "approval gate unavailable", a warning naming the error, nothing forwarded', async (ctx) => {
  ctx.answer = () => Object.assign(new Error('ext-auth is restarting'), { code: grpc.status.UNAVAILABLE, details: 'ext-auth is restarting', metadata: new grpc.Metadata() });
  const reply = await send(ctx.gateway.url, '/privileged/mcp', { chunks: [call] });
  assert.equal([reply.status, JSON.parse(reply.body)], [403, { approved: false, reason: 'approval gate unavailable' }]);
  assert.is(ctx.received.length, 0);
  assert.equal(
    ctx.logLines.map(({ level, err, msg }) => ({ level, err, msg })),
    [{ level: 40, err: '14 UNAVAILABLE: ext-auth is restarting', msg: 'ext-auth unreachable; failing closed' }],
  );
});

it.run();

const unreachable = suite('an upstream that cannot be reached');
unreachable('answers 502 naming the failure', async () => {
  const closed = await listen(new Hono(), 0, '127.0.0.1');
  await closed.close(0);
  const extAuth = new ExtAuthClient('127.0.0.1:1');
  const gateway = await listen(gatewayApp({ upstream: closed.url, gates: ['/privileged'], maxBody: MAX_BODY, context: {}, extAuth, log: pino({ level: 'silent' }) }), 0, '127.0.0.1');
  try {
    const reply = await send(gateway.url, '/public/mcp', { chunks: [call] });
    assert.equal([reply.status, JSON.parse(reply.body)], [502, { error: 'upstream unreachable: fetch failed' }]);
  } finally {
    await gateway.close(0);
    extAuth.close();
  }
});
unreachable.run();
