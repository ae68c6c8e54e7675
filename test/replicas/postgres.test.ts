import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import { verifyChain } from '../../app/ext-auth/audit.js';
import { admin, checkRequest, grpcClient, toolCall, writeTokensFile, type CheckResult } from '../helpers/ext-auth.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { startBinary, type Running } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

interface Replica {
  process: Running;
  url: string;
  client: ReturnType<typeof grpcClient>;
}

interface Ctx {
  replicas: Replica[];
  cleanup(): Promise<void>;
}

const it = onPostgres(suite<Ctx>('three ext-auth replicas on one PostgreSQL'));

it.before(async (ctx) => {
  const dir = tempDir('replicas');
  const db = await freshDatabase('hitl_replicas');
  ctx.replicas = [];
  ctx.cleanup = async () => {
    for (const r of ctx.replicas) {
      r.client.close();
      await r.process.stop();
    }
    await db.drop();
    dir.remove();
  };
  const tokens = writeTokensFile(dir.path);
  for (let i = 0; i < 3; i++) {
    const process = startBinary([
      'ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--database-url', db.url, '--tokens-file', tokens,
      '--data-dir', join(dir.path, `unused-${i}`), '--max-pending', '1000', '--max-pending-per-requester', '1000', '--replica-timeout', '2s',
      // A case that fails leaves its calls parked; they must not hang the cases after it.
      '--park-timeout', '2m',
    ]);
    const { url, grpcPort } = (await process.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
    ctx.replicas.push({ process, url, client: grpcClient(grpcPort) });
  }
});
it.after(async (ctx) => ctx.cleanup());

async function pendingIds(url: string, count: number): Promise<string[]> {
  // Follow the replica's live event stream until `count` requests are pending.
  const response = await fetch(`${url}/events`, { headers: { authorization: 'Bearer token-bob' } });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  await reader.read();
  let ids: string[] = (await (await admin(url, 'bob').get('/pending')).json()).pending.map((p: any) => p.id);
  while (ids.length < count) {
    const { done } = await reader.read();
    if (done) throw new Error('event stream ended');
    ids = (await (await admin(url, 'bob').get('/pending')).json()).pending.map((p: any) => p.id);
  }
  await reader.cancel();
  return ids;
}

it('300 parked calls over three replicas, each decided on another replica: every call gets its verdict', async (ctx) => {
  const calls: Promise<CheckResult>[] = [];
  for (let i = 0; i < 300; i++) {
    const holder = ctx.replicas[i % 3];
    const version = i % 2 === 0 ? 'v3' : 'v4';
    calls.push(holder.client.check(checkRequest({ body: toolCall('run_migration', { version, ticket: i }, i) })).result);
  }
  const ids = await pendingIds(ctx.replicas[0].url, 300);
  const requests = await Promise.all(ids.map(async (id) => (await (await admin(ctx.replicas[1].url, 'bob').get(`/requests/${id}`)).json())));
  // Approve the v3 calls and reject the v4 ones, each through a replica chosen by position.
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < requests.length) {
        const request = requests[next];
        const via = ctx.replicas[next++ % 3];
        const approve = request.toolArgs.version === 'v3';
        const res = await admin(via.url, 'carol').decide(request.id, approve, approve ? 'ok' : 'not now');
        assert.is(res.status, 204);
      }
    }),
  );
  const answers = await Promise.all(calls);
  answers.forEach((answer, i) => {
    if (i % 2 === 0) assert.is(answer.code, 0, `call ${i} approved`);
    else assert.equal([answer.code, answer.toolError?.details.reason], [7, 'not now'], `call ${i} rejected`);
  });
  const audit = (await (await admin(ctx.replicas[2].url, 'bob').get('/audit.jsonl')).text()).trim().split('\n').map((l) => JSON.parse(l));
  assert.is(verifyChain(audit), null, 'one unbroken chain under concurrent writers');
  assert.is(audit.filter((e) => e.event === 'parked').length, 300);
  assert.is(audit.filter((e) => e.event === 'approved' || e.event === 'rejected').length, 300);
});

it('20 concurrent decisions on one request across replicas: exactly one applies', async (ctx) => {
  const call = ctx.replicas[0].client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: 'race' }) }));
  const [id] = await pendingIds(ctx.replicas[1].url, 1);
  const reviewers = ['bob', 'carol'] as const;
  const statuses = await Promise.all(
    Array.from({ length: 20 }, (_, i) => admin(ctx.replicas[i % 3].url, reviewers[i % 2]).decide(id, i % 4 === 0, `racer ${i}`).then((r) => r.status)),
  );
  assert.is(statuses.filter((s) => s === 204).length, 1, JSON.stringify(statuses));
  assert.ok(statuses.every((s) => s === 204 || s === 409));
  await call.result;
});

/** Each replica's counts per gate and tool, and the same worked out from the whole queue. */
async function countsEverywhere(ctx: Ctx) {
  const { pending } = (await (await admin(ctx.replicas[0].url, 'bob').get('/pending')).json()) as { pending: { gate: string; toolName: string }[] };
  const fromQueue = { total: pending.length, gates: {} as Record<string, number>, tools: {} as Record<string, number> };
  for (const request of pending) {
    fromQueue.gates[request.gate] = (fromQueue.gates[request.gate] ?? 0) + 1;
    fromQueue.tools[request.toolName] = (fromQueue.tools[request.toolName] ?? 0) + 1;
  }
  const perReplica = await Promise.all(ctx.replicas.map(async (r) => (await (await admin(r.url, 'bob').get('/pending?limit=1')).json()).counts));
  return { fromQueue, perReplica };
}

