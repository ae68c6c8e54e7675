import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningExtAuth } from '../../app/ext-auth/command.js';
import { chainHash, verifyChain } from '../../app/ext-auth/audit.js';
import { admin, CHECK_TRACEPARENT, checkRequest, checkRequestPackedAsBytes, extAuthConfig, grpcClient, nextChange, startGate, toolCall } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';

interface Ctx {
  ext: RunningExtAuth;
  client: ReturnType<typeof grpcClient>;
  dir: ReturnType<typeof tempDir>;
}

const it = suite<Ctx>('ext-auth over real gRPC and HTTP');

it.before(async (ctx) => {
  ctx.dir = tempDir('ext-auth');
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path, { maxPendingPerRequester: 3 }));
  ctx.client = grpcClient(ctx.ext.grpcPort);
});
it.after(async (ctx) => {
  ctx.client.close();
  await ctx.ext.close();
  ctx.dir.remove();
});

let tickets = 0;

/** Sends a tool call (a new one each time: identical calls share a request) and resolves once it is parked. */
async function park(ctx: Ctx, options: Parameters<typeof checkRequest>[0] = {}) {
  const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
  const call = ctx.client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: `CHG-${++tickets}` }), ...options }));
  const { id } = await parked;
  return { id, ...call };
}

it('protocol frames pass at once', async (ctx) => {
  const { result } = ctx.client.check(checkRequest({ body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }) }));
  const answer = await result;
  assert.is(answer.code, 0);
  assert.equal(answer.headers, {});
});

it('an unreadable body is denied with a 403 and a reason', async (ctx) => {
  const answer = await ctx.client.check(checkRequest({ body: '{"jsonrpc": "2.0", "method": ' })).result;
  assert.is(answer.code, 7);
  assert.is(answer.httpStatus, 403);
  assert.equal(answer.body.approved, false);
  assert.match(answer.body.reason, /not valid JSON/);
});

// A tool call whose argument holds bytes that are not UTF-8: `\xff\xfe` inside a string.
const NOT_UTF8 = Buffer.concat([Buffer.from(toolCall('run_migration', { version: 'v' }).replace('"v"', '"v')), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);

it('a body that is not UTF-8, as agentgateway forwards it (replaced by U+FFFD, original size), is denied', async (ctx) => {
  const lossy = NOT_UTF8.toString('utf8');
  assert.ok(lossy.includes('\ufffd') && Buffer.byteLength(lossy) !== NOT_UTF8.length, 'the replacement changed the length');
  const answer = await ctx.client.check(checkRequest({ body: lossy, size: NOT_UTF8.length })).result;
  assert.is(answer.code, 7);
  assert.match(answer.body.reason, /must be read whole/);
});

it('a body whose invalid bytes agentgateway replaces by a U+FFFD of the same length is denied, not parked', async (ctx) => {
  // F0 9F 98 starts a 4-byte sequence and stops; its replacement, EF BF BD, is 3 bytes too.
  const cut = Buffer.concat([Buffer.from(toolCall('run_migration', { version: 'v' }).replace('"v"', '"v')), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from('"}}')]);
  const lossy = cut.toString('utf8');
  assert.is(Buffer.byteLength(lossy), cut.length, 'the size check alone cannot tell');
  const answer = await ctx.client.check(checkRequest({ body: lossy, size: cut.length })).result;
  assert.is(answer.code, 7);
  assert.match(answer.body.reason, /U\+FFFD as decoded by the gateway/);
});

it('a body that is not UTF-8, from a gateway that packs it as bytes (raw_body), is denied as such', async (ctx) => {
  const answer = await ctx.client.check(checkRequestPackedAsBytes(NOT_UTF8)).result;
  assert.is(answer.code, 7);
  assert.match(answer.body.reason, /not valid UTF-8/);
});

it('a parked call shows up in /pending, redacted, and approval releases it with the approver', async (ctx) => {
  const { id, result } = await park(ctx);
  const pending = await (await admin(ctx.ext.adminUrl, 'bob').get('/pending')).json();
  const shown = pending.pending.find((p: any) => p.id === id);
  assert.equal([shown.toolName, shown.toolArgs.version, shown.requester, shown.gate, shown.approvalsRequired], ['run_migration', 'v3', 'alice', 'platform', 1]);
  assert.is(shown.headers.authorization, undefined, 'credentials are never stored or shown');
  assert.is(shown.headers['x-user-id'], 'alice');

  const decided = await admin(ctx.ext.adminUrl, 'bob').decide(id, true, 'approved per CHG-1234');
  assert.is(decided.status, 204);
  const answer = await result;
  assert.is(answer.code, 0);
  assert.equal(answer.headers, { 'x-hitl-approval-id': id, 'x-hitl-approved-by': 'bob', 'x-hitl-traceparent': CHECK_TRACEPARENT });
  const record = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.equal([record.status, record.decidedBy, record.reason], ['approved', 'bob', 'approved per CHG-1234']);
});

it('a rejection is the call\'s own JSON-RPC tool error with HTTP 200: who decided, the reason verbatim, details under _meta', async (ctx) => {
  const { id, result } = await park(ctx, { body: toolCall('run_migration', { version: 'v3', ticket: 'CHG-17' }, 'call-17') });
  const reason = 'Not during the freeze — see <CHG-99> & "ops" policy';
  assert.is((await admin(ctx.ext.adminUrl, 'carol').decide(id, false, reason)).status, 204);
  const answer = await result;
  assert.equal([answer.code, answer.httpStatus, answer.contentType], [7, 200, 'application/json']);
  assert.equal(Object.keys(answer.body).sort(), ['id', 'jsonrpc', 'result']);
  assert.equal(Object.keys(answer.body.result).sort(), ['_meta', 'content', 'isError'], 'never structuredContent');
  assert.is(answer.toolError!.id, 'call-17', 'the request\'s own id');
  assert.is(answer.toolError!.text, `Rejected by carol (platform gate): ${JSON.stringify(reason)}`);
  assert.equal(answer.toolError!.details, { status: 'rejected', requestId: id, gate: 'platform', reviewers: ['carol'], reason, expiresAt: null, grantTtlSeconds: null });
});

it('a refused batch gets one answer per request with its id; its notification gets none', async (ctx) => {
  const body = JSON.stringify([
    { jsonrpc: '2.0', method: 'notifications/progress', params: {} },
    { jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'run_migration', arguments: { version: 'v2' } } },
  ]);
  const { id, result } = await park(ctx, { body });
  await admin(ctx.ext.adminUrl, 'bob').decide(id, false, 'not today');
  const answer = await result;
  assert.is(answer.httpStatus, 200);
  assert.is(answer.body.length, 1);
  assert.equal([answer.body[0].id, answer.body[0].result.isError, answer.body[0].result.content[0].text], [41, true, 'Rejected by bob (platform gate): "not today"']);
});

