// The queue's counts per gate and tool, and its ids, which the store keeps as requests come and
// go: after every kind of change they must equal what the whole queue, read request by request, says.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { admin, checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, type CheckResult } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';
import type { ExtAuthConfig, RunningExtAuth } from '../../app/ext-auth/command.js';
import type { PendingCounts, PendingIds, PendingList, PendingPage } from '../../app/contracts/admin-api.js';
import { GATE_POLICY_KEYS } from '../../app/contracts/gate-policy.js';

/** The counts and ids the admin API keeps, beside the same figures worked out from the whole queue. */
async function queueFigures(adminUrl: string) {
  const bob = admin(adminUrl, 'bob');
  const { pending } = (await (await bob.get('/pending')).json()) as PendingList;
  const fromQueue: PendingCounts = { total: pending.length, gates: {}, tools: {} };
  for (const request of pending) {
    fromQueue.gates[request.gate] = (fromQueue.gates[request.gate] ?? 0) + 1;
    fromQueue.tools[request.toolName] = (fromQueue.tools[request.toolName] ?? 0) + 1;
  }
  const { counts } = (await (await bob.get('/pending?limit=1')).json()) as PendingPage;
  const { ids } = (await (await bob.get('/pending-ids')).json()) as PendingIds;
  return { counts, fromQueue, ids, idsFromQueue: pending.map((r) => r.id) };
}

async function assertCountsMatchQueue(adminUrl: string, total: number, when: string): Promise<void> {
  const figures = await queueFigures(adminUrl);
  assert.is(figures.fromQueue.total, total, `${when}: requests waiting`);
  assert.equal(figures.counts, figures.fromQueue, `${when}: counts per gate and tool`);
  assert.equal(figures.ids, figures.idsFromQueue, `${when}: ids, oldest first`);
}

/** Parks one call of `tool` at `gate` for `requester`, resolving with its request id once parked. */
async function park(ext: RunningExtAuth, grpc: Grpc, gate: string, tool: string, requester: string) {
  const parked = nextChange(ext.gate, (c) => c.type === 'parked');
  const call = grpc.check(checkRequest({ body: toolCall(tool, { requester }), headers: { 'x-user-id': requester }, context: { [GATE_POLICY_KEYS.gate]: gate } }));
  const { id } = await parked;
  return { id, ...call };
}

type Grpc = ReturnType<typeof grpcClient>;

/** Runs `body` against a gate of its own on a new data folder, and stops it whatever happens. */
async function withGate(name: string, overrides: Partial<ExtAuthConfig>, body: (ext: RunningExtAuth, grpc: Grpc) => Promise<void>): Promise<void> {
  const dir = tempDir(name);
  const ext = await startGate(extAuthConfig(dir.path, overrides));
  const grpc = grpcClient(ext.grpcPort);
  try {
    await body(ext, grpc);
  } finally {
    grpc.close();
    await ext.close();
    dir.remove();
  }
}

test('counts per gate and tool follow parks, approvals, rejections and callers leaving', () =>
  withGate('queue-counts', {}, async (ext, grpc) => {
    await assertCountsMatchQueue(ext.adminUrl, 0, 'empty');
    const calls: Awaited<ReturnType<typeof park>>[] = [];
    for (const [gate, tool, requester] of [
      ['db', 'run_migration', 'ann'],
      ['db', 'run_migration', 'ben'],
      ['db', 'drop_table', 'cid'],
      ['payments', 'refund', 'dee'],
      ['payments', 'run_migration', 'eve'],
    ]) {
      calls.push(await park(ext, grpc, gate, tool, requester));
    }
    await assertCountsMatchQueue(ext.adminUrl, 5, 'after five parks');
    const { counts } = (await (await admin(ext.adminUrl, 'bob').get('/pending?limit=1')).json()) as PendingPage;
    assert.equal(counts, { total: 5, gates: { db: 3, payments: 2 }, tools: { run_migration: 3, drop_table: 1, refund: 1 } });

    assert.is((await admin(ext.adminUrl, 'bob').decide(calls[0].id, true, 'fine')).status, 204);
    assert.is((await calls[0].result).code, 0);
    await assertCountsMatchQueue(ext.adminUrl, 4, 'after an approval');

    assert.is((await admin(ext.adminUrl, 'bob').decide(calls[3].id, false, 'no')).status, 204);
    assert.is((await calls[3].result).toolError?.details.status, 'rejected');
    await assertCountsMatchQueue(ext.adminUrl, 3, 'after a rejection');

    const abandoned = nextChange(ext.gate, (c) => c.type === 'abandoned' && c.id === calls[2].id);
    const hungUp = calls[2].result.then(
      () => 'answered',
      (err: { details?: string }) => err.details,
    );
    calls[2].cancel();
    await abandoned;
    assert.is(await hungUp, 'Cancelled on client');
    await assertCountsMatchQueue(ext.adminUrl, 2, 'after a caller left');
    const { counts: last } = (await (await admin(ext.adminUrl, 'bob').get('/pending?limit=1')).json()) as PendingPage;
    assert.equal(last, { total: 2, gates: { db: 1, payments: 1 }, tools: { run_migration: 2 } }, 'a gate or tool with nothing waiting is not listed');

    for (const call of [calls[1], calls[4]]) assert.is((await admin(ext.adminUrl, 'bob').decide(call.id, false, 'cleaning up')).status, 204);
    await Promise.all([calls[1].result, calls[4].result]);
    await assertCountsMatchQueue(ext.adminUrl, 0, 'after the last decision');
  }),
);