it('counts per gate and tool stay right on every replica as each parks and another decides', async (ctx) => {
  const gates = ['db', 'payments', 'db'];
  const calls = ctx.replicas.map((r, i) =>
    r.client.check(checkRequest({ body: toolCall(i === 1 ? 'refund' : 'run_migration', { ticket: `counted-${i}` }, i), headers: { 'x-user-id': `counted-${i}` }, context: { gate: gates[i] } })).result,
  );
  const ids = await pendingIds(ctx.replicas[2].url, 3);
  const parked = await countsEverywhere(ctx);
  assert.equal(parked.fromQueue, { total: 3, gates: { db: 2, payments: 1 }, tools: { run_migration: 2, refund: 1 } });
  for (const counts of parked.perReplica) assert.equal(counts, parked.fromQueue);
  // Each request decided on a replica other than the one holding it.
  for (const [i, id] of ids.entries()) {
    assert.is((await admin(ctx.replicas[(i + 1) % 3].url, 'bob').decide(id, i !== 1, 'counted')).status, 204);
    const now = await countsEverywhere(ctx);
    assert.is(now.fromQueue.total, 2 - i);
    for (const counts of now.perReplica) assert.equal(counts, now.fromQueue, `after ${i + 1} decisions`);
  }
  await Promise.all(calls);
});

it('a replica killed while holding calls: survivors record its calls abandoned; the others are unaffected', async (ctx) => {
  const [doomed, survivor, other] = ctx.replicas;
  const lost = [0, 1, 2].map((i) => doomed.client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: `lost-${i}` }, i) })).result.catch((e) => e));
  const kept = survivor.client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: 'kept' }, 9) })).result;
  const ids = await pendingIds(other.url, 4);
  const held = (await Promise.all(ids.map(async (id) => (await admin(other.url, 'bob').get(`/requests/${id}`)).json())));
  await doomed.process.stop('SIGKILL');
  ctx.replicas.splice(0, 1);
  doomed.client.close();
  for (const error of await Promise.all(lost)) assert.match(String(error), /UNAVAILABLE|CANCELLED/);

  // The survivors' sweep notices the silence (--replica-timeout 2s) and ends those requests.
  const response = await fetch(`${other.url}/events`, { headers: { authorization: 'Bearer token-bob' } });
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let seen = '';
  let remaining = (await (await admin(other.url, 'bob').get('/pending')).json()).pending.length;
  while (remaining > 1) {
    const { value } = await reader.read();
    seen += value;
    remaining = (await (await admin(other.url, 'bob').get('/pending')).json()).pending.length;
  }
  await reader.cancel();
  const after = await Promise.all(held.map(async (r) => (await (await admin(other.url, 'bob').get(`/requests/${r.id}`)).json())));
  const abandoned = after.filter((r) => r.status === 'abandoned');
  assert.is(abandoned.length, 3);
  assert.ok(abandoned.every((r) => r.reason === 'the ext-auth replica holding the call stopped'));
  const swept = await countsEverywhere(ctx);
  assert.is(swept.fromQueue.total, 1);
  for (const counts of swept.perReplica) assert.equal(counts, swept.fromQueue, 'after the sweep');
  const stillPending = after.find((r) => r.status === 'pending')!;
  assert.is((await admin(other.url, 'carol').decide(stillPending.id, true)).status, 204);
  assert.is((await kept).code, 0);
});

it.run();

const limits = onPostgres(suite('flood limits across replicas'));

limits('a requester whose calls another replica decides is never refused on a count that replica has already lowered', async () => {
  const dir = tempDir('replicas-limits');
  const db = await freshDatabase('hitl_replicas_limits');
  const tokens = writeTokensFile(dir.path);
  const replicas: Replica[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const process = startBinary([
        'ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--database-url', db.url, '--tokens-file', tokens,
        '--data-dir', join(dir.path, `unused-${i}`), '--max-pending-per-requester', '2', '--park-timeout', '2m',
      ]);
      const { url, grpcPort } = (await process.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
      replicas.push({ process, url, client: grpcClient(grpcPort) });
    }
    const [holder, decider] = replicas;
    // One call at a time, each held on one replica and approved on the other: never more than
    // one waits, so with a limit of two every call must park, however fast they follow each other.
    for (let i = 0; i < 8; i++) {
      const call = holder.client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i) })).result;
      const [id] = await Promise.race([pendingIds(decider.url, 1), call.then((answer) => assert.unreachable(`call ${i} answered before it was decided: ${JSON.stringify(answer)}`))]) as string[];
      assert.is((await admin(decider.url, 'bob').decide(id, true)).status, 204);
      assert.is((await call).code, 0, `call ${i} approved`);
    }
  } finally {
    for (const r of replicas) {
      r.client.close();
      await r.process.stop();
    }
    await db.drop();
    dir.remove();
  }
});

limits.run();
