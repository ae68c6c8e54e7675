/**
 * One card per call: identical calls (same requester, gate and canonical call) join the
 * pending request; a rejection is replayed to identical calls within the grant TTL; a call
 * held past --hold is answered "waiting" and stays queued, and an approval given then becomes
 * a single-use grant for the same call. Each case runs on the embedded store (one gate) and on
 * PostgreSQL with the calls spread over two replicas.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExtAuthConfig, RunningExtAuth } from '../../app/ext-auth/command.js';
import { admin, checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, type CheckResult } from '../helpers/ext-auth.js';
import { freshDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

interface Replica {
  ext: RunningExtAuth;
  client: ReturnType<typeof grpcClient>;
}

interface Topology {
  /** Two entry points: the same gate twice on the embedded store, two replicas on PostgreSQL. */
  a: Replica;
  b: Replica;
  close(): Promise<void>;
}

async function topology(kind: 'embedded' | 'postgres', overrides: Partial<ExtAuthConfig>): Promise<Topology | null> {
  const dir = tempDir(`identical-${kind}`);
  const db = kind === 'postgres' ? await freshDatabase('hitl_identical') : null;
  if (kind === 'postgres' && !db) return null;
  const start = async (): Promise<Replica> => {
    const ext = await startGate(extAuthConfig(dir.path, { databaseUrl: db?.url, ...overrides }));
    return { ext, client: grpcClient(ext.grpcPort) };
  };
  const a = await start();
  const b = kind === 'postgres' ? await start() : a;
  return {
    a,
    b,
    async close() {
      for (const r of new Set([a, b])) {
        r.client.close();
        await r.ext.close();
      }
      await db?.drop();
      dir.remove();
    },
  };
}

const call = (via: Replica, args: Record<string, unknown>, requester = 'alice', id: number | string = 1) =>
  via.client.check(checkRequest({ body: toolCall('run_migration', args, id), headers: { 'x-user-id': requester } }));

const reviewer = (via: Replica) => admin(via.ext.adminUrl, 'bob');
const pending = async (via: Replica) => (await (await reviewer(via).get('/pending')).json()).pending;
const record = async (via: Replica, id: string) => (await reviewer(via).get(`/requests/${id}`)).json();
const auditEvents = async (via: Replica) =>
  (await (await reviewer(via).get('/audit.jsonl')).text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(JSON.parse(line).entry) as { event: string; requestId: string | null; actor: string | null });

