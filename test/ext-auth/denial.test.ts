import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { GATE_META_KEY, gateDetailsOf, type GateDetails } from '../../app/contracts/denial.js';
import { deniedResponse, refusalText } from '../../app/ext-auth/denial.js';

const details = (over: Partial<GateDetails>): GateDetails => ({
  status: 'rejected', requestId: 'r-1', gate: 'schema-changes', reviewers: [], reason: null, expiresAt: null, grantTtlSeconds: null, ...over,
});

test('each refusal says who decided what and why, the reason verbatim', () => {
  assert.is(refusalText(details({ reviewers: ['rita'], reason: 'Not during the sale' })), 'Rejected by rita (schema-changes gate): "Not during the sale"');
  assert.is(refusalText(details({ reviewers: ['rita'], reason: '' })), 'Rejected by rita (schema-changes gate): no reason given');
  assert.is(refusalText(details({ status: 'timed_out', reason: 'timed out after 10m' })), 'Not approved (schema-changes gate): timed out after 10m; the call did not run');
  assert.is(
    refusalText(details({ status: 'abandoned', reason: 'the caller went away before a decision' })),
    'Not approved (schema-changes gate): the caller went away before a decision; the call did not run',
  );
  assert.is(refusalText(details({ status: 'flood_denied', requestId: null, reason: 'too many requests waiting for review (1000); try later' })), 'Refused by the schema-changes gate: too many requests waiting for review (1000); try later');
  assert.is(
    refusalText(details({ status: 'waiting', expiresAt: '2026-01-01T10:10:00.000Z', grantTtlSeconds: 90 })),
    'Waiting for a platform reviewer (schema-changes gate, request r-1, open until 2026-01-01T10:10:00.000Z). The call has not run. ' +
      'Make the same call again after it is approved and it will run once, within 90s of the approval.',
  );
});

test('a tools/call is answered with its own id and a tool error; the details are under _meta only', () => {
  const refusal = details({ reviewers: ['rita'], reason: 'no' });
  const response = deniedResponse(refusal, JSON.stringify({ jsonrpc: '2.0', id: 'abc', method: 'tools/call', params: { name: 'x', arguments: {} } }), 'jsonrpc');
  assert.equal([response.httpStatus, response.contentType], [200, 'application/json']);
  const body = JSON.parse(response.body);
  assert.equal(body, {
    jsonrpc: '2.0',
    id: 'abc',
    result: { content: [{ type: 'text', text: 'Rejected by rita (schema-changes gate): "no"' }], isError: true, _meta: { [GATE_META_KEY]: refusal } },
  });
  assert.equal(gateDetailsOf(body.result), refusal);
  assert.is(gateDetailsOf({ content: [], isError: true }), undefined, 'a tool\'s own error is not the gate\'s');
});

test('a batch: a tool error per call, a JSON-RPC error for any other request, nothing for a notification', () => {
  const batch = JSON.stringify([
    { jsonrpc: '2.0', id: 1, method: 'ping' },
    { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'x', arguments: {} } },
  ]);
  const answers = JSON.parse(deniedResponse(details({ reviewers: ['rita'], reason: 'no' }), batch, 'jsonrpc').body);
  assert.equal(answers.map((a: any) => [a.id, a.error?.code ?? null, a.result?.isError ?? null]), [
    [1, -32001, null],
    [2, null, true],
  ]);
});

test('--deny-as http, or a body without a request to answer: the 403 (429 for a flood) with a JSON reason', () => {
  const call = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'x', arguments: {} } });
  const http = deniedResponse(details({ reviewers: ['rita'], reason: 'Not during the sale' }), call, 'http');
  assert.equal([http.httpStatus, JSON.parse(http.body)], [403, { approved: false, status: 'rejected', reason: 'Not during the sale', id: 'r-1' }]);
  assert.is(deniedResponse(details({ status: 'flood_denied', requestId: null, reason: 'full' }), call, 'http').httpStatus, 429);
  assert.is(deniedResponse(details({ reason: 'no' }), '{"jsonrpc":"2.0","method":"notifications/x"}', 'jsonrpc').httpStatus, 403);
});

test.run();
