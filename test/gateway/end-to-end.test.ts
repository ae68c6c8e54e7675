import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
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

it('a bypass corpus on /privileged/mcp: each request is denied with its reason or parked for a reviewer; nothing reaches the MCP server unapproved', async ({ stack }) => {
  const before = await state(stack);
  // Reject whatever the corpus manages to park, as a reviewer would, and note which requests parked.
  const parkedIds: string[] = [];
  const rejectAll = async (change: { type: string; id: string }) => {
    if (change.type !== 'parked') return;
    parkedIds.push(change.id);
    await admin(stack.ext.adminUrl, 'bob').decide(change.id, false, 'corpus');
  };
  stack.ext.gate.on('change', rejectAll);
  const call = (method = 'tools/call', extra: object = {}) => ({ jsonrpc: '2.0', id: 7, method, params: { name: 'run_migration', arguments: { version: 'v1' } }, ...extra });
  const json = (value: unknown) => JSON.stringify(value);
  const text = json(call());
  let deep = '';
  for (let i = 0; i < 100; i++) deep = `[${deep}]`;
  const parked = 'parked' as const;
  const denied = (reason: string) => ({ status: 403, reason });
  const corpus: [string, RequestInit, typeof parked | ReturnType<typeof denied>][] = [
    ['batch with a tools/call', { body: json([call()]) }, parked],
    ['batch hiding a call behind a ping', { body: json([{ jsonrpc: '2.0', id: 1, method: 'ping' }, call()]) }, denied('a batch with a tool call may hold only notifications or responses beside it')],
    ['batch of fifty calls', { body: json(Array.from({ length: 50 }, () => call())) }, denied('a batch holds 50 tool calls; send each call alone so each gets its own decision')],
    ['escaped slash in the method', { body: text.replace('tools/call', 'tools\\/call') }, parked],
    ['unicode-escaped method', { body: text.replace('tools/call', '\\u0074ools/call') }, parked],
    ['duplicate method, harmless last', { body: text.replace('"method":"tools/call"', '"method":"tools/call","method":"ping"') }, denied('body is not valid JSON: duplicate key "method" at offset 54')],
    ['duplicate method, harmless first', { body: text.replace('"method":"tools/call"', '"method":"ping","method":"tools/call"') }, denied('body is not valid JSON: duplicate key "method" at offset 48')],
    ['duplicate tool name', { body: text.replace('"name":"run_migration"', '"name":"cluster_db_query","name":"run_migration"') }, denied('body is not valid JSON: duplicate key "name" at offset 88')],
    ['gzip-compressed', { body: gzipSync(text), headers: { 'content-encoding': 'gzip' } }, denied('body is encoded (gzip); the gate reads only plain bodies')],
    ['deflate-compressed', { body: deflateSync(text), headers: { 'content-encoding': 'deflate' } }, denied('body is encoded (deflate); the gate reads only plain bodies')],
    ['brotli-compressed', { body: brotliCompressSync(text), headers: { 'content-encoding': 'br' } }, denied('body is encoded (br); the gate reads only plain bodies')],
    ['encoding list', { body: text, headers: { 'content-encoding': 'identity, gzip' } }, denied('body is encoded (identity, gzip); the gate reads only plain bodies')],
    ['trailing comma', { body: text.replace(/}$/, ',}') }, denied('body is not valid JSON: expected a key at offset 109')],
    // The decoder drops a leading byte-order mark, as JSON readers may; what is left is one plain call.
    ['byte-order mark', { body: `\ufeff${text}` }, parked],
    // agentgateway sends the body as a string decoded lossily: the stray 0xC3 arrives as the
    // three bytes of U+FFFD, so ext-auth sees two bytes more than the request had.
    [
      'invalid UTF-8',
      { body: Buffer.concat([Buffer.from(text.slice(0, -1)), Buffer.from([0xc3, 0x28]), Buffer.from('}')]) },
      denied(`body has ${text.length + 4} bytes but the request had ${text.length + 2}; it must be read whole`),
    ],
    // Cut to the limit and sent with size -1, as agentgateway does: denied at once, never parked.
    ['over the body limit', { body: json(call('tools/call', { pad: 'x'.repeat(70_000) })) }, denied('the gateway cut the body; it must be read whole')],
    ['upper-case method', { body: json(call('TOOLS/CALL')) }, denied('method "TOOLS/CALL" is not known to be harmless')],
    ['method with a NUL', { body: json(call('tools/call\u0000')) }, denied('method "tools/call\\u0000" is not known to be harmless')],
    ['method as an array', { body: text.replace('"tools/call"', '["tools/call"]') }, denied('JSON-RPC message without a string method')],
    ['no method', { body: json({ jsonrpc: '2.0', id: 1, params: { name: 'run_migration', arguments: { version: 'v1' } } }) }, denied('JSON-RPC message without a string method')],
    ['a bare string', { body: '"tools/call"' }, denied('body is neither a JSON-RPC message nor a batch')],
    ['a number', { body: '42' }, denied('body is neither a JSON-RPC message nor a batch')],
    ['empty body', { body: '' }, denied('body is not valid JSON: unexpected character at offset 0')],
    ['an unknown method', { body: json(call('resources/read')) }, denied('method "resources/read" is not known to be harmless')],
    ['JSON-RPC 1.0', { body: json(call('tools/call', { jsonrpc: '1.0' })) }, denied('not a JSON-RPC 2.0 message')],
    ['PUT', { method: 'PUT', body: text }, denied('HTTP method PUT is not MCP traffic')],
    ['PATCH', { method: 'PATCH', body: text }, denied('HTTP method PATCH is not MCP traffic')],
    ['GET without an event stream', { method: 'GET', headers: { accept: 'application/json' } }, denied('GET that is not an event stream')],
    ['nesting bomb', { body: deep }, denied('body is not valid JSON: nesting deeper than 64 at offset 65')],
    ['arguments as a string', { body: json({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'run_migration', arguments: 'v1' } }) }, denied('tools/call without a tool name and an arguments object')],
    // A __proto__ key is an ordinary key to the strict reader; the message is still one call.
    ['prototype keys', { body: text.replace('{"jsonrpc"', '{"__proto__":{"method":"ping"},"jsonrpc"') }, parked],
    // The gate reads the body, not the label on it.
    ['text/plain content type', { body: text, headers: { 'content-type': 'text/plain' } }, parked],
  ];
  const wrong: string[] = [];
  for (const [index, [name, init, expected]] of corpus.entries()) {
    const parkedBefore = parkedIds.length;
    const response = await fetch(`${stack.gatewayUrl}/privileged/mcp`, {
      method: init.method ?? 'POST',
      body: init.body,
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        // A requester per case: an identical call from the same one would meet the last rejection replayed instead of parking.
        'x-user-id': `mallory-${index}`,
        ...(init.headers as object),
      },
    });
    const body = await response.text();
    const parkedHere = parkedIds.slice(parkedBefore);
    const outcome =
      parkedHere.length === 1 && response.status === 200 && rejectedAs(body, parkedHere[0])
        ? parked
        : { status: response.status, parked: parkedHere.length, body: body.slice(0, 160) };
    const want = expected === parked ? parked : { status: expected.status, parked: 0, body: JSON.stringify({ approved: false, reason: expected.reason, id: null }) };
    if (JSON.stringify(outcome) !== JSON.stringify(want)) wrong.push(`${name}: expected ${JSON.stringify(want)}, got ${JSON.stringify(outcome)}`);
  }
  stack.ext.gate.off('change', rejectAll);
  assert.equal(wrong, [], 'each request met exactly its outcome');
  const after = await state(stack);
  assert.is(after.schema_version, before.schema_version);
  assert.equal(after.audit, before.audit, 'nothing reached the MCP server');
});

it.run();

/** The body is the gate's rejection of request `id`, as each request's own answer. */
function rejectedAs(text: string, id: string): boolean {
  const body = JSON.parse(text);
  const answers = Array.isArray(body) ? body : [body];
  return answers.length > 0 && answers.every((a) => gateDetailsOf(a.result)?.status === 'rejected' && gateDetailsOf(a.result)?.requestId === id);
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
