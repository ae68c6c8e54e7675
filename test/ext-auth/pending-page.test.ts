// The admin API's queue pages: `GET /pending?limit=&after=` against a real ext-auth.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { admin, checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';
import type { RunningExtAuth } from '../../app/ext-auth/command.js';
import type { PendingList, PendingPage } from '../../app/contracts/admin-api.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  ext: RunningExtAuth;
  grpc: ReturnType<typeof grpcClient>;
  calls: { result: Promise<unknown> }[];
}

const it = suite<Ctx>('admin API: the queue a page at a time');
const PARKED = 5;

it.before(async (ctx) => {
  ctx.dir = tempDir('pending-page');
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path));
  ctx.grpc = grpcClient(ctx.ext.grpcPort);
  ctx.calls = [];
  for (let i = 0; i < PARKED; i++) {
    const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
    ctx.calls.push(ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: `v${i}`, ticket: `CHG-${i}` }), headers: { 'x-user-id': `user${i}` } })));
    await parked;
  }
});

it.after(async (ctx) => {
  const { pending } = (await (await admin(ctx.ext.adminUrl, 'bob').get('/pending')).json()) as PendingList;
  for (const request of pending) await admin(ctx.ext.adminUrl, 'bob').decide(request.id, false, 'cleaning up');
  await Promise.all(ctx.calls.map((c) => c.result));
  ctx.grpc.close();
  await ctx.ext.close();
  ctx.dir.remove();
});

const getJson = async <T>(ctx: Ctx, path: string): Promise<T> => {
  const response = await admin(ctx.ext.adminUrl, 'bob').get(path);
  assert.is(response.status, 200, path);
  return (await response.json()) as T;
};

it('without a query the whole queue comes back as before, with no paging fields', async (ctx) => {
  const body = await getJson<Record<string, unknown>>(ctx, '/pending');
  assert.equal(Object.keys(body), ['pending']);
  assert.is((body.pending as unknown[]).length, PARKED);
});

it('pages of two follow each other oldest first, with no gap or repeat, and count all of the queue', async (ctx) => {
  const whole = (await getJson<PendingList>(ctx, '/pending')).pending.map((r) => r.id);
  const seen: string[] = [];
  let next: string | null = null;
  let pages = 0;
  do {
    const page: PendingPage = await getJson<PendingPage>(ctx, `/pending?limit=2${next ? `&after=${next}` : ''}`);
    assert.ok(page.pending.length <= 2, 'no page is longer than asked');
    assert.equal(page.counts, { total: PARKED, gates: page.counts.gates, tools: { run_migration: PARKED } });
    assert.is(Object.values(page.counts.gates).reduce((a, b) => a + b, 0), PARKED, 'the gates count every request');
    seen.push(...page.pending.map((r) => r.id));
    next = page.next;
    pages++;
  } while (next);
  assert.is(pages, 3);
  assert.equal(seen, whole);
});

it('a page of one tool holds only that tool; counts stay the whole queue', async (ctx) => {
  const other = await getJson<PendingPage>(ctx, '/pending?limit=10&tool=drop_everything');
  assert.equal(other.pending, []);
  assert.is(other.next, null);
  assert.is(other.counts.total, PARKED);
  const migrations = await getJson<PendingPage>(ctx, '/pending?limit=10&tool=run_migration');
  assert.is(migrations.pending.length, PARKED);
});

it('a limit out of range or an after no page gave is refused with 400, naming the parameter', async (ctx) => {
  for (const [query, error] of [
    ['limit=0', '"limit" must be a whole number from 1 to 500'],
    ['limit=501', '"limit" must be a whole number from 1 to 500'],
    ['limit=ten', '"limit" must be a whole number from 1 to 500'],
    ['after=abc', '"limit" must be a whole number from 1 to 500'],
    ['limit=5&after=not-a-position', '"after" must be the "next" of an earlier page'],
    [`limit=5&after=${Buffer.from('["yesterday","x"]').toString('base64url')}`, '"after" must be the "next" of an earlier page'],
  ]) {
    const response = await admin(ctx.ext.adminUrl, 'bob').get(`/pending?${query}`);
    assert.is(response.status, 400, query);
    assert.equal(await response.json(), { error }, query);
  }
});

it.run();
