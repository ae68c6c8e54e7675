import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classify, type GatedRequest } from '../../app/ext-auth/classify.js';

const post = (body: string | Uint8Array, extra: Partial<GatedRequest> = {}): GatedRequest => {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: bytes, size: bytes.length, ...extra };
};
const rpc = (method: string, params?: unknown, id: unknown = 1) => JSON.stringify({ jsonrpc: '2.0', id, method, params });
const call = (name: string, args: unknown = {}) => rpc('tools/call', { name, arguments: args });

const cases: [string, GatedRequest, 'pass' | 'park' | 'deny', RegExp?][] = [
  ['initialize passes', post(rpc('initialize', { protocolVersion: '2025-06-18' })), 'pass'],
  ['initialized notification passes', post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })), 'pass'],
  ['cancel notification passes', post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } })), 'pass'],
  ['ping passes', post(rpc('ping')), 'pass'],
  ['tools/list passes', post(rpc('tools/list')), 'pass'],
  ['resources/templates/list passes', post(rpc('resources/templates/list')), 'pass'],
  ['GET event stream passes', { method: 'GET', headers: { accept: 'text/event-stream' }, body: new Uint8Array(), size: 0 }, 'pass'],
  ['DELETE of a session passes', { method: 'DELETE', headers: { 'mcp-session-id': 'abc' }, body: new Uint8Array(), size: 0 }, 'pass'],
  ['tools/call parks', post(call('run_migration', { version: 'v3' })), 'park'],
  ['escaped method still parks', post('{"jsonrpc":"2.0","id":1,"method":"tools\\/c\\u0061ll","params":{"name":"run_migration","arguments":{}}}'), 'park'],
  ['a batch of one call parks', post(`[${call('run_migration', { version: 'v3' })}]`), 'park'],
  ['one call with a notification parks', post(`[${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })},${call('run_migration', { version: 'v3' })}]`), 'park'],
  ['a call behind a ping is denied', post(`[${rpc('ping')},${call('run_migration', { version: 'v3' })}]`), 'deny', /only notifications or responses/],
  ['two calls in a batch are denied', post(`[${call('run_migration', { version: 'v2' })},${rpc('tools/call', { name: 'run_migration', arguments: { version: 'v4' } }, 2)}]`), 'deny', /holds 2 tool calls/],
  ['batch of harmless frames passes', post(`[${rpc('ping')},${rpc('tools/list', undefined, 2)}]`), 'pass'],
  ['a client\'s response to a server request passes', post('{"jsonrpc":"2.0","id":"srv-1","result":{"action":"accept"}}'), 'pass'],
  ['a client\'s error response passes', post('{"jsonrpc":"2.0","id":4,"error":{"code":-32601,"message":"no sampling"}}'), 'pass'],
  ['a batch of responses and a notification passes', post(`[{"jsonrpc":"2.0","id":1,"result":{}},{"jsonrpc":"2.0","method":"notifications/progress","params":{}}]`), 'pass'],
  ['a response beside a tools/call parks', post(`[{"jsonrpc":"2.0","id":1,"result":{}},${call('run_migration', { version: 'v3' })}]`), 'park'],
  ['a response carrying params is denied', post('{"jsonrpc":"2.0","id":1,"result":{},"params":{"name":"run_migration"}}'), 'deny', /string method/],
  ['a response with both result and error is denied', post('{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}'), 'deny', /string method/],
  ['a response without an id is denied', post('{"jsonrpc":"2.0","result":{}}'), 'deny', /string method/],
  ['a response with a null id is denied', post('{"jsonrpc":"2.0","id":null,"result":{}}'), 'deny', /string method/],
  ['a response whose error is not an object is denied', post('{"jsonrpc":"2.0","id":1,"error":"no"}'), 'deny', /string method/],
  ['GET without event stream is denied', { method: 'GET', headers: {}, body: new Uint8Array(), size: 0 }, 'deny', /event stream/],
  ['GET accepting only JSON is denied', { method: 'GET', headers: { accept: 'application/json' }, body: new Uint8Array(), size: 0 }, 'deny', /event stream/],
  ['DELETE without session is denied', { method: 'DELETE', headers: {}, body: new Uint8Array(), size: 0 }, 'deny', /session/],
  ['PUT is denied', { method: 'PUT', headers: {}, body: new Uint8Array(), size: 0 }, 'deny', /not MCP/],
  ['cut body (size -1) is denied', post(call('run_migration'), { size: -1 }), 'deny', /cut/],
  ['body shorter than size is denied', post(call('run_migration'), { size: 9999 }), 'deny', /read whole/],
  ['no forwarded body is denied', post('', { size: 120 }), 'deny', /read whole/],
  ['gzip body is denied', post(call('run_migration'), { headers: { 'content-encoding': 'gzip' } }), 'deny', /encoded/],
  ['non-UTF-8 body is denied', post(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'deny', /UTF-8/],
  ['U+FFFD in a body the gateway decoded is denied', post(call('run_migration', { version: 'v\ufffd' }), { decodedByGateway: true }), 'deny', /U\+FFFD as decoded by the gateway/],
  ['U+FFFD escaped in a body the gateway decoded parks', post(call('run_migration', { version: 'v' }).replace('"v"', '"v\\ufffd"'), { decodedByGateway: true }), 'park'],
  ['U+FFFD in a body sent as bytes parks: the bytes are what the server gets', post(call('run_migration', { version: 'v\ufffd' })), 'park'],
  ['invalid JSON is denied', post('{"jsonrpc":"2.0",'), 'deny', /not valid JSON/],
  ['trailing garbage is denied', post(`${rpc('ping')} x`), 'deny', /trailing/],
  ['duplicate keys are denied', post('{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/call","params":{"name":"run_migration"}}'), 'deny', /duplicate key "method"/],
  ['nested duplicate keys are denied', post('{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"a","name":"run_migration"}}'), 'deny', /duplicate/],
  ['a string body is denied', post('"tools/call"'), 'deny', /neither/],
  ['a number body is denied', post('42'), 'deny', /neither/],
  ['an empty batch is denied', post('[]'), 'deny', /empty batch/],
  ['a batch with a non-object is denied', post(`[${rpc('ping')}, 7]`), 'deny', /batch element/],
  ['missing method is denied', post('{"jsonrpc":"2.0","id":1}'), 'deny', /string method/],
  ['non-string method is denied', post('{"jsonrpc":"2.0","id":1,"method":["tools/call"]}'), 'deny', /string method/],
  ['unknown method is denied', post(rpc('resources/read', { uri: 'x' })), 'deny', /not known to be harmless/],
  ['near-miss method is denied', post(rpc('tools/call ', { name: 'x' })), 'deny', /not known/],
  ['case-changed method is denied', post(rpc('Tools/Call', { name: 'x' })), 'deny', /not known/],
  ['tools/call without a name is denied', post(rpc('tools/call', { arguments: {} })), 'deny', /tool name/],
  ['tools/call with array arguments is denied', post(rpc('tools/call', { name: 'x', arguments: [1] })), 'deny', /arguments object/],
  ['missing jsonrpc version is denied', post('{"id":1,"method":"ping"}'), 'deny', /2\.0/],
  ['a batch hiding a bad frame is denied whole', post(`[${call('run_migration')},${rpc('resources/read')}]`), 'deny', /not known/],
];

