/**
 * The stand-in gateway answers as agentgateway v1.4.1 does: a gated body over the limit is cut
 * and sent with size -1 (never refused with 413), an OK header with an empty value is skipped
 * and any other overwrites the client's. A recording ext_authz server over real gRPC and an
 * echoing upstream over real HTTP show what each side received.
 */
import * as grpc from '@grpc/grpc-js';
import { Hono } from 'hono';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { authorizationService } from '../../app/contracts/ext-authz.js';
import { listen, type Listening } from '../../app/shared/http.js';
import { startGateway, startStack } from '../helpers/stack.js';

interface Ctx {
  checks: any[];
  okHeaders: { key: string; value: string }[];
  authz: grpc.Server;
  upstream: Listening;
  gateway: Listening;
  received: { headers: Record<string, string>; body: string }[];
}

const MAX_BODY = 1024;
const it = suite<Ctx>('the stand-in gateway behaves as agentgateway');

it.before(async (ctx) => {
  ctx.checks = [];
  ctx.received = [];
  ctx.okHeaders = [];
  ctx.authz = new grpc.Server();
  ctx.authz.addService(authorizationService().service, {
    Check: (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      ctx.checks.push(call.request.attributes.request.http);
      callback(null, { status: { code: 0 }, ok_response: { headers: ctx.okHeaders.map((header) => ({ header })) } });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    ctx.authz.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const echo = new Hono().all('*', async (c) => {
    ctx.received.push({ headers: Object.fromEntries(c.req.raw.headers), body: await c.req.text() });
    return c.json({ ok: true });
  });
  ctx.upstream = await listen(echo, 0, '127.0.0.1');
  ctx.gateway = await startGateway(ctx.upstream.url, `127.0.0.1:${port}`, { maxBody: MAX_BODY });
});
it.after(async (ctx) => {
  await ctx.gateway.close();
  await ctx.upstream.close();
  ctx.authz.forceShutdown();
});

const post = (ctx: Ctx, body: string, headers: Record<string, string> = {}) =>
  fetch(`${ctx.gateway.url}/privileged/mcp`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });

it('a body over the limit is cut to the limit and sent with size -1; the upstream still gets it whole', async (ctx) => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(5000) } });
  const response = await post(ctx, body);
  assert.is(response.status, 200, 'no 413 from the gateway');
  const check = ctx.checks.at(-1);
  assert.is(Number(check.size), -1);
  assert.is(check.body, body.slice(0, MAX_BODY));
  assert.is(ctx.received.at(-1)!.body, body, 'allowed, the whole body goes upstream');
});

it('a body within the limit is sent whole with its size', async (ctx) => {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping' });
  await (await post(ctx, body)).arrayBuffer();
  const check = ctx.checks.at(-1);
  assert.equal([Number(check.size), check.body], [body.length, body]);
});

it('OK headers overwrite the client\'s value; an empty value is skipped so the client\'s goes through', async (ctx) => {
  ctx.okHeaders = [
    { key: 'x-request-tag', value: 'from-gate' },
    { key: 'x-trace-note', value: '' },
    { key: 'x-added', value: 'from-gate' },
  ];
  await (await post(ctx, '{"jsonrpc":"2.0","id":3,"method":"ping"}', { 'x-request-tag': 'from-client', 'x-trace-note': 'client-value' })).arrayBuffer();
  const { headers } = ctx.received.at(-1)!;
  assert.is(headers['x-request-tag'], 'from-gate');
  assert.is(headers['x-trace-note'], 'client-value');
  assert.is(headers['x-added'], 'from-gate');
  ctx.okHeaders = [];
});

it('client-sent x-hitl-* headers are dropped on every route; only the gate\'s own reach the server', async (ctx) => {
  ctx.okHeaders = [{ key: 'x-hitl-approved-by', value: 'bob' }];
  const forged = { 'x-hitl-approved-by': 'mallory', 'x-hitl-approval-id': 'forged', 'x-hitl-approval': 'forged.token.here', 'X-HITL-Anything': 'x' };
  await (await post(ctx, '{"jsonrpc":"2.0","id":4,"method":"ping"}', forged)).arrayBuffer();
  const gated = ctx.received.at(-1)!.headers;
  assert.equal(Object.keys(gated).filter((name) => name.startsWith('x-hitl-')), ['x-hitl-approved-by']);
  assert.is(gated['x-hitl-approved-by'], 'bob');
  await (await fetch(`${ctx.gateway.url}/public/mcp`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...forged } })).arrayBuffer();
  const open = ctx.received.at(-1)!.headers;
  assert.equal(Object.keys(open).filter((name) => name.startsWith('x-hitl-')), []);
  ctx.okHeaders = [];
});

it.run();

const real = suite('a cut body through the real gate');
real('a tools/call over the limit reaches ext-auth cut and is denied; nothing runs', async () => {
  const stack = await startStack({ maxBody: 16_384 });
  const call = { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'run_migration', arguments: { version: 'v3', note: 'x'.repeat(20_000) } } };
  const response = await fetch(`${stack.gatewayUrl}/privileged/mcp`, {
    method: 'POST',
    body: JSON.stringify(call),
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-user-id': 'alice' },
  });
  assert.is(response.status, 403);
  assert.match((await response.json()).reason, /the gateway cut the body/);
  assert.is((await (await fetch(`${stack.mcp.url}/state`)).json()).schema_version, 'v2');
  await stack.close();
});
real.run();