for (const kind of ['embedded', 'postgres'] as const) {
  const held = suite<{ t: Topology | null }>(`identical calls while held (${kind})`);
  held.before(async (ctx) => {
    ctx.t = await topology(kind, {});
  });
  held.after(async (ctx) => ctx.t?.close());

  held('an identical call joins the pending one: one card, two waiting, one decision releases both', async ({ t }) => {
    if (!t) return;
    const parked = nextChange(t.a.ext.gate, (c) => c.type === 'parked');
    const first = call(t.a, { version: 'v3', options: { lock: 'short', batch: 10 } }, 'alice', 1);
    const { id } = await parked;
    const joined = nextChange(t.a.ext.gate, (c) => c.type === 'joined' && c.id === id);
    // Same call, keys in another order, another JSON-RPC id, through the other entry point.
    const second = call(t.b, { options: { batch: 10, lock: 'short' }, version: 'v3' }, 'alice', 'retry-1');
    await joined;
    const cards = await pending(t.b);
    assert.equal(cards.map((c: any) => [c.id, c.waiting]), [[id, 2]]);
    assert.is((await reviewer(t.b).decide(id, true, 'once is enough')).status, 204);
    const answers = await Promise.all([first.result, second.result]);
    assert.equal(answers.map((a) => [a.code, a.headers['x-hitl-approval-id'], a.headers['x-hitl-approved-by']]), [
      [0, id, 'bob'],
      [0, id, 'bob'],
    ]);
    assert.ok((await auditEvents(t.a)).some((e) => e.event === 'joined' && e.requestId === id));
  });

  held('one of two joined callers going away leaves the request pending for the other', async ({ t }) => {
    if (!t) return;
    const parked = nextChange(t.a.ext.gate, (c) => c.type === 'parked');
    const leaving = call(t.a, { version: 'v7' });
    const { id } = await parked;
    const joined = nextChange(t.a.ext.gate, (c) => c.type === 'joined' && c.id === id);
    const staying = call(t.b, { version: 'v7' }, 'alice', 2);
    await joined;
    const left = nextChange(t.a.ext.gate, (c) => c.type === 'joined' && c.id === id);
    leaving.cancel();
    await leaving.result.catch(() => undefined);
    await left;
    const record_ = await record(t.a, id);
    assert.equal([record_.status, record_.waiting], ['pending', 1]);
    await reviewer(t.b).decide(id, true, 'ok');
    assert.is((await staying.result).headers['x-hitl-approval-id'], id);
  });

  held('a different argument or another requester is another card', async ({ t }) => {
    if (!t) return;
    const parkedIds: string[] = [];
    const count = (c: { type: string; id: string }) => c.type === 'parked' && parkedIds.push(c.id);
    t.a.ext.gate.on('change', count);
    const three = nextChange(t.a.ext.gate, () => parkedIds.length === 3);
    const calls = [call(t.a, { version: 'v5' }), call(t.b, { version: 'v6' }), call(t.b, { version: 'v5' }, 'erin')];
    await three;
    t.a.ext.gate.off('change', count);
    assert.is((await pending(t.a)).length, 3);
    for (const id of parkedIds) await reviewer(t.a).decide(id, false, 'cleanup');
    await Promise.all(calls.map((c) => c.result));
  });

  held('after a rejection an identical call gets the same rejection at once, audited, no new card; another requester parks anew', async ({ t }) => {
    if (!t) return;
    const parked = nextChange(t.a.ext.gate, (c) => c.type === 'parked');
    const first = call(t.a, { version: 'v4' });
    const { id } = await parked;
    await admin(t.a.ext.adminUrl, 'carol').decide(id, false, 'Not during the sale');
    const rejected = await first.result;
    const again = await call(t.b, { version: 'v4' }, 'alice', 'adk-retry').result;
    assert.equal([again.httpStatus, again.toolError!.id, again.toolError!.text], [200, 'adk-retry', 'Rejected by carol (platform gate): "Not during the sale"']);
    assert.equal(again.toolError!.details, rejected.toolError!.details);
    assert.equal(await pending(t.a), []);
    const replayed = (await auditEvents(t.b)).filter((e) => e.event === 'replayed_rejection');
    assert.equal(replayed.map((e) => [e.requestId, e.actor]), [[id, 'alice']]);

    const otherParked = nextChange(t.a.ext.gate, (c) => c.type === 'parked');
    const other = call(t.a, { version: 'v4' }, 'erin');
    const { id: otherId } = await otherParked;
    assert.is.not(otherId, id);
    await reviewer(t.a).decide(otherId, false, 'cleanup');
    await other.result;
  });

  held.run();

  const deferred = suite<{ t: Topology | null }>(`hold, then defer; grants (${kind})`);
  deferred.before(async (ctx) => {
    ctx.t = await topology(kind, { hold: 250, parkTimeout: 600_000, grantTtl: 900_000 });
  });
  deferred.after(async (ctx) => ctx.t?.close());

  /** Makes the call and waits for its "waiting" answer; returns the answer and the request. */
  async function waitingAnswer(via: Replica, args: Record<string, unknown>, requester = 'alice') {
    const answer = await call(via, args, requester, 'call-1').result;
    assert.equal([answer.code, answer.httpStatus, answer.toolError?.details.status], [7, 200, 'waiting'], JSON.stringify(answer.body));
    return answer as CheckResult & { toolError: NonNullable<CheckResult['toolError']> };
  }

  deferred('past the hold the caller is told it waits; the card stays and says so; approval becomes a single-use grant for that call', async ({ t }) => {
    if (!t) return;
    const answer = await waitingAnswer(t.a, { version: 'v3' });
    const { requestId, gate, expiresAt, grantTtlSeconds } = answer.toolError.details;
    assert.equal([answer.toolError.id, gate, grantTtlSeconds], ['call-1', 'platform', 900]);
    assert.is(
      answer.toolError.text,
      `Waiting for a platform reviewer (platform gate, request ${requestId}, open until ${expiresAt}). ` +
        'The call has not run. Make the same call again after it is approved and it will run once, within 15m of the approval.',
    );
    const card = await record(t.b, requestId!);
    assert.equal([card.status, card.waiting, typeof card.callerStoppedAt, card.expiresAt], ['pending', 0, 'string', expiresAt]);
    assert.equal(card.deferral, {
      callerStoppedAt: card.callerStoppedAt,
      onApproval: 'lets the same call from the same requester through once, within 15m of the approval',
    });

    assert.is((await reviewer(t.b).decide(requestId!, true, 'go ahead')).status, 204);
    const approved = await record(t.a, requestId!);
    assert.equal([approved.status, approved.grant.usedAt], ['approved', null]);
    assert.is(Date.parse(approved.grant.until) - Date.parse(approved.decidedAt), 900_000);

    // Another argument or another requester cannot use it.
    const otherArgs = await waitingAnswer(t.a, { version: 'v3', force: true });
    const otherUser = await waitingAnswer(t.b, { version: 'v3' }, 'erin');
    for (const other of [otherArgs, otherUser]) assert.is.not(other.toolError.details.requestId, requestId);

    const used = await call(t.b, { version: 'v3' }, 'alice', 'retry').result;
    assert.equal([used.code, used.headers['x-hitl-approval-id'], used.headers['x-hitl-approved-by']], [0, requestId, 'bob']);
    assert.is(typeof (await record(t.b, requestId!)).grant.usedAt, 'string');
    const events = await auditEvents(t.a);
    assert.equal(events.filter((e) => e.event === 'grant_used').map((e) => [e.requestId, e.actor]), [[requestId, 'alice']]);
    assert.ok(events.some((e) => e.event === 'deferred' && e.requestId === requestId));

    // Used once: the next identical call parks anew.
    const anew = await waitingAnswer(t.a, { version: 'v3' });
    assert.is.not(anew.toolError.details.requestId, requestId);
    for (const r of [anew, otherArgs, otherUser]) await reviewer(t.a).decide(r.toolError.details.requestId!, false, 'cleanup');
  });

  deferred('a waiting request that is rejected: the next identical call gets that rejection', async ({ t }) => {
    if (!t) return;
    const answer = await waitingAnswer(t.b, { version: 'v9' });
    await admin(t.a.ext.adminUrl, 'carol').decide(answer.toolError.details.requestId!, false, 'no v9 ever');
    const again = await call(t.a, { version: 'v9' }).result;
    assert.is(again.toolError!.text, 'Rejected by carol (platform gate): "no v9 ever"');
  });

  deferred.run();
}

