/**
 * The store's group-commit writer: work submitted together commits in one transaction, a unit
 * that fails fails alone, lanes are drained round-robin, nothing is acknowledged before its
 * batch commits, and the audit chain stays one verified line through a flood.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import pg from 'pg';
import { verifyChain, type ChainedEntry } from '../../app/ext-auth/audit.js';
import { AUDIT_TIP, GroupCommit } from '../../app/ext-auth/group-commit.js';
import type { ApprovalRequest } from '../../app/contracts/admin-api.js';
import { ApprovalStore, DecisionError } from '../../app/ext-auth/store.js';
import type { Sql } from '../../app/shared/sql.js';
import { openEngine, type Engine } from '../helpers/engines.js';
import { admin, checkRequest, extAuthConfig, grpcClient, startGate, toolCall, writeTokensFile, type CheckResult } from '../helpers/ext-auth.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { runBinary, startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';
import { pendingRequest as request } from '../helpers/approval-request.js';

/** The advisory lock every batch takes (store.ts): held from outside, it keeps a batch from committing. */
const AUDIT_LOCK = 72_410_002;

async function openStore(engine: Engine): Promise<{ sql: Sql; store: ApprovalStore; batches: number[]; close(): Promise<void> }> {
  const { sql, close } = await openEngine(engine, 'hitl_group_commit');
  const batches: number[] = [];
  const store = new ApprovalStore(sql, (size) => batches.push(size));
  await store.init();
  return { sql, store, batches, close };
}

const limits = { perRequester: 20, overall: 1000 };
const since = () => new Date(Date.now() - 3_600_000).toISOString();

async function park(store: ApprovalStore, call: ApprovalRequest): Promise<ApprovalRequest> {
  const arrival = await store.arrive(call, limits, 'replica-1', since());
  if (arrival.kind !== 'parked') throw new Error(`expected the call to park, it was ${arrival.kind}`);
  return arrival.request;
}