it('the requester cannot approve their own request; a reviewer outside the group cannot either', async (ctx) => {
  const { id, result } = await park(ctx);
  const self = await admin(ctx.ext.adminUrl, 'alice').decide(id, true);
  assert.is(self.status, 403);
  assert.match((await self.json()).error, /own request/);
  assert.is((await admin(ctx.ext.adminUrl, 'dave').decide(id, true)).status, 403);
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide(id, false, 'no')).status, 204);
  assert.is((await result).code, 7);
});

it('a policy naming another reviewer group: only that group decides, a reviewer of the default group is refused', async (ctx) => {
  // Its own requester, so that a failure here leaves nothing counted against alice's flood limit.
  const { id, result } = await park(ctx, { context: { 'reviewer-group': 'developers' }, headers: { 'x-user-id': 'grace' } });
  const record = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(record.reviewerGroup, 'developers');
  const outsider = await admin(ctx.ext.adminUrl, 'bob').decide(id, true, 'platform says yes');
  assert.is(outsider.status, 403);
  assert.is((await outsider.json()).error, 'bob is not in reviewer group developers');
  assert.is((await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json()).status, 'pending', 'the refused decision changed nothing');
  assert.is((await admin(ctx.ext.adminUrl, 'dave').decide(id, true, 'developers say yes')).status, 204);
  const answer = await result;
  assert.is(answer.code, 0);
  assert.is(answer.headers['x-hitl-approved-by'], 'dave');
});

it('credentials: none is 401, a wrong token is 401', async (ctx) => {
  assert.is((await admin(ctx.ext.adminUrl).get('/pending')).status, 401);
  const wrong = await fetch(`${ctx.ext.adminUrl}/pending`, { headers: { authorization: 'Bearer not-a-token' } });
  assert.is(wrong.status, 401);
  assert.is((await admin(ctx.ext.adminUrl).decide('x', true)).status, 401);
});

it('concurrent decisions on one request: exactly one applies, the other gets 409', async (ctx) => {
  const { id, result } = await park(ctx);
  const statuses = (await Promise.all([admin(ctx.ext.adminUrl, 'bob').decide(id, true), admin(ctx.ext.adminUrl, 'carol').decide(id, false, 'race')])).map((r) => r.status);
  assert.equal([...statuses].sort(), [204, 409]);
  const answer = await result;
  assert.is(answer.code, statuses[0] === 204 ? 0 : 7);
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide('no-such-id', true)).status, 404);
});

