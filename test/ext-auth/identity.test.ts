import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';

test('behind an auth proxy: its identity header signs reviewers in; the JWT subject names the requester', async () => {
  const dir = tempDir('ext-auth-proxy');
  const ext = await startGate(extAuthConfig(dir.path, { tokensFile: undefined, identityHeader: 'x-forwarded-user', requesterMetadata: 'jwt.sub' }));
  const client = grpcClient(ext.grpcPort);
  const asProxy = (user: string, groups: string) => ({ 'x-forwarded-user': user, 'x-forwarded-groups': groups, 'content-type': 'application/json' });

  assert.is((await fetch(`${ext.adminUrl}/pending`)).status, 401, 'no identity header, no access');

  const parked = nextChange(ext.gate, (c) => c.type === 'parked');
  const request = checkRequest({ body: toolCall('run_migration', { version: 'v3' }), headers: { 'x-user-id': 'spoofed' } });
  (request.attributes as any).metadata_context = { filter_metadata: { jwt: { fields: { sub: { string_value: 'erin' } } } } };
  const call = client.check(request);
  const { id } = await parked;

  const pending = await (await fetch(`${ext.adminUrl}/pending`, { headers: asProxy('bob', 'platform') })).json();
  assert.is(pending.pending[0].requester, 'erin', 'validated claims win over a forwarded header');

  const self = await fetch(`${ext.adminUrl}/decide/${id}`, { method: 'POST', headers: asProxy('erin', 'platform'), body: '{"approved":true}' });
  assert.is(self.status, 403);
  const outsider = await fetch(`${ext.adminUrl}/decide/${id}`, { method: 'POST', headers: asProxy('frank', 'developers'), body: '{"approved":true}' });
  assert.is(outsider.status, 403);
  const bad = await fetch(`${ext.adminUrl}/decide/${id}`, { method: 'POST', headers: asProxy('bob', 'platform'), body: '{"approved":"yes"}' });
  assert.is(bad.status, 400);
  const ok = await fetch(`${ext.adminUrl}/decide/${id}`, { method: 'POST', headers: asProxy('bob', 'platform'), body: '{"approved":true,"reason":"ok"}' });
  assert.is(ok.status, 204);
  assert.is((await call.result).headers['x-hitl-approved-by'], 'bob');
  client.close();
  await ext.close();
  dir.remove();
});

test('the /events stream tells every listener about parks and decisions as they happen', async () => {
  const dir = tempDir('ext-auth-events');
  const ext = await startGate(extAuthConfig(dir.path));
  const client = grpcClient(ext.grpcPort);
  const response = await fetch(`${ext.adminUrl}/events`, { headers: { authorization: 'Bearer token-bob' } });
  assert.is(response.headers.get('content-type'), 'text/event-stream');
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let seen = '';
  const readUntil = async (needle: string) => {
    while (!seen.includes(needle)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${needle}`);
      seen += value;
    }
  };
  await readUntil('event: ready');
  const call = client.check(checkRequest({ body: toolCall('run_migration', { version: 'v4' }) }));
  await readUntil('"type":"parked"');
  const id = /"type":"parked","id":"([^"]+)"/.exec(seen)![1];
  await fetch(`${ext.adminUrl}/decide/${id}`, { method: 'POST', headers: { authorization: 'Bearer token-carol' }, body: '{"approved":false,"reason":"no"}' });
  await readUntil(`"type":"rejected","id":"${id}"`);
  await call.result;
  await reader.cancel();
  client.close();
  await ext.close();
  dir.remove();
});

test.run();
