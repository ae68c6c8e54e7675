import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { gzipSync, deflateSync } from 'node:zlib';
import { gateDetailsOf } from '../../app/contracts/denial.js';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { connectClient, toolJson } from '../helpers/mcp.js';
import { startGateway, startStack, type Stack } from '../helpers/stack.js';

const it = suite<{ stack: Stack }>('gateway → ext-auth → MCP, end to end');
it.before(async (ctx) => {
  ctx.stack = await startStack();
});
it.after(async (ctx) => ctx.stack.close());

const state = async (stack: Stack) => (await fetch(`${stack.mcp.url}/state`)).json();

it('the public path needs nobody: scene 1 through the gateway', async ({ stack }) => {
  const client = await connectClient(`${stack.gatewayUrl}/public/mcp`);
  const result = toolJson(await client.callTool({ name: 'cluster_db_query', arguments: { sql: 'SELECT count(*) AS n FROM orders' } }));
  await client.close();
  assert.equal([result.rows[0].n, result.schema_version], [3, 'v2']);
  assert.equal(await (await admin(stack.ext.adminUrl, 'bob').get('/pending')).json(), { pending: [] });
});

it('scene 3: the migration waits for a platform reviewer, then runs; the MCP audit names the approver', async ({ stack }) => {
  const client = await connectClient(`${stack.gatewayUrl}/privileged/mcp`, { 'x-user-id': 'alice' });
  assert.equal((await client.listTools()).tools.map((t) => t.name), ['run_migration'], 'initialize and tools/list pass the gate');
  const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
  const call = client.callTool({ name: 'run_migration', arguments: { version: 'v3' } });
  const { id } = await parked;
  assert.is((await state(stack)).schema_version, 'v2', 'nothing runs before the decision');
  assert.is((await admin(stack.ext.adminUrl, 'bob').decide(id, true, 'approved per CHG-1234')).status, 204);
  const result = toolJson(await call);
  await client.close();
  assert.equal([result.migrated, result.from, result.to], [true, 'v2', 'v3']);
  const after = await state(stack);
  assert.is(after.schema_version, 'v3');
  assert.equal([after.audit[0].tool, after.audit[0].approval_id, after.audit[0].approved_by, after.audit[0].requested_by], ['run_migration', id, 'bob', 'alice']);
});

it('scene 4: a rejection reaches the agent as the call\'s tool error, the reviewer\'s reason verbatim; the schema is unchanged', async ({ stack }) => {
  const client = await connectClient(`${stack.gatewayUrl}/privileged/mcp`, { 'x-user-id': 'alice' });
  const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
  const call = client.callTool({ name: 'run_migration', arguments: { version: 'v4' } });
  const { id } = await parked;
  await admin(stack.ext.adminUrl, 'carol').decide(id, false, 'not before the release');
  const result = await call;
  await client.close();
  assert.is(result.isError, true);
  assert.equal(result.content, [{ type: 'text', text: 'Rejected by carol (platform gate): "not before the release"' }]);
  assert.is(gateDetailsOf(result)?.requestId, id);
  assert.is((await state(stack)).schema_version, 'v3');
});