test('the ids of a page: as far as its last request, with the ones decided since left out', () =>
  withGate('queue-ids', {}, async (ext, grpc) => {
    const bob = admin(ext.adminUrl, 'bob');
    const calls = [];
    for (const requester of ['ann', 'ben', 'cid', 'dee']) calls.push(await park(ext, grpc, 'db', 'run_migration', requester));
    const ids = calls.map((c) => c.id);
    const page = (await (await bob.get('/pending?limit=2')).json()) as PendingPage;
    const through = `/pending-ids?${new URLSearchParams({ through: page.next! })}`;
    assert.equal(((await (await bob.get(through)).json()) as PendingIds).ids, ids.slice(0, 2), 'the page reaches its second request');
    assert.is((await bob.decide(ids[0], false, 'no')).status, 204);
    assert.equal(((await (await bob.get(through)).json()) as PendingIds).ids, [ids[1]], 'a decided request is left out');
    assert.equal(((await (await bob.get('/pending-ids')).json()) as PendingIds).ids, ids.slice(1), 'without through, all of them');
    const bad = await bob.get('/pending-ids?through=not-a-position');
    assert.is(bad.status, 400);
    assert.equal(await bad.json(), { error: '"through" must be the "next" of an earlier page' });
    for (const id of ids.slice(1)) assert.is((await bob.decide(id, false, 'cleaning up')).status, 204);
    await Promise.all(calls.map((c) => c.result));
  }),
);

test('counts follow requests that time out', () =>
  withGate('queue-counts-expiry', { parkTimeout: 500 }, async (ext, grpc) => {
    const timedOut = nextChange(ext.gate, (c) => c.type === 'timed_out');
    const call = await park(ext, grpc, 'db', 'run_migration', 'ann');
    await assertCountsMatchQueue(ext.adminUrl, 1, 'while parked');
    assert.is((await timedOut).id, call.id);
    assert.is(((await call.result) as CheckResult).toolError?.details.status, 'timed_out');
    await assertCountsMatchQueue(ext.adminUrl, 0, 'after the timeout');
  }),
);

test('after a restart the counts are those of the requests left waiting, and keep following changes', async () => {
  const dir = tempDir('queue-counts-restart');
  // A short hold: the calls are answered "waiting" and their requests stay queued across the restart.
  const first = await startGate(extAuthConfig(dir.path, { hold: 200 }));
  const grpc = grpcClient(first.grpcPort);
  const deferred: string[] = [];
  for (const [gate, tool, requester] of [
    ['db', 'run_migration', 'ann'],
    ['payments', 'refund', 'ben'],
  ]) {
    const call = await park(first, grpc, gate, tool, requester);
    assert.is((await call.result).toolError?.details.status, 'waiting');
    deferred.push(call.id);
  }
  grpc.close();
  await first.close();

  const again = await startGate(extAuthConfig(dir.path, { hold: 200 }));
  try {
    await assertCountsMatchQueue(again.adminUrl, 2, 'after the restart');
    assert.is((await admin(again.adminUrl, 'bob').decide(deferred[0], true, 'fine')).status, 204);
    await assertCountsMatchQueue(again.adminUrl, 1, 'after a decision once restarted');
  } finally {
    await again.close();
    dir.remove();
  }
});

test.run();