it('two-of-N: one approval keeps it parked, the same reviewer twice is refused, a second reviewer releases it', async (ctx) => {
  const { id, result } = await park(ctx, { context: { gate: 'schema-changes', approvals: '2', 'reviewer-group': 'platform' } });
  let released = false;
  void result.then(() => (released = true));
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide(id, true, 'looks fine')).status, 204);
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide(id, true)).status, 409);
  const record = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.equal([record.status, record.approvals.length, record.gate], ['pending', 1, 'schema-changes']);
  assert.is(released, false);
  assert.is((await admin(ctx.ext.adminUrl, 'carol').decide(id, true)).status, 204);
  assert.equal((await result).headers['x-hitl-approved-by'], 'bob, carol');
});

it('a caller that goes away leaves its request abandoned; deciding it then is 410', async (ctx) => {
  const { id, result, cancel } = await park(ctx);
  const abandoned = nextChange(ctx.ext.gate, (c) => c.type === 'abandoned' && c.id === id);
  cancel();
  const hungUp = result.catch((err) => err);
  await abandoned;
  assert.match(String(await hungUp), /CANCELLED/);
  const record = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(record.status, 'abandoned');
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide(id, true)).status, 410);
});

it('flood control: past the per-requester limit the call is refused at once with 429', async (ctx) => {
  const held = [await park(ctx), await park(ctx), await park(ctx)];
  const answer = await ctx.client.check(checkRequest({ body: toolCall('run_migration', { version: 'v4' }) })).result;
  assert.equal([answer.code, answer.httpStatus], [8, 200]);
  assert.is(answer.toolError!.text, 'Refused by the platform gate: alice already has 3 requests waiting for review');
  assert.is(answer.toolError!.details.status, 'flood_denied');
  const other = await park(ctx, { headers: { 'x-user-id': 'erin' } });
  const [first, ...rest] = held;
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide(first.id, false, 'make room')).status, 204);
  await first.result;
  const again = await park(ctx);
  assert.ok(again.id, 'a decided request no longer counts against its requester');
  for (const { id } of [...rest, again, other]) await admin(ctx.ext.adminUrl, 'bob').decide(id, false, 'cleanup');
  await Promise.all([...rest, again, other].map((h) => h.result));
});

it('history, metrics, and an audit export whose hash chain verifies', async (ctx) => {
  const history = await (await admin(ctx.ext.adminUrl, 'bob').get('/history?status=rejected&limit=2')).json();
  assert.is(history.items.length, 2);
  assert.ok(history.total >= 5);
  assert.ok(history.items.every((r: any) => r.status === 'rejected'));
  const metrics = await (await fetch(`${ctx.ext.adminUrl}/metrics`)).text();
  const approvedHistory = (await (await admin(ctx.ext.adminUrl, 'bob').get('/history?status=approved')).json()).total;
  assert.ok(metrics.includes(`hitl_decisions_total{outcome="approved"} ${approvedHistory}`), metrics);
  assert.match(metrics, /hitl_decisions_total\{outcome="abandoned"\} 1/);
  assert.match(metrics, /hitl_pending_requests 0/);
  const lines = (await (await admin(ctx.ext.adminUrl, 'bob').get('/audit.jsonl')).text()).trim().split('\n').map((l) => JSON.parse(l));
  const events = lines.map((l) => l.event);
  for (const event of ['parked', 'approved', 'rejected', 'denied', 'decision_refused', 'abandoned', 'flood_denied', 'approval_recorded']) {
    assert.ok(events.includes(event), `audit has ${event}`);
  }
  assert.is(verifyChain(lines), null);
  const tampered = lines.map((l) => ({ ...l }));
  tampered[2].entry = tampered[2].entry.replace('"event":"', '"event":"forged_');
  assert.equal(verifyChain(tampered), { seq: lines[2].seq, problem: 'its content does not match its hash' });
  // The same edit with the entry's own hash recomputed: only the next entry's link shows it.
  tampered[2].hash = chainHash(tampered[2].prevHash, tampered[2].entry);
  assert.equal(verifyChain(tampered), { seq: lines[3].seq, problem: 'does not follow the entry before it' });
  assert.equal(verifyChain([...lines.slice(0, 2), ...lines.slice(3)]), { seq: lines[3].seq, problem: 'does not follow the entry before it' }, 'a deleted entry');
  assert.equal(verifyChain([lines[0], lines[2], lines[1], ...lines.slice(3)]), { seq: lines[2].seq, problem: 'does not follow the entry before it' }, 'two entries swapped');
  assert.equal(verifyChain(lines.slice(1)), { seq: lines[1].seq, problem: 'does not follow the entry before it' }, 'the head cut off');
});