it('a bypass corpus on /privileged/mcp: nothing reaches the MCP server without an approval', async ({ stack }) => {
  const before = await state(stack);
  // Reject whatever the corpus manages to park, as a reviewer would.
  const rejectAll = async (change: { type: string; id: string }) => {
    if (change.type === 'parked') await admin(stack.ext.adminUrl, 'bob').decide(change.id, false, 'corpus');
  };
  stack.ext.gate.on('change', rejectAll);
  const call = (method = 'tools/call', extra: object = {}) => ({ jsonrpc: '2.0', id: 7, method, params: { name: 'run_migration', arguments: { version: 'v1' } }, ...extra });
  const json = (value: unknown) => JSON.stringify(value);
  const text = json(call());
  let deep = '';
  for (let i = 0; i < 100; i++) deep = `[${deep}]`;
  const corpus: [string, RequestInit][] = [
    ['batch with a tools/call', { body: json([call()]) }],
    ['batch hiding a call behind a ping', { body: json([{ jsonrpc: '2.0', id: 1, method: 'ping' }, call()]) }],
    ['batch of fifty calls', { body: json(Array.from({ length: 50 }, () => call())) }],
    ['escaped slash in the method', { body: text.replace('tools/call', 'tools\\/call') }],
    ['unicode-escaped method', { body: text.replace('tools/call', '\\u0074ools/call') }],
    ['duplicate method, harmless last', { body: text.replace('"method":"tools/call"', '"method":"tools/call","method":"ping"') }],
    ['duplicate method, harmless first', { body: text.replace('"method":"tools/call"', '"method":"ping","method":"tools/call"') }],
    ['duplicate tool name', { body: text.replace('"name":"run_migration"', '"name":"cluster_db_query","name":"run_migration"') }],
    ['gzip-compressed', { body: gzipSync(text), headers: { 'content-encoding': 'gzip' } }],
    ['deflate-compressed', { body: deflateSync(text), headers: { 'content-encoding': 'deflate' } }],
    ['encoding list', { body: text, headers: { 'content-encoding': 'identity, gzip' } }],
    ['trailing comma', { body: text.replace(/}$/, ',}') }],
    ['byte-order mark', { body: `\ufeff${text}` }],
    ['invalid UTF-8', { body: Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xc3, 0x28]), Buffer.from('}')]) }],
    ['over the body limit', { body: json(call('tools/call', { pad: 'x'.repeat(70_000) })) }],
    ['upper-case method', { body: json(call('TOOLS/CALL')) }],
    ['method with a NUL', { body: json(call('tools/call\u0000')) }],
    ['method as an array', { body: text.replace('"tools/call"', '["tools/call"]') }],
    ['no method', { body: json({ jsonrpc: '2.0', id: 1, params: { name: 'run_migration', arguments: { version: 'v1' } } }) }],
    ['a bare string', { body: '"tools/call"' }],
    ['a number', { body: '42' }],
    ['empty body', { body: '' }],
    ['an unknown method', { body: json(call('resources/read')) }],
    ['JSON-RPC 1.0', { body: json(call('tools/call', { jsonrpc: '1.0' })) }],
    ['PUT', { method: 'PUT', body: text }],
    ['PATCH', { method: 'PATCH', body: text }],
    ['GET without an event stream', { method: 'GET', headers: { accept: 'application/json' } }],
    ['nesting bomb', { body: deep }],
    ['arguments as a string', { body: json({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'run_migration', arguments: 'v1' } }) }],
    ['prototype keys', { body: text.replace('{"jsonrpc"', '{"__proto__":{"method":"ping"},"jsonrpc"') }],
    ['text/plain content type', { body: text, headers: { 'content-type': 'text/plain' } }],
  ];
  const outcomes: string[] = [];
  for (const [name, init] of corpus) {
    const response = await fetch(`${stack.gatewayUrl}/privileged/mcp`, {
      method: init.method ?? 'POST',
      body: init.body,
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-user-id': 'mallory', ...(init.headers as object) },
    });
    const text = await response.text();
    // A parked call comes back rejected as its own tool error (HTTP 200); anything else must be refused.
    if (response.status < 400 && !isGateRefusal(text)) outcomes.push(`${name}: ${response.status} ${text.slice(0, 80)}`);
  }
  stack.ext.gate.off('change', rejectAll);
  assert.equal(outcomes, [], 'every request was refused');
  const after = await state(stack);
  assert.is(after.schema_version, before.schema_version);
  assert.equal(after.audit, before.audit);
  assert.ok(corpus.length >= 25);
});

it.run();

function isGateRefusal(text: string): boolean {
  const body = JSON.parse(text);
  const answers = Array.isArray(body) ? body : [body];
  return answers.length > 0 && answers.every((a) => a.error?.code === -32001 || gateDetailsOf(a.result)?.status === 'rejected');
}

const closed = suite('gateway fails closed');
closed('ext-auth unreachable: the privileged path is refused, the public path still works', async () => {
  const stack = await startStack();
  const gateway = await startGateway(stack.mcp.url, '127.0.0.1:1');
  const denied = await fetch(`${gateway.url}/privileged/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  });
  assert.is(denied.status, 403);
  assert.match((await denied.json()).reason, /unavailable/);
  const open = await fetch(`${gateway.url}/state`);
  assert.is(open.status, 200);
  await gateway.close();
  await stack.close();
});
closed.run();
