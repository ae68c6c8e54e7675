/**
 * The approval store driven directly, on the embedded engine and on PostgreSQL: what each of
 * its methods writes (the request, its holder, the counts, the audit entry, the change it
 * announces) and what it refuses. The gate's suites reach the store through its callers; this
 * one states the store's own contract, and in seconds, so every change to it is checked by
 * a suite that names it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { EventEmitter, once } from 'node:events';
import type { ApprovalRequest, QueueChange } from '../../app/contracts/admin-api.js';
import { ApprovalStore, DecisionError, type Arrival } from '../../app/ext-auth/store.js';
import type { Sql } from '../../app/shared/sql.js';
import { openEngine, type Engine } from '../helpers/engines.js';
import { onPostgres } from '../helpers/postgres.js';
import { pendingRequest } from '../helpers/approval-request.js';

interface Ctx {
  sql: Sql;
  store: ApprovalStore;
  feed: Feed;
  /** Opens another store on the same database, as another process (embedded) or replica (PostgreSQL) would. */
  another(): Promise<ApprovalStore>;
  /** Opens a store on a database of its own. */
  fresh(): Promise<{ store: ApprovalStore; close(): Promise<void> }>;
  close(): Promise<void>;
}

const LIMITS = { perRequester: 10_000, overall: 10_000 };
const BOB = { name: 'bob', groups: ['platform'] };
const CAROL = { name: 'carol', groups: ['platform', 'dba'] };
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const anHourAgo = () => new Date(Date.now() - 3_600_000).toISOString();

/** The queue changes a store announces, as a replica's feed hears them. */
class Feed extends EventEmitter {
  readonly seen: QueueChange[] = [];

  hear = (change: QueueChange) => {
    this.seen.push(change);
    this.emit('change');
  };

  /** Resolves once `change` has been announced (it may have been already). */
  async announced(change: QueueChange): Promise<void> {
    const matches = () => this.seen.some((c) => c.type === change.type && c.id === change.id);
    while (!matches()) await once(this, 'change');
  }
}

let made = 0;

/** A new call (of alice unless `overrides` say otherwise), unlike any other unless its call key says so. */
function call(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const requester = overrides.requester === undefined ? 'alice' : overrides.requester;
  return pendingRequest(requester, { version: `v${++made}` }, { traceparent: TRACE, ...overrides });
}

/** The same call again, from another caller: a new id, the same key. */
const again = (request: ApprovalRequest, overrides: Partial<ApprovalRequest> = {}) => call({ ...request, id: `${request.id}-again-${++made}`, receivedAt: new Date().toISOString(), ...overrides });

async function arrive(ctx: Ctx, request: ApprovalRequest, holder = 'replica-1', limits = LIMITS): Promise<Arrival> {
  return ctx.store.arrive(request, limits, holder, anHourAgo());
}

async function park(ctx: Ctx, request: ApprovalRequest = call(), holder = 'replica-1'): Promise<ApprovalRequest> {
  const arrival = await arrive(ctx, request, holder);
  assert.is(arrival.kind, 'parked', JSON.stringify(arrival));
  return request;
}

async function stored(ctx: Ctx, id: string): Promise<ApprovalRequest> {
  const request = await ctx.store.get(id);
  assert.ok(request, `request ${id} is stored`);
  return request!;
}

async function holderOf(ctx: Ctx, id: string): Promise<string | null> {
  return (await ctx.sql.query<{ holder: string | null }>(`SELECT holder FROM hitl_requests WHERE id = $1`, [id])).rows[0].holder;
}

/** Changes one field of a stored request's JSON, as time passing would. */
async function setField(ctx: Ctx, id: string, path: string[], value: unknown): Promise<void> {
  await ctx.sql.query(`UPDATE hitl_requests SET data = jsonb_set(data, $2::text[], $3::jsonb) WHERE id = $1`, [id, path, JSON.stringify(value)]);
}

/** The audit entries written after `seq`, parsed. */
async function auditAfter(ctx: Ctx, seq: number): Promise<Record<string, any>[]> {
  await ctx.store.settled();
  return (await ctx.store.auditChain()).filter((e) => e.seq > seq).map((e) => JSON.parse(e.entry));
}

async function auditSeq(ctx: Ctx): Promise<number> {
  await ctx.store.settled();
  return (await ctx.store.auditHead())?.seq ?? 0;
}

/** The parts of audit entries a case states: event, request, actor, detail and trace. */
const described = (entries: Record<string, any>[]) => entries.map((e) => [e.event, e.requestId, e.actor, e.detail, e.traceparent]);

/** The DecisionError `promise` rejects with. */
async function refusedDecision(promise: Promise<unknown>): Promise<DecisionError> {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, DecisionError);
    return err as DecisionError;
  }
  return assert.unreachable('the decision was taken; it should have been refused') as never;
}

/** Requests waiting per gate and tool, for one gate. */
async function queueCounts(ctx: Ctx, gate: string): Promise<Record<string, number>> {
  const rows = (await ctx.store.pendingCounts()).filter((r) => r.gate === gate);
  return Object.fromEntries(rows.map((r) => [r.tool, r.n]));
}