for (const [name, request, action, reason] of cases) {
  test(name, () => {
    const verdict = classify(request);
    assert.is(verdict.action, action, JSON.stringify(verdict));
    if (reason && verdict.action === 'deny') assert.match(verdict.reason, reason);
  });
}

// The gate reads only bodies sent as they are: every coding a client may name, in any case,
// alone or listed, is refused; only identity (or no header) is read.
const encodings: [string, 'park' | 'deny'][] = [
  ['gzip', 'deny'],
  ['x-gzip', 'deny'],
  ['deflate', 'deny'],
  ['br', 'deny'],
  ['zstd', 'deny'],
  ['compress', 'deny'],
  ['x-compress', 'deny'],
  ['aes128gcm', 'deny'],
  ['GZIP', 'deny'],
  [' br ', 'deny'],
  ['identity, gzip', 'deny'],
  ['gzip, identity', 'deny'],
  ['', 'deny'],
  ['identity', 'park'],
  ['IDENTITY', 'park'],
  [' identity ', 'park'],
];
for (const [encoding, action] of encodings) {
  test(`content-encoding ${JSON.stringify(encoding)}: ${action}`, () => {
    const verdict = classify(post(call('run_migration', { version: 'v3' }), { headers: { 'content-type': 'application/json', 'content-encoding': encoding } }));
    if (action === 'park') return assert.is(verdict.action, 'park', JSON.stringify(verdict));
    assert.equal(verdict, { action: 'deny', reason: `body is encoded (${encoding.trim().toLowerCase()}); the gate reads only plain bodies` });
  });
}