it.run();

const overall = suite('ext-auth --max-pending');
overall('past the overall limit any requester is refused at once with 429; a decision makes room', async () => {
  const dir = tempDir('ext-auth-max-pending');
  const ext = await startGate(extAuthConfig(dir.path, { maxPending: 2, maxPendingPerRequester: 20 }));
  const client = grpcClient(ext.grpcPort);
  try {
    const parkAs = async (requester: string) => {
      const parked = nextChange(ext.gate, (c) => c.type === 'parked');
      const call = client.check(checkRequest({ headers: { 'x-user-id': requester }, body: toolCall('run_migration', { version: 'v3', by: requester }) }));
      // Closing the client on a failure cancels held calls; that is not this test's finding.
      call.result.catch(() => undefined);
      return { id: (await parked).id, ...call };
    };
    const held = [await parkAs('alice'), await parkAs('erin')];
    // Past the limit the call must be answered at once; one that parks instead is rejected, and fails the test.
    const parkedInstead = nextChange(ext.gate, (c) => c.type === 'parked');
    const over = client.check(checkRequest({ headers: { 'x-user-id': 'frank' }, body: toolCall('run_migration', { version: 'v3', by: 'frank' }) })).result;
    const first = await Promise.race([over, parkedInstead.then((c) => c.id)]);
    if (typeof first === 'string') {
      await admin(ext.adminUrl, 'bob').decide(first, false, 'over the limit');
      assert.unreachable(`frank's call was parked (${first}) past --max-pending 2`);
    }
    const refused = await over;
    assert.equal([refused.code, refused.httpStatus], [8, 200]);
    assert.is(refused.toolError!.text, 'Refused by the platform gate: too many requests waiting for review (2); try later');
    assert.equal([refused.toolError!.details.status, refused.toolError!.details.requestId], ['flood_denied', null]);
    assert.equal((await (await admin(ext.adminUrl, 'bob').get('/pending')).json()).pending.map((p: any) => p.requester).sort(), ['alice', 'erin']);

    assert.is((await admin(ext.adminUrl, 'bob').decide(held[0].id, false, 'make room')).status, 204);
    await held[0].result;
    const frank = await parkAs('frank');
    for (const { id } of [held[1], frank]) assert.is((await admin(ext.adminUrl, 'bob').decide(id, false, 'cleanup')).status, 204);
    await Promise.all([held[1].result, frank.result]);
  } finally {
    client.close();
    await ext.close();
    dir.remove();
  }
});
overall.run();

const timeouts = suite('ext-auth park timeout');
timeouts('a call nobody decides is refused when its time runs out', async () => {
  const dir = tempDir('ext-auth-timeout');
  const ext = await startGate(extAuthConfig(dir.path, { parkTimeout: 300 }));
  const client = grpcClient(ext.grpcPort);
  const answer = await client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) })).result;
  assert.equal([answer.code, answer.httpStatus], [7, 200]);
  assert.is(answer.toolError!.text, 'Not approved (platform gate): timed out after 300ms; the call did not run');
  const record = await (await admin(ext.adminUrl, 'bob').get(`/requests/${answer.toolError!.details.requestId}`)).json();
  assert.is(record.status, 'timed_out');
  client.close();
  await ext.close();
  dir.remove();
});
timeouts.run();

const http = suite('ext-auth --deny-as http');
http('refusals keep the 403 and 429 with a JSON body', async () => {
  const dir = tempDir('ext-auth-deny-http');
  const ext = await startGate(extAuthConfig(dir.path, { denyAs: 'http', maxPendingPerRequester: 1 }));
  const client = grpcClient(ext.grpcPort);
  const parked = nextChange(ext.gate, (c) => c.type === 'parked');
  const held = client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) }));
  const { id } = await parked;
  const flooded = await client.check(checkRequest({ body: toolCall('run_migration', { version: 'v4' }) })).result;
  assert.equal([flooded.code, flooded.httpStatus], [8, 429]);
  assert.match(flooded.body.reason, /alice already has 1 requests waiting/);
  await admin(ext.adminUrl, 'carol').decide(id, false, 'Not during the sale');
  const answer = await held.result;
  assert.equal([answer.code, answer.httpStatus], [7, 403]);
  assert.equal(answer.body, { approved: false, status: 'rejected', reason: 'Not during the sale', id });
  client.close();
  await ext.close();
  dir.remove();
});
http.run();