const expiry = suite('grants and deferred requests run out');
expiry('a grant past --grant-ttl is not used; a deferred request times out at --park-timeout with nobody holding it', async () => {
  const dir = tempDir('identical-expiry');
  const ext = await startGate(extAuthConfig(dir.path, { hold: 100, parkTimeout: 1500, grantTtl: 1 }));
  const client = grpcClient(ext.grpcPort);
  const via = { ext, client };
  const first = await call(via, { version: 'v3' }).result;
  const id = first.toolError!.details.requestId!;
  await reviewer(via).decide(id, true, 'ok');
  // The grant lasted a millisecond: the same call now parks anew.
  const second = await call(via, { version: 'v3' }).result;
  const secondId = second.toolError!.details.requestId!;
  assert.is.not(secondId, id);
  assert.is((await record(via, id)).grant.usedAt, null);
  await nextChange(ext.gate, (c) => c.type === 'timed_out' && c.id === secondId);
  assert.equal([(await record(via, secondId)).status, (await record(via, secondId)).waiting], ['timed_out', 0]);
  client.close();
  await ext.close();
  dir.remove();
});
expiry('with --hold at or above --park-timeout the call is held to the end, as before', async () => {
  const dir = tempDir('identical-long-hold');
  const ext = await startGate(extAuthConfig(dir.path, { hold: 400, parkTimeout: 300 }));
  const client = grpcClient(ext.grpcPort);
  const answer = await call({ ext, client }, { version: 'v3' }).result;
  assert.equal([answer.toolError!.details.status, answer.toolError!.text], ['timed_out', 'Not approved (platform gate): timed out after 300ms; the call did not run']);
  client.close();
  await ext.close();
  dir.remove();
});
expiry('a deferred request outlives a restart of the embedded store and still times out on time', async () => {
  const dir = tempDir('identical-restart');
  const config = extAuthConfig(dir.path, { hold: 100, parkTimeout: 6000, replicaTimeout: 1000 });
  const first = await startGate(config);
  const firstClient = grpcClient(first.grpcPort);
  const answer = await call({ ext: first, client: firstClient }, { version: 'v3' }).result;
  const id = answer.toolError!.details.requestId!;
  firstClient.close();
  await first.close();

  const second = await startGate(config);
  const client = grpcClient(second.grpcPort);
  const via = { ext: second, client };
  const timedOut = nextChange(second.gate, (c) => c.type === 'timed_out' && c.id === id);
  assert.is((await record(via, id)).status, 'pending', 'its caller was told to come back, so it is not abandoned');
  await timedOut;
  assert.is((await record(via, id)).reason, 'nobody decided before it expired');
  client.close();
  await second.close();
  dir.remove();
});
expiry.run();