for (const engine of ['embedded', 'postgres'] as const) {
  const register = suite(`group commit (${engine})`);
  const it = engine === 'postgres' ? onPostgres(register) : register;

  it('a batch with one entry the database refuses commits every other entry, in one transaction', async () => {
    const { store, batches, close } = await openStore(engine);
    try {
      // jsonb cannot hold a NUL character: that request's INSERT fails inside the batch.
      const requests = ['ann', 'ben', 'cat', 'dan', 'eve'].map((who, i) => request(who, { version: i === 2 ? 'v3\u0000' : `v${i}` }));
      const outcomes = await Promise.allSettled(requests.map((r) => store.arrive(r, limits, 'replica-1', since())));
      assert.equal(
        outcomes.map((o) => (o.status === 'fulfilled' ? o.value.kind : 'failed')),
        ['parked', 'parked', 'failed', 'parked', 'parked'],
      );
      const failure = outcomes[2] as PromiseRejectedResult;
      assert.match(String(failure.reason), /unsupported Unicode escape sequence|\\u0000/);
      // The four others were retried without it and committed together.
      assert.equal(batches, [4]);
      assert.equal((await store.pending()).map((r) => r.requester).sort(), ['ann', 'ben', 'dan', 'eve']);
      const chain = await store.auditChain();
      assert.is(verifyChain(chain), null);
      assert.equal(chain.map((e) => JSON.parse(e.entry).actor).sort(), ['ann', 'ben', 'dan', 'eve']);
    } finally {
      await close();
    }
  });

  it('within one batch, an identical call joins the call parked before it, and the flood limit counts the calls parked before it', async () => {
    const { store, batches, close } = await openStore(engine);
    try {
      const first = request('ann', { version: 'v1' });
      const same = { ...request('ann', { version: 'v1' }), callKey: first.callKey };
      const more = ['v2', 'v3'].map((version) => request('ann', { version }));
      const outcomes = await Promise.all([first, same, ...more].map((r) => store.arrive(r, { perRequester: 2, overall: 1000 }, 'replica-1', since())));
      assert.equal(batches, [4]);
      assert.equal(outcomes.map((o) => o.kind), ['parked', 'joined', 'parked', 'flooded']);
      const pending = await store.pending();
      assert.equal(Object.fromEntries(pending.map((r) => [r.id, r.waiting])), { [first.id]: 2, [more[0].id]: 1 });
      // What the flood limits read next time agrees with what was written.
      const fourth = await store.arrive(request('ann', { version: 'v4' }), { perRequester: 3, overall: 1000 }, 'replica-1', since());
      assert.is(fourth.kind, 'parked');
      const fifth = await store.arrive(request('ann', { version: 'v5' }), { perRequester: 3, overall: 1000 }, 'replica-1', since());
      assert.is(fifth.kind, 'flooded');
    } finally {
      await close();
    }
  });

  it('decisions taken together are read and written in one batch: a refused one (already decided, self-approval, a second approval by the same reviewer) fails alone, and N-of-M counts both approvals', async () => {
    const { store, batches, close } = await openStore(engine);
    try {
      const [once, own, twoOf, threeOf, plain] = await Promise.all(
        [
          request('ann', { version: 'v1' }),
          request('ben', { version: 'v2' }),
          { ...request('cat', { version: 'v3' }), approvalsRequired: 2 },
          { ...request('dan', { version: 'v4' }), approvalsRequired: 3 },
          request('eve', { version: 'v5' }),
        ].map((r) => park(store, r)),
      );
      // Whatever the parks left for the writer (the first read of the call keys) commits before the decisions.
      await store.settled();
      batches.length = 0;
      const reviewer = (name: string) => ({ name, groups: ['platform'] });
      const outcomes = await Promise.allSettled([
        store.decide(once.id, reviewer('bob'), true, 'first'),
        store.decide(once.id, reviewer('carol'), false, 'too late'),
        store.decide(own.id, reviewer('Ben'), true, 'my own'),
        store.decide(twoOf.id, reviewer('bob'), true, 'one'),
        store.decide(twoOf.id, reviewer('carol'), true, 'two'),
        store.decide(threeOf.id, reviewer('bob'), true, 'first'),
        store.decide(threeOf.id, reviewer('bob'), true, 'again'),
        store.decide(plain.id, reviewer('carol'), false, 'no'),
      ]);
      assert.equal(batches, [8]);
      const said = outcomes.map((o) => (o.status === 'fulfilled' ? o.value.status : `${(o.reason as DecisionError).status} ${(o.reason as Error).message}`));
      assert.equal(said, [
        'approved',
        `409 request ${once.id} was already approved`,
        '403 a requester cannot decide their own request',
        'pending',
        'approved',
        'pending',
        `409 bob already approved ${threeOf.id}`,
        'rejected',
      ]);
      const stored = await Promise.all([once, own, twoOf, threeOf, plain].map(async (r) => (await store.get(r.id))!));
      assert.equal(
        stored.map((r) => [r.status, r.decidedBy, r.approvals.map((a) => a.reason)]),
        [
          ['approved', 'bob', ['first']],
          ['pending', null, []],
          ['approved', 'bob, carol', ['one', 'two']],
          ['pending', null, ['first']],
          ['rejected', 'carol', []],
        ],
      );
      // Refusals are audited too, in the order the units ran (the reviewers' lanes in turn), and the chain verifies.
      const chain = await store.auditChain();
      assert.is(verifyChain(chain), null);
      assert.equal(
        chain.map((e) => JSON.parse(e.entry)).filter((e) => e.event !== 'parked').map((e) => `${e.event} ${e.actor} ${e.requestId}`),
        [
          `approved bob ${once.id}`,
          `decision_refused Ben ${own.id}`,
          `approval_recorded bob ${twoOf.id}`,
          `approved carol ${twoOf.id}`,
          `approval_recorded bob ${threeOf.id}`,
          `rejected carol ${plain.id}`,
          `decision_refused bob ${threeOf.id}`,
        ],
      );
      // The count of waiting requests followed the batch: two wait, so a third fits under a limit of three.
      const next = await store.arrive(request('fay', { version: 'v6' }), { perRequester: 20, overall: 3 }, 'replica-1', since());
      assert.is(next.kind, 'parked');
    } finally {
      await close();
    }
  });

  it('a decision the database refuses to write fails alone: the batch is run again unit by unit and the others commit', async () => {
    const { store, batches, close } = await openStore(engine);
    try {
      const parked = await Promise.all(
        ['ann', 'ben', 'cat'].map((who, i) => park(store, request(who, { version: `v${i}` }))),
      );
      await store.settled();
      batches.length = 0;
      // jsonb cannot hold a NUL character: the request's new JSON is refused when written.
      const outcomes = await Promise.allSettled(parked.map((r, i) => store.decide(r.id, { name: 'bob', groups: ['platform'] }, true, i === 1 ? 'ok\u0000' : 'ok')));
      assert.equal(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /unsupported Unicode escape sequence|\\u0000/);
      assert.equal(batches, [2]);
      assert.equal((await store.pending()).map((r) => r.id), [parked[1].id]);
      assert.equal((await Promise.all(parked.map((r) => store.get(r.id)))).map((r) => r!.status), ['approved', 'pending', 'approved']);
      const chain = await store.auditChain();
      assert.is(verifyChain(chain), null);
      assert.equal(chain.map((e) => JSON.parse(e.entry)).filter((e) => e.event === 'approved').map((e) => e.requestId), [parked[0].id, parked[2].id]);
    } finally {
      await close();
    }
  });

  it('a crowded lane takes turns with the others: one requester\'s backlog does not hold back another', async () => {
    const { sql, close } = await openStore(engine);
    try {
      const writer = new GroupCommit(sql, { auditLock: AUDIT_LOCK, channel: 'hitl_changes', maxBatch: 4 });
      const ran: string[] = [];
      const committed: string[] = [];
      const unit = (name: string) => async () => void ran.push(name);
      const floods = Array.from({ length: 9 }, (_, i) => writer.submit('requester:mallory', unit(`mallory-${i}`)).then(() => committed.push(`mallory-${i}`)));
      const other = writer.submit('requester:ann', unit('ann')).then(() => committed.push('ann'));
      await Promise.all([...floods, other]);
      assert.equal(ran.slice(0, 4), ['mallory-0', 'ann', 'mallory-1', 'mallory-2']);
      // Acknowledged with its batch, before most of the flood.
      assert.ok(committed.indexOf('ann') < 4, committed.join());
    } finally {
      await close();
    }
  });

  it('work submitted just as the writer runs out of work is still taken, however many turns later it comes', async () => {
    const { sql, close } = await openStore(engine);
    try {
      const writer = new GroupCommit(sql, { auditLock: AUDIT_LOCK, channel: 'hitl_changes', maxBatch: 4 });
      // A caller that acts on one result by submitting more does so some promise turns after it;
      // every count of turns up to well past the writer's own wind-down is tried.
      for (let turns = 0; turns < 40; turns++) {
        await writer.submit('reviewer:bob', async () => undefined);
        for (let i = 0; i < turns; i++) await Promise.resolve();
        const next = writer.submit('reviewer:bob', async () => turns);
        await writer.idle();
        assert.is(writer.waiting, 0, `a unit submitted ${turns} turns after the last batch was left waiting with no batch to come`);
        assert.is(await next, turns);
      }
    } finally {
      await close();
    }
  });

  it('each batch finds the chain\'s tip through the primary key, not by reading the whole chain', async () => {
    const { sql, store, close } = await openStore(engine);
    try {
      await Promise.all(Array.from({ length: 300 }, (_, i) => store.arrive(request(`r${i}`, { version: `v${i}` }), { perRequester: 20, overall: 1000 }, 'replica-1', since())));
      const { rows } = await sql.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${AUDIT_TIP}`);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan Backward using hitl_audit_pkey/);
      assert.not.match(plan, /Seq Scan|Sort/);
    } finally {
      await close();
    }
  });

  it('calls that reach the gate together park in a few shared transactions, not one each', async () => {
    const dir = tempDir(`group-commit-together-${engine}`);
    const db = engine === 'postgres' ? await freshDatabase('hitl_group_together') : null;
    const ext = await startGate(extAuthConfig(dir.path, { databaseUrl: db?.url }));
    const client = grpcClient(ext.grpcPort);
    try {
      const transactions = async () => Number(/^hitl_store_batch_size_count (\d+)/m.exec(await (await fetch(`${ext.adminUrl}/metrics`)).text())?.[1]);
      const before = await transactions();
      let held = 0;
      const allHeld = new Promise<void>((resolve) => ext.gate.on('holding', () => ++held === 100 && resolve()));
      const calls = Array.from({ length: 100 }, (_, i) =>
        client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i), headers: { 'x-user-id': `requester-${i}` } })),
      );
      // Their answers do not matter here: the calls are cut once counted.
      for (const call of calls) call.result.catch(() => {});
      await allHeld;
      const used = (await transactions()) - before;
      assert.ok(used >= 1 && used <= 25, `${used} transactions for 100 parks`);
      for (const call of calls) call.cancel();
    } finally {
      client.close();
      await ext.close();
      await db?.drop();
      dir.remove();
    }
  });

  it('the audit chain verifies after a flood, and the other requester\'s call parks', async () => {
    const dir = tempDir(`group-commit-flood-${engine}`);
    const db = engine === 'postgres' ? await freshDatabase('hitl_group_flood') : null;
    const ext = await startGate(extAuthConfig(dir.path, { databaseUrl: db?.url, maxPendingPerRequester: 20 }));
    const client = grpcClient(ext.grpcPort);
    const call = (requester: string, i: number) =>
      client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i), headers: { 'x-user-id': requester } }));
    try {
      const flood = Array.from({ length: 200 }, (_, i) => call('mallory', i));
      const others = ['ann', 'ben'].map((who, i) => call(who, 1000 + i));
      // Twenty of mallory's calls park (held until decided); the other 180 are refused at once.
      const refusals: CheckResult[] = [];
      await new Promise<void>((refusedAll) =>
        flood.forEach((c) => c.result.then((answer) => refusals.push(answer) === 180 && refusedAll())),
      );
      assert.equal([...new Set(refusals.map((r) => r.toolError?.details.status))], ['flood_denied']);
      const reviewer = admin(ext.adminUrl, 'bob');
      let pending: ApprovalRequest[] = [];
      while (pending.length < 22) pending = (await (await reviewer.get('/pending')).json()).pending;
      assert.equal(pending.filter((p) => p.requester !== 'mallory').map((p) => p.requester).sort(), ['ann', 'ben']);
      for (const p of pending) assert.is((await reviewer.decide(p.id, false, 'flood test')).status, 204);
      const released = await Promise.all([...flood, ...others].map((c) => c.result));
      assert.is(released.filter((r) => r.toolError?.details.status === 'rejected').length, 22);

      const lines = (await (await reviewer.get('/audit.jsonl')).text()).trim().split('\n').map((l) => JSON.parse(l));
      const chain: ChainedEntry[] = lines.filter((l) => l.seq !== undefined).map((l) => ({ seq: l.seq, entry: l.entry, prevHash: l.prevHash, hash: l.hash }));
      assert.is(verifyChain(chain), null);
      assert.is(chain.filter((e) => JSON.parse(e.entry).event === 'parked').length, 22);
      assert.is(chain.filter((e) => JSON.parse(e.entry).event === 'rejected').length, 22);
      // The 180 refusals are in the audit in aggregate: fewer entries, every refusal counted.
      const floods = chain.map((e) => JSON.parse(e.entry)).filter((e) => e.event === 'flood_denied');
      assert.ok(floods.length >= 1 && floods.length < 180, `${floods.length} flood entries`);
      assert.is(floods.reduce((sum, e) => sum + e.detail.count, 0), 180);
      for (const e of floods) {
        assert.is(e.actor, 'mallory');
        assert.ok(e.detail.first <= e.detail.last, JSON.stringify(e.detail));
        assert.equal(e.detail.tools, ['run_migration']);
      }
      const metrics = await (await fetch(`${ext.adminUrl}/metrics`)).text();
      assert.match(metrics, /hitl_decisions_total\{outcome="flood_denied"\} 180/);
    } finally {
      client.close();
      await ext.close();
      await db?.drop();
      dir.remove();
    }
  });

  it.run();
}

const crash = onPostgres(suite('group commit: a crash before the commit'));

crash('a crash between enqueue and commit acknowledges nothing: no answer, no row, no audit entry', async () => {
  const dir = tempDir('group-commit-crash');
  const db = await freshDatabase('hitl_group_crash');
  const args = ['ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--database-url', db.url, '--tokens-file', writeTokensFile(dir.path)];
  const holder = new pg.Client({ connectionString: db.url });
  const server = startBinary(args);
  try {
    const { url, grpcPort } = (await server.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
    const client = grpcClient(grpcPort);
    const outcome = (p: Promise<unknown>) => p.then((answer) => `answered ${JSON.stringify(answer)}`, (err: Error) => `failed: ${err.message}`);
    const first = outcome(client.check(checkRequest({ body: toolCall('run_migration', { version: 'v1' }), headers: { 'x-user-id': 'ann' } })).result);
    const { id } = (await server.waitForLog((l) => l.msg === 'parked')) as { id: string };

    // Hold the chain's lock: the next batch waits for it, its work submitted and uncommitted.
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock($1)', [AUDIT_LOCK]);
    const parks = ['ben', 'cat', 'dan'].map((who, i) => outcome(client.check(checkRequest({ body: toolCall('run_migration', { version: `v${i + 2}` }), headers: { 'x-user-id': who } })).result));
    const decision = outcome(admin(url, 'bob').decide(id, true, 'approved before the crash'));
    let waiting = 0;
    while (waiting < 4) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      waiting = Number(/^hitl_store_writes_waiting (\d+)/m.exec(metrics)?.[1] ?? 0);
    }
    await server.stop('SIGKILL');

    // The process died with the calls in flight: each ends in a transport error, never an answer.
    for (const park of await Promise.all(parks)) assert.match(park, /^failed: \d+ (UNAVAILABLE|CANCELLED|INTERNAL)/);
    assert.match(await decision, /^failed: fetch failed/);
    assert.match(await first, /^failed: \d+ (UNAVAILABLE|CANCELLED|INTERNAL)/);
    client.close();
    await holder.query('SELECT pg_advisory_unlock($1)', [AUDIT_LOCK]);

    const rows = await holder.query<{ id: string; status: string }>('SELECT id, status FROM hitl_requests');
    assert.equal(rows.rows, [{ id, status: 'pending' }]);
    const audit = await holder.query<{ entry: string }>('SELECT entry FROM hitl_audit ORDER BY seq');
    assert.equal(audit.rows.map((r) => JSON.parse(r.entry).event), ['parked']);
    const verified = await runBinary(['ext-auth', 'verify-audit', '--database-url', db.url]);
    assert.is(verified.code, 0, verified.stderr);
  } finally {
    await server.stop('SIGKILL');
    await holder.end().catch(() => {});
    await db.drop();
    dir.remove();
  }
});

crash.run();