test('a tools/call without content-encoding is read as identity and parks', () => {
  assert.is(classify(post(call('run_migration'))).action, 'park');
});

test('a batch of one call with a notification is that call', () => {
  const verdict = classify(post(`[${call('run_migration', { version: 'v3' })},${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/progress', params: {} })}]`));
  assert.equal(verdict, { action: 'park', rpcMethod: 'tools/call', batch: true, calls: [{ rpcId: '1', name: 'run_migration', args: { version: 'v3' } }] });
});

// The harmless-method rules match the whole method name, never a part of it.
const methodNames: [string, 'pass' | 'deny'][] = [
  ['notifications/initialized', 'pass'],
  ['evil/notifications/initialized', 'deny'],
  ['notifications/initialized; tools/call', 'deny'],
  ['prompts/list', 'pass'],
  ['tools.call/list', 'deny'],
  ['tools/list-and-call', 'deny'],
];
for (const [method, action] of methodNames) {
  test(`method ${JSON.stringify(method)}: ${action}`, () => {
    assert.is(classify(post(JSON.stringify({ jsonrpc: '2.0', method }))).action, action);
  });
}

// A verdict that lets a request through says why: the reason is what the log and the audit keep.
test('a passed event stream, session end and protocol frame each name why they passed', () => {
  assert.equal(classify({ method: 'GET', headers: { accept: 'text/event-stream' }, body: new Uint8Array(), size: 0 }), { action: 'pass', reason: 'server-to-client event stream' });
  assert.equal(classify({ method: 'DELETE', headers: { 'mcp-session-id': 'abc' }, body: new Uint8Array(), size: 0 }), { action: 'pass', reason: 'session end' });
  assert.equal(classify(post(`[${rpc('ping')},{"jsonrpc":"2.0","id":7,"result":{}}]`)), { action: 'pass', reason: 'protocol traffic: ping, response' });
});

test('a single call is parked as a call, not as a batch', () => {
  assert.equal(classify(post(call('run_migration', { version: 'v3' }))), { action: 'park', rpcMethod: 'tools/call', batch: false, calls: [{ rpcId: '1', name: 'run_migration', args: { version: 'v3' } }] });
});

test('a tools/call without arguments parks with empty arguments', () => {
  const verdict = classify(post(rpc('tools/call', { name: 'run_migration' })));
  assert.equal(verdict, { action: 'park', rpcMethod: 'tools/call', batch: false, calls: [{ rpcId: '1', name: 'run_migration', args: {} }] });
});

test('a UTF-8 byte-order mark before the JSON is skipped, as a JSON text may carry one', () => {
  const body = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(call('run_migration'))]);
  assert.is(classify(post(body)).action, 'park');
});

// Beside a tool call a batch may carry only frames nothing answers; a frame that has an id, or a
// request that is not a notification, would be answered, so the batch is refused.
const besideACall: [string, object][] = [
  ['a notification carrying an id', { jsonrpc: '2.0', id: 5, method: 'notifications/initialized' }],
  ['a ping without an id', { jsonrpc: '2.0', method: 'ping' }],
];
for (const [name, frame] of besideACall) {
  test(`a tool call beside ${name} is denied`, () => {
    const verdict = classify(post(`[${JSON.stringify(frame)},${call('run_migration')}]`));
    assert.equal(verdict, { action: 'deny', reason: 'a batch with a tool call may hold only notifications or responses beside it' });
  });
}

test('a response whose id is not a finite number is not a response, and is denied', () => {
  assert.equal(classify(post('{"jsonrpc":"2.0","id":1e999,"result":{}}')), { action: 'deny', reason: 'JSON-RPC message without a string method' });
});

test('null where an object belongs is denied, not thrown on', () => {
  assert.equal(classify(post('null')), { action: 'deny', reason: 'body is neither a JSON-RPC message nor a batch' });
  assert.equal(classify(post(`[null]`)), { action: 'deny', reason: 'a batch element is not a JSON-RPC message' });
  assert.equal(classify(post(rpc('tools/call', null))), { action: 'deny', reason: 'tools/call without a tool name and an arguments object' });
});

test.run();