function storeSuite(engine: Engine) {
  const register = suite<Ctx>(`the approval store on ${engine === 'embedded' ? 'the embedded engine' : 'PostgreSQL'}`);
  const it = engine === 'postgres' ? onPostgres(register) : register;

  it.before(async (ctx) => {
    const database = await openEngine(engine, 'hitl_store');
    const closing: (() => Promise<void>)[] = [];
    ctx.sql = database.sql;
    ctx.store = new ApprovalStore(ctx.sql);
    await ctx.store.init();
    ctx.feed = new Feed();
    closing.push(await ctx.store.subscribe(ctx.feed.hear, () => {}));
    ctx.another = async () => {
      // The embedded engine is one process's: a second store there shares this connection.
      const sql = engine === 'embedded' ? ctx.sql : await database.open();
      if (sql !== ctx.sql) closing.push(() => sql.close());
      const store = new ApprovalStore(sql);
      await store.init();
      return store;
    };
    ctx.fresh = async () => {
      const own = await openEngine(engine, 'hitl_store_fresh');
      const store = new ApprovalStore(own.sql);
      await store.init();
      return { store, close: own.close };
    };
    ctx.close = async () => {
      await ctx.store.settled();
      for (const close of closing.reverse()) await close();
      await database.close();
    };
  });
  it.after(async (ctx) => ctx.close());

  it('a new call is parked: stored pending with its holder and key, counted, audited and announced', async (ctx) => {
    const before = await auditSeq(ctx);
    const request = call({ gate: 'parking', requester: 'ann' });
    const arrival = await arrive(ctx, request, 'replica-7');
    assert.equal(arrival, { kind: 'parked', request });
    assert.equal(await stored(ctx, request.id), request);
    assert.is(await holderOf(ctx, request.id), 'replica-7');
    const { rows } = await ctx.sql.query<{ call_key: string; requester: string; status: string }>(`SELECT call_key, requester, status FROM hitl_requests WHERE id = $1`, [request.id]);
    assert.equal(rows, [{ call_key: request.callKey, requester: 'ann', status: 'pending' }]);
    assert.equal(await queueCounts(ctx, 'parking'), { run_migration: 1 });
    assert.equal(described(await auditAfter(ctx, before)), [
      ['parked', request.id, 'ann', { gate: 'parking', path: '/privileged/mcp', calls: [{ tool: 'run_migration', args: request.toolArgs }] }, TRACE],
    ]);
    await ctx.feed.announced({ type: 'parked', id: request.id });
  });

  it('an identical call joins the pending request: one more waiting, held by the replica it reached', async (ctx) => {
    const first = await park(ctx, call({ traceparent: null }));
    const before = await auditSeq(ctx);
    const joined = await arrive(ctx, again(first, { requester: 'alice' }), 'replica-2');
    assert.is(joined.kind, 'joined');
    assert.equal(joined.kind === 'joined' && [joined.request.id, joined.request.waiting], [first.id, 2]);
    assert.is((await stored(ctx, first.id)).waiting, 2);
    assert.is(await holderOf(ctx, first.id), 'replica-2');
    const [entry, ...more] = await auditAfter(ctx, before);
    assert.equal(more, []);
    // A call with no trace leaves none in the entry, rather than a null.
    assert.equal([entry.event, entry.requestId, entry.actor, entry.detail, 'traceparent' in entry], ['joined', first.id, 'alice', { waiting: 2 }, false]);
    await ctx.feed.announced({ type: 'joined', id: first.id });
  });

  it('a request older than `since` is not joined: the call is parked anew', async (ctx) => {
    const old = await park(ctx);
    const fresh = again(old);
    const arrival = await ctx.store.arrive(fresh, LIMITS, 'replica-1', new Date(Date.now() + 1000).toISOString());
    assert.equal([arrival.kind, arrival.kind === 'parked' && arrival.request.id], ['parked', fresh.id]);
  });

  it('identical calls arriving together make one request that all of them wait on', async (ctx) => {
    const first = call();
    const arrivals = await Promise.all([first, again(first), again(first)].map((r) => arrive(ctx, r)));
    assert.equal(arrivals.map((a) => a.kind).sort(), ['joined', 'joined', 'parked']);
    assert.is((await stored(ctx, first.id)).waiting, 3);
  });

  it('a call rejected within its grant TTL is answered with that rejection; after it, the call parks anew', async (ctx) => {
    const rejected = await park(ctx, call({ grantTtlSeconds: 60 }));
    await ctx.store.decide(rejected.id, BOB, false, 'not on a Friday');
    const before = await auditSeq(ctx);
    // Decided 59 s ago, with a TTL of a minute: still answered.
    await setField(ctx, rejected.id, ['decidedAt'], new Date(Date.now() - 59_000).toISOString());
    const replayed = await arrive(ctx, again(rejected, { requester: 'alice' }));
    assert.equal([replayed.kind, replayed.kind === 'replayed_rejection' && replayed.request.id], ['replayed_rejection', rejected.id]);
    assert.equal(described(await auditAfter(ctx, before)), [['replayed_rejection', rejected.id, 'alice', { reason: 'not on a Friday', by: 'bob' }, TRACE]]);

    await setField(ctx, rejected.id, ['decidedAt'], new Date(Date.now() - 61_000).toISOString());
    const anew = again(rejected);
    assert.equal(await arrive(ctx, anew), { kind: 'parked', request: anew });
  });

  it('the latest decision of identical calls is the one that answers', async (ctx) => {
    const old = await park(ctx, call({ grantTtlSeconds: 60 }));
    await ctx.store.decide(old.id, BOB, false, 'no');
    await setField(ctx, old.id, ['decidedAt'], new Date(Date.now() - 120_000).toISOString());
    const newer = await park(ctx, again(old));
    await ctx.store.decide(newer.id, BOB, false, 'still no');
    // The older rejection is past its TTL, the newer is not: the call is refused.
    const arrival = await arrive(ctx, again(old));
    assert.equal([arrival.kind, arrival.kind === 'replayed_rejection' && arrival.request.reason], ['replayed_rejection', 'still no']);
  });

  it('an approval given after every caller stopped waiting is a grant, used once by the same call within its TTL', async (ctx) => {
    const request = await park(ctx, call({ grantTtlSeconds: 120 }));
    await ctx.store.stopWaiting(request.id, 'hold_ended', 'the gate stopped holding the call');
    const decided = await auditSeq(ctx);
    const approved = await ctx.store.decide(request.id, BOB, true, 'go');
    assert.is(approved.status, 'approved');
    assert.ok(approved.grant, 'the approval became a grant');
    assert.is(Date.parse(approved.grant!.until) - Date.parse(approved.decidedAt!), 120_000);
    assert.is(approved.grant!.usedAt, null);
    assert.equal(described(await auditAfter(ctx, decided)), [['approved', request.id, 'bob', { reason: 'go', approvals: 1, required: 1, grantUntil: approved.grant!.until }, TRACE]]);

    const before = await auditSeq(ctx);
    const used = await arrive(ctx, again(request, { requester: 'alice' }));
    assert.equal([used.kind, used.kind === 'grant_used' && used.request.id], ['grant_used', request.id]);
    const usedAt = (await stored(ctx, request.id)).grant?.usedAt;
    assert.ok(usedAt && Date.parse(usedAt) >= Date.parse(approved.decidedAt!), `the grant is marked used (${usedAt})`);
    assert.equal(described(await auditAfter(ctx, before)), [['grant_used', request.id, 'alice', { approvedBy: 'bob' }, TRACE]]);
    // Used: the next identical call parks anew.
    assert.is((await arrive(ctx, again(request))).kind, 'parked');
  });

  it('an expired grant is not used: the call parks anew', async (ctx) => {
    const request = await park(ctx, call({ grantTtlSeconds: 120 }));
    await ctx.store.stopWaiting(request.id, 'hold_ended', 'the gate stopped holding the call');
    await ctx.store.decide(request.id, BOB, true, 'go');
    await setField(ctx, request.id, ['grant', 'until'], new Date(Date.now() - 1000).toISOString());
    assert.is((await arrive(ctx, again(request))).kind, 'parked');
  });

  it('an approval while a caller is held, or a rejection, is no grant', async (ctx) => {
    const held = await park(ctx);
    assert.is((await ctx.store.decide(held.id, BOB, true, 'go')).grant, null);
    const left = await park(ctx);
    await ctx.store.stopWaiting(left.id, 'hold_ended', 'the gate stopped holding the call');
    assert.is((await ctx.store.decide(left.id, BOB, false, 'no')).grant, null);
    // Deferred, then joined by the same call again: a caller is held once more.
    const rejoined = await park(ctx);
    await ctx.store.stopWaiting(rejoined.id, 'hold_ended', 'the gate stopped holding the call');
    await arrive(ctx, again(rejoined));
    assert.is((await ctx.store.decide(rejoined.id, BOB, true, 'go')).grant, null);
  });

  it('a call over the per-requester or the overall limit is not parked, and says which', async (ctx) => {
    const limits = { perRequester: 2, overall: 10_000 };
    for (let i = 0; i < 2; i++) assert.is((await ctx.store.arrive(call({ requester: 'Bea' }), limits, 'replica-1', anHourAgo())).kind, 'parked');
    // Another spelling of the same name is the same requester.
    const third = call({ requester: 'BEA' });
    assert.equal(await ctx.store.arrive(third, limits, 'replica-1', anHourAgo()), { kind: 'flooded', reason: 'BEA already has 2 requests waiting for review' });
    assert.is(await ctx.store.get(third.id), null);

    const waiting = (await ctx.store.pending()).length;
    const overall = await ctx.store.arrive(call({ requester: 'cid' }), { perRequester: 20, overall: waiting }, 'replica-1', anHourAgo());
    assert.equal(overall, { kind: 'flooded', reason: `too many requests waiting for review (${waiting}); try later` });
    assert.is((await ctx.store.arrive(call({ requester: 'cid' }), { perRequester: 20, overall: waiting + 1 }, 'replica-1', anHourAgo())).kind, 'parked');
  });

  it('calls arriving together are counted against the limit one after another', async (ctx) => {
    const limits = { perRequester: 2, overall: 10_000 };
    const arrivals = await Promise.all(Array.from({ length: 4 }, () => ctx.store.arrive(call({ requester: 'dee' }), limits, 'replica-1', anHourAgo())));
    assert.equal(arrivals.map((a) => a.kind).sort(), ['flooded', 'flooded', 'parked', 'parked']);
  });

  it('an ended request no longer counts against the limits', async (ctx) => {
    const limits = { perRequester: 1, overall: 10_000 };
    const first = call({ requester: 'eve' });
    assert.is((await ctx.store.arrive(first, limits, 'replica-1', anHourAgo())).kind, 'parked');
    assert.is((await ctx.store.arrive(call({ requester: 'eve' }), limits, 'replica-1', anHourAgo())).kind, 'flooded');
    await ctx.store.finish(first.id, 'timed_out', 'nobody decided');
    assert.is((await ctx.store.arrive(call({ requester: 'eve' }), limits, 'replica-1', anHourAgo())).kind, 'parked');
  });

  it('floodRefusal: a reason over a limit, none within it or for a call that may join', async (ctx) => {
    const limits = { perRequester: 1, overall: 10_000 };
    const parked = await park(ctx, call({ requester: 'fay' }));
    assert.is(await ctx.store.floodRefusal(call({ requester: 'fay' }), limits, anHourAgo()), 'fay already has 1 requests waiting for review');
    assert.is(await ctx.store.floodRefusal(again(parked), limits, anHourAgo()), null);
    assert.is(await ctx.store.floodRefusal(call({ requester: 'gil' }), limits, anHourAgo()), null);
    // The same key, but arrived before `since`: not one it may join.
    assert.is(await ctx.store.floodRefusal(again(parked), limits, new Date(Date.now() + 1000).toISOString()), 'fay already has 1 requests waiting for review');
  });

  it('a store that starts counts the requests already waiting', async (ctx) => {
    const limits = { perRequester: 2, overall: 10_000 };
    await park(ctx, call({ requester: 'hal', gate: 'restarted' }));
    const halsLast = await park(ctx, call({ requester: 'hal', gate: 'restarted' }));
    const waiting = (await ctx.store.pending()).length;
    const started = await ctx.another();
    assert.is(await started.floodRefusal(call({ requester: 'hal' }), limits, anHourAgo()), 'hal already has 2 requests waiting for review');
    // Before it has read the keys of recent calls, it reads them rather than refuse one that may join.
    assert.is(await started.floodRefusal(again(halsLast), limits, anHourAgo()), null);
    assert.is(await started.floodRefusal(call({ requester: 'ida' }), limits, anHourAgo()), null);
    assert.is(await started.floodRefusal(call({ requester: 'ida' }), { perRequester: 20, overall: waiting }, anHourAgo()), `too many requests waiting for review (${waiting}); try later`);
    assert.equal(await queueCounts(ctx, 'restarted'), { run_migration: 2 });
  });

  if (engine === 'postgres') {
    it('a refusal judged on a stale copy of the counts is confirmed by reading them again', async (ctx) => {
      const limits = { perRequester: 1, overall: 10_000 };
      const replica = await ctx.another();
      const parked = await park(ctx, call({ requester: 'jay' }));
      assert.is(await ctx.store.floodRefusal(call({ requester: 'jay' }), limits, anHourAgo()), 'jay already has 1 requests waiting for review');
      // Another replica ends it: this copy still counts it, the store does not.
      assert.ok(await replica.finish(parked.id, 'timed_out', 'nobody decided'));
      assert.is(await ctx.store.floodRefusal(call({ requester: 'jay' }), limits, anHourAgo()), null);
      // And another replica's park is counted by this one's arrival.
      assert.is((await replica.arrive(call({ requester: 'jay' }), limits, 'replica-2', anHourAgo())).kind, 'parked');
      assert.is((await ctx.store.arrive(call({ requester: 'jay' }), limits, 'replica-1', anHourAgo())).kind, 'flooded');
    });

    it('a replica that has read the recent call keys still joins a call another replica parked since', async (ctx) => {
      const replica = await ctx.another();
      // A refusal reads the counts and the keys again.
      assert.is(await ctx.store.floodRefusal(call({ requester: 'liv' }), { perRequester: 0, overall: 10_000 }, anHourAgo()), 'liv already has 0 requests waiting for review');
      const elsewhere = call({ requester: 'liv' });
      assert.is((await replica.arrive(elsewhere, LIMITS, 'replica-2', anHourAgo())).kind, 'parked');
      const joined = await arrive(ctx, again(elsewhere));
      assert.equal([joined.kind, joined.kind === 'joined' && joined.request.id], ['joined', elsewhere.id]);
    });

    it('a batch run again without the unit the database refused counts each park once', async (ctx) => {
      const limits = { perRequester: 1, overall: 10_000 };
      const replica = await ctx.another();
      const first = await park(ctx, call({ requester: 'max' }));
      assert.ok(await replica.finish(first.id, 'timed_out', 'nobody decided'));
      const refused = await park(ctx);
      // PostgreSQL refuses a NUL in JSON: that decision fails alone, and its batch is run again unit by unit.
      const [decision, parked, refusal] = await Promise.allSettled([
        ctx.store.decide(refused.id, BOB, true, 'ok\u0000'),
        ctx.store.arrive(call({ requester: 'max' }), limits, 'replica-1', anHourAgo()),
        ctx.store.floodRefusal(call({ requester: 'max' }), limits, anHourAgo()),
      ]);
      assert.is(decision.status, 'rejected');
      assert.equal([parked.status === 'fulfilled' && parked.value.kind, refusal.status === 'fulfilled' && refusal.value], ['parked', 'max already has 1 requests waiting for review']);
    });

    it('counts read again inside a batch include the calls parked earlier in it', async (ctx) => {
      const limits = { perRequester: 1, overall: 10_000 };
      const replica = await ctx.another();
      const first = await park(ctx, call({ requester: 'kai' }));
      assert.ok(await replica.finish(first.id, 'timed_out', 'nobody decided'));
      // This copy still counts the first call, so the refusal reads the counts again, in the batch that parks the second.
      const [parked, refusal] = await Promise.all([
        ctx.store.arrive(call({ requester: 'kai' }), limits, 'replica-1', anHourAgo()),
        ctx.store.floodRefusal(call({ requester: 'kai' }), limits, anHourAgo()),
      ]);
      assert.equal([parked.kind, refusal], ['parked', 'kai already has 1 requests waiting for review']);
    });
  }

  it('stopWaiting: one of several callers leaving lowers the count and keeps the request', async (ctx) => {
    const request = await park(ctx);
    await arrive(ctx, again(request));
    await arrive(ctx, again(request));
    const before = await auditSeq(ctx);
    const left = await ctx.store.stopWaiting(request.id, 'abandoned', 'the caller went away');
    assert.equal([left?.status, left?.waiting], ['pending', 2]);
    const ended = await ctx.store.stopWaiting(request.id, 'hold_ended', 'the gate stopped holding the call');
    assert.equal([ended?.status, ended?.waiting, ended?.callerStoppedAt], ['pending', 1, null]);
    assert.equal(described(await auditAfter(ctx, before)), [
      ['caller_left', request.id, null, { reason: 'the caller went away', waiting: 2 }, TRACE],
      ['hold_ended', request.id, null, { reason: 'the gate stopped holding the call', waiting: 1 }, TRACE],
    ]);
    assert.equal((await stored(ctx, request.id)).waiting, 1);
    assert.is(await holderOf(ctx, request.id), 'replica-1');
  });

  it('stopWaiting: the last caller leaving before any deferral abandons the request', async (ctx) => {
    const request = await park(ctx, call({ gate: 'left' }));
    const before = await auditSeq(ctx);
    const left = await ctx.store.stopWaiting(request.id, 'abandoned', 'the caller went away');
    assert.equal([left?.status, left?.decidedBy, left?.reason, left?.waiting], ['abandoned', null, 'the caller went away', 0]);
    assert.ok(left?.decidedAt, 'the end is dated');
    assert.equal(await stored(ctx, request.id), left);
    assert.is(await holderOf(ctx, request.id), null);
    assert.equal(await queueCounts(ctx, 'left'), {});
    assert.equal(described(await auditAfter(ctx, before)), [['abandoned', request.id, null, { reason: 'the caller went away' }, TRACE]]);
    await ctx.feed.announced({ type: 'abandoned', id: request.id });
  });

  it('stopWaiting: the last hold ending defers the request, which stays queued with nobody holding it', async (ctx) => {
    const request = await park(ctx, call({ gate: 'deferred' }));
    const before = await auditSeq(ctx);
    const deferred = await ctx.store.stopWaiting(request.id, 'hold_ended', 'the gate stopped holding the call');
    assert.equal([deferred?.status, deferred?.waiting], ['pending', 0]);
    assert.ok(deferred?.callerStoppedAt, 'when the callers stopped is kept');
    assert.is(await holderOf(ctx, request.id), null);
    assert.equal(await queueCounts(ctx, 'deferred'), { run_migration: 1 });
    assert.equal(described(await auditAfter(ctx, before)), [['deferred', request.id, null, { reason: 'the gate stopped holding the call' }, TRACE]]);
    await ctx.feed.announced({ type: 'deferred', id: request.id });

    // A caller that joined it later and left again leaves it deferred, not abandoned.
    assert.is((await arrive(ctx, again(request))).kind, 'joined');
    const after = await ctx.store.stopWaiting(request.id, 'abandoned', 'the caller went away');
    assert.equal([after?.status, after?.waiting], ['pending', 0]);
  });

  it('stopWaiting: a request stored before callers were counted has its one caller', async (ctx) => {
    const request = await park(ctx);
    await ctx.sql.query(`UPDATE hitl_requests SET data = data - 'waiting' WHERE id = $1`, [request.id]);
    const deferred = await ctx.store.stopWaiting(request.id, 'hold_ended', 'the gate stopped holding the call');
    assert.equal([deferred?.status, deferred?.waiting], ['pending', 0]);
  });

  it('stopWaiting: a decided request is returned as decided, an unknown one as null, and nothing is written', async (ctx) => {
    const request = await park(ctx);
    await ctx.store.decide(request.id, BOB, false, 'no');
    const before = await auditSeq(ctx);
    const decided = await ctx.store.stopWaiting(request.id, 'abandoned', 'the caller went away');
    assert.equal([decided?.status, decided?.waiting], ['rejected', 1]);
    assert.is(await ctx.store.stopWaiting('no-such-request', 'abandoned', 'the caller went away'), null);
    assert.equal(await auditAfter(ctx, before), []);
  });

  // Units submitted in the same turn of the event loop commit in one batch, in the order given.

  it('in one batch, a call arriving after a rejection of its request meets the rejection, not a request to join', async (ctx) => {
    const request = await park(ctx);
    const [rejected, arrival] = await Promise.all([ctx.store.decide(request.id, BOB, false, 'no'), arrive(ctx, again(request))]);
    assert.is(rejected.status, 'rejected');
    assert.equal([arrival.kind, arrival.kind === 'replayed_rejection' && arrival.request.id], ['replayed_rejection', request.id]);
  });

  it('in one batch, the replica a call joined from stays the holder through a later change of the request', async (ctx) => {
    const request = await park(ctx, call(), 'replica-1');
    await arrive(ctx, again(request), 'replica-1');
    const [joined, left] = await Promise.all([arrive(ctx, again(request), 'replica-3'), ctx.store.stopWaiting(request.id, 'abandoned', 'the caller went away')]);
    assert.equal([joined.kind, left?.waiting], ['joined', 2]);
    assert.is(await holderOf(ctx, request.id), 'replica-3');
    assert.is((await stored(ctx, request.id)).waiting, 2);

    // Deferred and joined again in one batch: held again, by the replica it joined from.
    const deferred = await park(ctx, call(), 'replica-1');
    const [, rejoined] = await Promise.all([ctx.store.stopWaiting(deferred.id, 'hold_ended', 'the gate stopped holding the call'), arrive(ctx, again(deferred), 'replica-4')]);
    assert.is(rejoined.kind, 'joined');
    assert.is(await holderOf(ctx, deferred.id), 'replica-4');
  });

  it('in one batch, calls of different gates and tools are counted each under its own', async (ctx) => {
    const gate = `batched-${engine}`;
    await Promise.all([
      park(ctx, call({ gate, toolName: 'drop_table' })),
      park(ctx, call({ gate, toolName: 'run_migration' })),
      park(ctx, call({ gate, toolName: 'run_migration' })),
      park(ctx, call({ gate: `${gate}-other`, toolName: 'drop_table' })),
    ]);
    assert.equal(await queueCounts(ctx, gate), { drop_table: 1, run_migration: 2 });
    assert.equal(await queueCounts(ctx, `${gate}-other`), { drop_table: 1 });
  });

  it('decide: an approval ends the request, counted down, audited, announced and handed to the listeners', async (ctx) => {
    const request = await park(ctx, call({ gate: 'decided' }));
    const ended: ApprovalRequest[] = [];
    const stopHearing = ctx.store.onEnded((r) => ended.push(r));
    const before = await auditSeq(ctx);
    const approved = await ctx.store.decide(request.id, BOB, true, 'looks fine');
    assert.equal([approved.status, approved.decidedBy, approved.reason, approved.approvals.map((a) => [a.reviewer, a.reason])], ['approved', 'bob', 'looks fine', [['bob', 'looks fine']]]);
    assert.equal(await stored(ctx, request.id), approved);
    assert.equal(ended, [approved]);
    assert.equal(await queueCounts(ctx, 'decided'), {});
    assert.equal(described(await auditAfter(ctx, before)), [['approved', request.id, 'bob', { reason: 'looks fine', approvals: 1, required: 1 }, TRACE]]);
    await ctx.feed.announced({ type: 'approved', id: request.id });

    stopHearing();
    const later = await park(ctx);
    await ctx.store.finish(later.id, 'timed_out', 'nobody decided');
    assert.equal(ended, [approved]);
  });

  it('decide: a rejection ends it at once, whatever the number of approvals asked for', async (ctx) => {
    const request = await park(ctx, call({ approvalsRequired: 2 }));
    const before = await auditSeq(ctx);
    const rejected = await ctx.store.decide(request.id, BOB, false, 'no');
    assert.equal([rejected.status, rejected.decidedBy, rejected.reason, rejected.approvals], ['rejected', 'bob', 'no', []]);
    assert.equal(described(await auditAfter(ctx, before)), [['rejected', request.id, 'bob', { reason: 'no', approvals: 0, required: 2 }, TRACE]]);
    await ctx.feed.announced({ type: 'rejected', id: request.id });
  });

  it('decide: two approvals asked for, the first is recorded and the second, by another reviewer, approves', async (ctx) => {
    const request = await park(ctx, call({ approvalsRequired: 2 }));
    const before = await auditSeq(ctx);
    const first = await ctx.store.decide(request.id, BOB, true, 'one');
    assert.equal([first.status, first.decidedAt, first.approvals.length], ['pending', null, 1]);
    await ctx.feed.announced({ type: 'approval', id: request.id });
    const twice = await refusedDecision(ctx.store.decide(request.id, { name: 'BOB', groups: ['platform'] }, true, 'again'));
    assert.equal([twice.status, twice.message], [409, `BOB already approved ${request.id}`]);
    const second = await ctx.store.decide(request.id, CAROL, true, 'two');
    assert.equal([second.status, second.decidedBy], ['approved', 'bob, carol']);
    assert.equal(described(await auditAfter(ctx, before)), [
      ['approval_recorded', request.id, 'bob', { reason: 'one', approvals: 1, required: 2 }, TRACE],
      ['decision_refused', request.id, 'BOB', { approved: true, reason: 'again', problem: `BOB already approved ${request.id}` }, TRACE],
      ['approved', request.id, 'carol', { reason: 'two', approvals: 2, required: 2 }, TRACE],
    ]);
  });

  it('decide: the requester under any spelling, or a reviewer outside the group, is refused with a 403 and audited', async (ctx) => {
    const request = await park(ctx, call({ requester: 'alice', reviewerGroup: 'dba' }));
    const before = await auditSeq(ctx);
    const own = await refusedDecision(ctx.store.decide(request.id, { name: 'ALICE', groups: ['dba'] }, true, 'mine'));
    assert.equal([own.status, own.message], [403, 'a requester cannot decide their own request']);
    const outsider = await refusedDecision(ctx.store.decide(request.id, BOB, true, 'ok'));
    assert.equal([outsider.status, outsider.message], [403, 'bob is not in reviewer group dba']);
    assert.equal(described(await auditAfter(ctx, before)), [
      ['decision_refused', request.id, 'ALICE', { approved: true, reason: 'mine', problem: 'a requester cannot decide their own request' }, TRACE],
      ['decision_refused', request.id, 'bob', { approved: true, reason: 'ok', problem: 'bob is not in reviewer group dba' }, TRACE],
    ]);
    assert.is((await stored(ctx, request.id)).status, 'pending');
    assert.is((await ctx.store.decide(request.id, CAROL, false, 'no')).status, 'rejected');
  });

  it('decide: a call with no requester can be decided by any reviewer of its group', async (ctx) => {
    const request = await park(ctx, call({ requester: null }));
    assert.is((await ctx.store.decide(request.id, BOB, true, 'ok')).status, 'approved');
  });

  it('decide: an unknown request is a 404, an ended one a 410 or 409, and nothing is audited', async (ctx) => {
    const timedOut = await park(ctx);
    await ctx.store.finish(timedOut.id, 'timed_out', 'nobody decided');
    const abandoned = await park(ctx);
    await ctx.store.finish(abandoned.id, 'abandoned', 'gone');
    const approved = await park(ctx);
    await ctx.store.decide(approved.id, BOB, true, 'ok');
    const before = await auditSeq(ctx);
    const cases = [
      [await refusedDecision(ctx.store.decide('no-such-request', BOB, true, 'ok')), 404, 'no request no-such-request'],
      [await refusedDecision(ctx.store.decide(timedOut.id, BOB, true, 'ok')), 410, `request ${timedOut.id} is timed out`],
      [await refusedDecision(ctx.store.decide(abandoned.id, BOB, true, 'ok')), 410, `request ${abandoned.id} is abandoned`],
      [await refusedDecision(ctx.store.decide(approved.id, CAROL, false, 'no')), 409, `request ${approved.id} was already approved`],
    ] as const;
    for (const [err, status, message] of cases) assert.equal([err.status, err.message], [status, message]);
    assert.equal(await auditAfter(ctx, before), []);
  });

  it('finish: ends a pending request once, as timed out or abandoned', async (ctx) => {
    const request = await park(ctx, call({ gate: 'finished' }));
    const ended: ApprovalRequest[] = [];
    const stopHearing = ctx.store.onEnded((r) => ended.push(r));
    const before = await auditSeq(ctx);
    assert.is(await ctx.store.finish(request.id, 'timed_out', 'nobody decided'), true);
    assert.is(await ctx.store.finish(request.id, 'abandoned', 'again'), false);
    assert.is(await ctx.store.finish('no-such-request', 'abandoned', 'gone'), false);
    stopHearing();
    const finished = await stored(ctx, request.id);
    assert.equal([finished.status, finished.decidedBy, finished.reason], ['timed_out', null, 'nobody decided']);
    assert.equal(ended, [finished]);
    assert.equal(await queueCounts(ctx, 'finished'), {});
    assert.equal(described(await auditAfter(ctx, before)), [['timed_out', request.id, null, { reason: 'nobody decided' }, TRACE]]);
    await ctx.feed.announced({ type: 'timed_out', id: request.id });
  });

  it('expireOverdue: times out the overdue requests nobody holds, and only those', async (ctx) => {
    const past = new Date(Date.now() - 1000).toISOString();
    const overdue = await park(ctx, call({ expiresAt: past }));
    await ctx.store.stopWaiting(overdue.id, 'hold_ended', 'the gate stopped holding the call');
    const held = await park(ctx, call({ expiresAt: past }));
    const notYet = await park(ctx);
    await ctx.store.stopWaiting(notYet.id, 'hold_ended', 'the gate stopped holding the call');
    const expired = await ctx.store.expireOverdue();
    assert.ok(expired.includes(overdue.id), 'the overdue request nobody holds is timed out');
    assert.ok(!expired.includes(held.id) && !expired.includes(notYet.id), 'a held request, and one not yet due, are left');
    assert.equal([(await stored(ctx, overdue.id)).status, (await stored(ctx, overdue.id)).reason], ['timed_out', 'nobody decided before it expired']);
    assert.is((await stored(ctx, held.id)).status, 'pending');
  });

  it('expireOverdue: a request decided while the overdue ones are read is not counted as timed out', async (ctx) => {
    const overdue = await park(ctx, call({ expiresAt: new Date(Date.now() - 1000).toISOString() }));
    await ctx.store.stopWaiting(overdue.id, 'hold_ended', 'the gate stopped holding the call');
    const [expired, approved] = await Promise.all([ctx.store.expireOverdue(), ctx.store.decide(overdue.id, BOB, true, 'just in time')]);
    assert.is(approved.status, 'approved');
    assert.ok(!expired.includes(overdue.id), JSON.stringify(expired));
    assert.is((await stored(ctx, overdue.id)).status, 'approved');
  });

  it('abandonLeftovers: abandons the held requests a previous process left, not the deferred ones', async (ctx) => {
    const held = await park(ctx);
    const deferred = await park(ctx);
    await ctx.store.stopWaiting(deferred.id, 'hold_ended', 'the gate stopped holding the call');
    const abandoned = await ctx.store.abandonLeftovers('the process restarted');
    assert.ok(abandoned.includes(held.id) && !abandoned.includes(deferred.id), JSON.stringify(abandoned));
    assert.equal([(await stored(ctx, held.id)).status, (await stored(ctx, held.id)).reason], ['abandoned', 'the process restarted']);
    assert.is((await stored(ctx, deferred.id)).status, 'pending');
  });

  it('sweepDeadReplicas: abandons what a silent or departed replica held, and forgets the silent', async (ctx) => {
    const replicas = async () => (await ctx.sql.query<{ id: string }>(`SELECT id FROM hitl_replicas ORDER BY id`)).rows.map((r) => r.id);
    await ctx.store.heartbeat('r-live');
    await ctx.store.heartbeat('r-silent');
    await ctx.store.heartbeat('r-gone');
    await ctx.store.heartbeat('r-live');
    const live = await park(ctx, call(), 'r-live');
    const silent = await park(ctx, call(), 'r-silent');
    const gone = await park(ctx, call(), 'r-gone');
    await ctx.store.leave('r-gone');
    await ctx.sql.query(`UPDATE hitl_replicas SET heartbeat_at = now() - interval '10 seconds' WHERE id = 'r-silent'`);

    // Ten seconds of silence is within a minute's allowance: only the replica that left is swept.
    const lenient = await ctx.store.sweepDeadReplicas(60_000);
    assert.ok(lenient.includes(gone.id) && !lenient.includes(silent.id) && !lenient.includes(live.id), JSON.stringify(lenient));
    assert.equal(await replicas(), ['r-live', 'r-silent']);

    const strict = await ctx.store.sweepDeadReplicas(5_000);
    assert.ok(strict.includes(silent.id) && !strict.includes(live.id), JSON.stringify(strict));
    assert.equal((await stored(ctx, silent.id)).reason, 'the ext-auth replica holding the call stopped');
    assert.equal(await replicas(), ['r-live']);
    assert.is((await stored(ctx, live.id)).status, 'pending');
  });

  it('the queue read in pages, by gate and by tool, oldest first', async (ctx) => {
    const gate = `paged-${engine}`;
    const at = Date.now() - 60_000;
    const requests = [0, 1, 2, 3].map((i) => call({ gate, receivedAt: new Date(at + i * 1000).toISOString(), toolName: i === 2 ? 'drop_table' : 'run_migration' }));
    for (const request of [...requests].reverse()) await park(ctx, request);
    const ids = (list: ApprovalRequest[]) => list.map((r) => r.id);
    assert.equal(ids(await ctx.store.pendingPage({ gate, limit: 2 })), ids(requests.slice(0, 2)));
    const position = { receivedAt: requests[1].receivedAt, id: requests[1].id };
    assert.equal(ids(await ctx.store.pendingPage({ gate, limit: 10, after: position })), ids(requests.slice(2)));
    assert.equal(ids(await ctx.store.pendingPage({ gate, limit: 10, tool: 'drop_table' })), [requests[2].id]);
    assert.equal(ids(await ctx.store.pendingPage({ gate, limit: 10, tool: 'run_migration', after: position })), [requests[3].id]);
    assert.equal(await queueCounts(ctx, gate), { run_migration: 3, drop_table: 1 });

    const all = ids(await ctx.store.pending()).filter((id) => ids(requests).includes(id));
    assert.equal(all, ids(requests));
    const through = (await ctx.store.pendingIds(position)).filter((id) => ids(requests).includes(id));
    assert.equal(through, ids(requests.slice(0, 2)));
    assert.equal((await ctx.store.pendingIds()).filter((id) => ids(requests).includes(id)), ids(requests));
  });

  it('history: ended requests, newest first, filtered by status, requester and tool, with their total', async (ctx) => {
    const requester = `kim-${engine}`;
    const at = Date.now() - 60_000;
    const requests = [0, 1, 2].map((i) => call({ requester, receivedAt: new Date(at + i * 1000).toISOString(), toolName: i === 0 ? 'drop_table' : 'run_migration' }));
    for (const request of requests) await park(ctx, request);
    await ctx.store.decide(requests[0].id, BOB, true, 'ok');
    await ctx.store.decide(requests[1].id, BOB, false, 'no');
    const still = await park(ctx, call({ requester }));
    const ids = (page: { items: ApprovalRequest[]; total: number }) => [page.items.map((r) => r.id), page.total];
    assert.equal(ids(await ctx.store.history({ requester, limit: 10, offset: 0 })), [[requests[1].id, requests[0].id], 2]);
    assert.equal(ids(await ctx.store.history({ requester, limit: 1, offset: 1 })), [[requests[0].id], 2]);
    assert.equal(ids(await ctx.store.history({ requester, status: 'rejected', limit: 10, offset: 0 })), [[requests[1].id], 1]);
    assert.equal(ids(await ctx.store.history({ requester, tool: 'drop_table', limit: 10, offset: 0 })), [[requests[0].id], 1]);
    assert.ok(!(await ctx.store.history({ requester, limit: 10, offset: 0 })).items.some((r) => r.id === still.id), 'a pending request is not history');
  });

  it('record appends an entry with or without a trace; the head names the last entry and the count', async (ctx) => {
    const before = await auditSeq(ctx);
    await ctx.store.record('reviewer_signed_in', null, 'bob', { via: 'oidc' });
    await ctx.store.record('exported', 'req-x', 'carol', { rows: 3 }, TRACE);
    const [first, second] = await auditAfter(ctx, before);
    assert.equal([first.event, first.requestId, first.actor, first.detail, 'traceparent' in first], ['reviewer_signed_in', null, 'bob', { via: 'oidc' }, false]);
    assert.equal(described([second]), [['exported', 'req-x', 'carol', { rows: 3 }, TRACE]]);
    const chain = await ctx.store.auditChain();
    assert.equal(await ctx.store.auditHead(), { seq: chain.at(-1)!.seq, hash: chain.at(-1)!.hash, count: chain.length });
    assert.equal(chain.map((e) => e.seq), chain.map((_, i) => i + 1));
  });

  it('an empty store has no audit head and no checkpoints; a checkpoint is kept once per head, in order', async (ctx) => {
    const { store, close } = await ctx.fresh();
    try {
      assert.is(await store.auditHead(), null);
      assert.equal(await store.checkpoints(), []);
      await store.saveCheckpoint(5, 'token-5');
      await store.saveCheckpoint(3, 'token-3');
      await store.saveCheckpoint(5, 'token-5-again');
      assert.equal(await store.checkpoints(), ['token-3', 'token-5']);
    } finally {
      await close();
    }
  });

  it('get: an unknown request is null; writesWaiting counts what is not committed yet', async (ctx) => {
    assert.is(await ctx.store.get('no-such-request'), null);
    const writes = [park(ctx), park(ctx), park(ctx)];
    assert.ok(ctx.store.writesWaiting > 0, `${ctx.store.writesWaiting} writes wait`);
    await Promise.all(writes);
    await ctx.store.settled();
    assert.is(ctx.store.writesWaiting, 0);
  });

  return register;
}

storeSuite('embedded').run();
storeSuite('postgres').run();
