/**
 * Durable state of the gate: the requests and the audit chain, in SQL that runs unchanged on
 * the embedded engine and on PostgreSQL. Every state change and its audit entry commit in one
 * transaction (a batch of the group-commit writer), and a request leaves `pending` only
 * through a conditional update, so a decision is applied exactly once.
 */
import type { Sql, SqlSession } from '../shared/sql.js';
import type { ChainedEntry } from './audit.js';
import { EVERYONE, PendingCounts, RefusalLedger, floodProblem, scopeOf, type FloodLimits } from './flood.js';
import { GroupCommit, type BatchSession, type Gathered, type Prefetch } from './group-commit.js';
import type { ApprovalRequest, ChangeType, QueueChange, Status } from '../contracts/admin-api.js';
import { nameKey, sameName } from '../shared/names.js';

/** What became of one arriving call: a new request, or one the gate already knows. */
export type Arrival =
  | { kind: 'parked' | 'joined'; request: ApprovalRequest }
  /** An identical call was rejected within the grant TTL: the same rejection, at once. */
  | { kind: 'replayed_rejection'; request: ApprovalRequest }
  /** An identical call was approved after its caller stopped waiting: this call uses that approval. */
  | { kind: 'grant_used'; request: ApprovalRequest }
  /** Parking it would break a flood limit; `reason` says which. */
  | { kind: 'flooded'; reason: string };

/** Where a page of the queue ends: the last request's arrival and id. */
export interface QueuePosition {
  receivedAt: string;
  id: string;
}

export class DecisionError extends Error {
  constructor(readonly status: 403 | 404 | 409 | 410, message: string) {
    super(message);
  }
}

export type { FloodLimits };

/** Serialises audit appends so the chain stays one line even with several writers. */
const AUDIT_LOCK = 72_410_002;
/** Every replica hears every queue change on this channel, delivered when its transaction commits. */
const CHANGES = 'hitl_changes';
/** 2 added hitl_pending_counts; 3 added call_key; 4 added hitl_queue_counts. */
const SCHEMA_VERSION = 4;

/** Most changes committed in one transaction. */
const MAX_BATCH = 256;
/** The lane of the gate's own work (timeouts, callers leaving, sweeps). */
const GATE_LANE = 'gate';

export class ApprovalStore {
  private readonly writer: GroupCommit;
  private readonly counts = new PendingCounts();
  private readonly refusals: RefusalLedger;
  private refreshing: Promise<void> | null = null;
  /**
   * Told of every request this process's writer ends, as its batch commits: the gate releases
   * the callers it holds from here, without reading the request back or waiting for the change
   * feed, which still tells the other replicas.
   */
  private readonly endedListeners = new Set<(request: ApprovalRequest) => void>();
  /** The embedded engine is opened by one process at a time: every change to it goes through this writer. */
  private readonly soleWriter: boolean;

  constructor(
    private readonly sql: Sql,
    onCommit?: (batchSize: number) => void,
  ) {
    this.writer = new GroupCommit(sql, {
      auditLock: AUDIT_LOCK,
      channel: CHANGES,
      maxBatch: MAX_BATCH,
      onCommit,
      soleWriter: sql.engine === 'embedded',
    });
    this.soleWriter = sql.engine === 'embedded';
    this.refusals = new RefusalLedger((take) => {
      let tally: ReturnType<typeof take> | null = null;
      this.writer
        .submit(GATE_LANE, async (tx) => {
          // Taken once: a batch run again writes the same tally.
          tally ??= take();
          if (tally) {
            const { requester, ...detail } = tally;
            tx.audit({ event: 'flood_denied', requestId: null, actor: requester, detail });
          }
        })
        .catch(() => {
          // The refusals were answered and counted in the metrics; only their audit summary is lost.
        });
    });
  }

  /**
   * Why `request` would be refused by the flood limits, judged on this process's copy of the
   * counts; null when the store must decide: within the limits, or identical to a call of
   * `since` or later it may join. Costs no write. On the embedded store, once the call keys are
   * read, the copy is exact and a refusal reads nothing. Shared by replicas (PostgreSQL), the
   * copy over-counts the requests other replicas ended since it was read, however recently: a
   * refusal there is confirmed by a read of the store, one read shared by the refusals that
   * arrive while it runs.
   */
  async floodRefusal(request: ApprovalRequest, limits: FloodLimits, since: string): Promise<string | null> {
    const sinceMs = Date.parse(since);
    const judge = () => (this.counts.knows(request.callKey, sinceMs) ? null : this.counts.problem(request.requester, limits));
    if (!judge()) return null;
    if (!(this.soleWriter && this.counts.keysRead)) await this.refreshCounts(since);
    return judge();
  }

  /**
   * Reads the counts again, once for every refusal that finds them stale meanwhile: a flood's
   * calls arrive together, and each reading its own copy would queue thousands of full reads.
   */
  private refreshCounts(since: string): Promise<void> {
    this.refreshing ??= this.readCountsWhole(since).finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  private readCountsWhole(since: string): Promise<void> {
    return this.writer.submit(GATE_LANE, async (tx) => {
      const keys = await recentKeys(tx, since);
      for (const parked of batchScratch(tx, PARKED_IN_BATCH, () => new Map<string, ApprovalRequest>()).values()) keys.push([parked.callKey, Date.parse(parked.receivedAt)]);
      // The sole writer's counts are exact already: only the keys were missing.
      if (this.soleWriter) return tx.afterCommit(() => this.counts.learnKeys(keys));
      const rows = await readCounts(tx);
      // Changes earlier in this batch are not written yet, but their effects on the copy run before this one's.
      if (tx.gathering) {
        const unwritten = batchScratch(tx, COUNTED_IN_BATCH, () => new Map<string, number>());
        const counts = new Map(rows);
        for (const [scope, delta] of unwritten) counts.set(scope, (counts.get(scope) ?? 0) + delta);
        rows.splice(0, rows.length, ...counts);
      }
      tx.afterCommit(() => this.counts.replace(rows, keys));
    });
  }

  /** Notes one flood refusal for the audit, which records them per requester in aggregate. */
  refused(requester: string | null, reason: string, tool: string): void {
    this.refusals.refused(requester, reason, tool);
  }

  /** Changes submitted and not yet committed. */
  get writesWaiting(): number {
    return this.writer.waiting;
  }

  /** Resolves when every change submitted so far has committed or failed. */
  settled(): Promise<void> {
    return this.writer.idle();
  }

  async init(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      await tx.query(`CREATE TABLE IF NOT EXISTS hitl_requests (
        id text PRIMARY KEY, status text NOT NULL, requester text, received_at timestamptz NOT NULL, data jsonb NOT NULL)`);
      await tx.query(`CREATE INDEX IF NOT EXISTS hitl_requests_status ON hitl_requests (status, received_at)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS hitl_audit (
        seq bigint PRIMARY KEY, entry text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS hitl_audit_checkpoints (seq bigint PRIMARY KEY, token text NOT NULL)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS hitl_replicas (id text PRIMARY KEY, heartbeat_at timestamptz NOT NULL)`);
      await tx.query(`ALTER TABLE hitl_requests ADD COLUMN IF NOT EXISTS holder text`);
      await tx.query(`ALTER TABLE hitl_requests ADD COLUMN IF NOT EXISTS call_key text`);
      await tx.query(`CREATE INDEX IF NOT EXISTS hitl_requests_call_key ON hitl_requests (call_key, received_at)`);
      await tx.query(`CREATE TABLE IF NOT EXISTS hitl_schema_version (version int PRIMARY KEY)`);
      await tx.query(`INSERT INTO hitl_schema_version (version) VALUES ($1) ON CONFLICT DO NOTHING`, [SCHEMA_VERSION]);
      await rebuildPendingCounts(tx);
      // Keys are read at the first refusal, which knows how far back a call can matter.
      this.counts.replace(await readCounts(tx), null);
    });
  }

  /** Calls `onChange` for every queue change any replica commits. */
  subscribe(onChange: (change: QueueChange) => void, onReconnect: () => void): Promise<() => Promise<void>> {
    return this.sql.listen(CHANGES, (payload) => onChange(JSON.parse(payload) as QueueChange), onReconnect);
  }

  /** Says this replica is alive; requests held by a replica that stops saying so are abandoned by the others. */
  async heartbeat(replica: string): Promise<void> {
    await this.sql.liveness.query(
      `INSERT INTO hitl_replicas (id, heartbeat_at) VALUES ($1, now()) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
      [replica],
    );
  }

  async leave(replica: string): Promise<void> {
    await this.sql.query(`DELETE FROM hitl_replicas WHERE id = $1`, [replica]);
  }

  /** Abandons the pending requests of replicas silent for longer than `silenceMs`; returns their ids. */
  async sweepDeadReplicas(silenceMs: number): Promise<string[]> {
    const { rows } = await this.sql.query<{ id: string }>(
      `SELECT r.id FROM hitl_requests r WHERE r.status = 'pending' AND r.holder IS NOT NULL AND NOT EXISTS (
         SELECT 1 FROM hitl_replicas p WHERE p.id = r.holder AND p.heartbeat_at > now() - make_interval(secs => $1))`,
      [silenceMs / 1000],
    );
    const abandoned = await this.finishAll(rows.map((r) => r.id), 'abandoned', 'the ext-auth replica holding the call stopped');
    await this.sql.query(`DELETE FROM hitl_replicas WHERE heartbeat_at < now() - make_interval(secs => $1)`, [silenceMs / 1000]);
    return abandoned;
  }

  /** Requests left pending by a previous process can no longer be answered: their callers are gone. */
  async abandonLeftovers(reason: string): Promise<string[]> {
    // A request whose callers had already been told to come back stays queued until it expires.
    const { rows } = await this.sql.query<{ id: string }>(`SELECT id FROM hitl_requests WHERE status = 'pending' AND holder IS NOT NULL`);
    return this.finishAll(rows.map((r) => r.id), 'abandoned', reason);
  }

  /**
   * Admits one arriving call. An identical call (same key) already pending is joined; one
   * rejected within the grant TTL is answered with that rejection; an unused grant from an
   * approval given after its callers stopped waiting is used up. Otherwise the call is parked
   * as a new request, within the flood limits. `since`: how far back a decision can matter.
   */
  async arrive(request: ApprovalRequest, limits: FloodLimits, holder: string, since: string): Promise<Arrival> {
    return this.writer.submit(scopeOf(request.requester), async (tx) => {
      const parkedInBatch = batchScratch(tx, PARKED_IN_BATCH, () => new Map<string, ApprovalRequest>());
      const known = parkedInBatch.has(request.callKey) ? [parkedInBatch.get(request.callKey)!] : await this.knownCalls(tx, request.callKey, since);
      const now = new Date();
      const pending = known.find((r) => r.status === 'pending');
      if (pending) {
        pending.waiting += 1;
        await save(tx, pending, holder);
        tx.audit({ event: 'joined', requestId: pending.id, actor: request.requester, detail: { waiting: pending.waiting }, traceparent: traceOf(request) });
        notify(tx, { type: 'joined', id: pending.id });
        return { kind: 'joined', request: pending };
      }
      const latest = known.filter((r) => r.decidedAt).sort((a, b) => Date.parse(b.decidedAt!) - Date.parse(a.decidedAt!))[0];
      if (latest?.status === 'rejected' && Date.parse(latest.decidedAt!) + latest.grantTtlSeconds * 1000 > now.getTime()) {
        tx.audit({ event: 'replayed_rejection', requestId: latest.id, actor: request.requester, detail: { reason: latest.reason, by: latest.decidedBy }, traceparent: traceOf(request) });
        return { kind: 'replayed_rejection', request: latest };
      }
      if (latest?.status === 'approved' && latest.grant && !latest.grant.usedAt && Date.parse(latest.grant.until) > now.getTime()) {
        latest.grant.usedAt = now.toISOString();
        await save(tx, latest);
        tx.audit({ event: 'grant_used', requestId: latest.id, actor: request.requester, detail: { approvedBy: latest.decidedBy }, traceparent: traceOf(request) });
        return { kind: 'grant_used', request: latest };
      }
      const count = await this.authoritativeCounts(tx, request.requester);
      const flooded = floodProblem(count, request.requester, limits);
      if (flooded) return { kind: 'flooded', reason: flooded };
      // A copy: a call joining it later in the batch counts itself in, and the batch may be run again.
      const parked = { ...request };
      await insert(tx, parked, holder);
      parkedInBatch.set(request.callKey, parked);
      await this.countPending(tx, request, +1);
      tx.afterCommit(() => this.counts.sawKey(request.callKey, Date.parse(request.receivedAt)));
      return { kind: 'parked', request };
    });
  }

  /**
   * The requests an arriving call could join or be answered by, newest first. On the embedded
   * engine this process is the store's only writer, so once its copy of the call keys is read a
   * key it has not seen has no request, and the lookup is skipped.
   */
  private async knownCalls(tx: BatchSession, callKey: string, since: string): Promise<ApprovalRequest[]> {
    if (this.soleWriter && this.counts.keysRead && !this.counts.knows(callKey, Date.parse(since))) return [];
    // Read in a batch of their own, after this one: not awaited here, where it would wait for itself.
    if (this.soleWriter && !this.counts.keysRead) void this.refreshCounts(since).catch(() => {});
    const { rows } = await tx.query<{ data: ApprovalRequest }>(
      `SELECT data FROM hitl_requests WHERE call_key = $1 AND received_at >= $2 AND status IN ${MEETABLE} ORDER BY received_at DESC`,
      [callKey, since],
    );
    // A request changed earlier in this batch is newer in the batch than in the table.
    const changed = batchRows(tx);
    return rows.map((r) => parsed(changed.get(r.data.id)) ?? r.data).filter((r) => MEETABLE_STATUSES.includes(r.status));
  }

  /**
   * How many requests wait, as the flood limits must judge them: the store's counts, which
   * another replica may have changed meanwhile, or on the embedded engine this process's exact
   * copy; with the changes of this batch not yet written added either way.
   */
  private async authoritativeCounts(tx: BatchSession, requester: string | null): Promise<(scope: string) => number> {
    const unwritten = batchScratch(tx, COUNTED_IN_BATCH, () => new Map<string, number>());
    const inBatch = (scope: string) => (tx.gathering ? (unwritten.get(scope) ?? 0) : 0);
    if (this.soleWriter) return (scope) => this.counts.count(scope) + (unwritten.get(scope) ?? 0);
    const stored = new Map(await readCounts(tx, [EVERYONE, scopeOf(requester)]));
    return (scope) => (stored.get(scope) ?? 0) + inBatch(scope);
  }

  /**
   * Keeps the store's counts and, once committed, this process's copy. The sole writer's copy
   * of the counts per requester is exact and their table is rebuilt at every start: nothing
   * would read that table between, so the sole writer does not keep it. The counts per gate and
   * tool are what the queue page reads, on every engine.
   */
  private async countPending(tx: BatchSession, request: ApprovalRequest, delta: 1 | -1): Promise<void> {
    const { requester, gate, toolName: tool } = request;
    const unwritten = batchScratch(tx, COUNTED_IN_BATCH, () => new Map<string, number>());
    for (const scope of [EVERYONE, scopeOf(requester)]) unwritten.set(scope, (unwritten.get(scope) ?? 0) + delta);
    if (!this.soleWriter) await tx.gather(ADD_TO_COUNTS, { requester, delta });
    await tx.gather(ADD_TO_QUEUE_COUNTS, { gate, tool, delta });
    tx.afterCommit(() => this.counts.add(requester, delta));
  }

  /** Ends every request of `ids` still pending, in as few batches as the writer makes; returns those it ended. */
  private async finishAll(ids: string[], status: 'timed_out' | 'abandoned', reason: string): Promise<string[]> {
    const ended = await Promise.all(ids.map((id) => this.finish(id, status, reason)));
    return ids.filter((_, i) => ended[i]);
  }

  /**
   * One held caller stops waiting: `hold_ended` when the gate answered it "waiting" (the
   * request stays queued), `abandoned` when it went away. When the last one goes, the request
   * is deferred (or abandoned, if it was never deferred and the caller left). Returns the
   * request as it is now; one already decided is returned as decided, for the caller to take.
   */
  async stopWaiting(id: string, why: 'hold_ended' | 'abandoned', reason: string): Promise<ApprovalRequest | null> {
    return this.writer.submit(GATE_LANE, async (tx) => {
      const request = await loadForChange(tx, id);
      if (!request || request.status !== 'pending') return request;
      request.waiting = Math.max(0, (request.waiting ?? 1) - 1);
      const now = new Date().toISOString();
      if (request.waiting > 0) {
        await save(tx, request);
        tx.audit({ event: why === 'abandoned' ? 'caller_left' : 'hold_ended', requestId: id, actor: null, detail: { reason, waiting: request.waiting }, traceparent: traceOf(request) });
        notify(tx, { type: 'joined', id });
        return request;
      }
      if (why === 'abandoned' && request.callerStoppedAt === null) {
        settle(request, 'abandoned', null, reason, now);
        await save(tx, request, null);
        await this.countPending(tx, request, -1);
        tx.audit({ event: 'abandoned', requestId: id, actor: null, detail: { reason }, traceparent: traceOf(request) });
        notify(tx, { type: 'abandoned', id });
        return request;
      }
      request.callerStoppedAt = now;
      await save(tx, request, null);
      tx.audit({ event: 'deferred', requestId: id, actor: null, detail: { reason }, traceparent: traceOf(request) });
      notify(tx, { type: 'deferred', id });
      return request;
    }, { prefetch: REQUESTS_BY_ID, key: id });
  }

  /** Times out the pending requests whose time ran out with nobody holding them; returns their ids. */
  async expireOverdue(): Promise<string[]> {
    const { rows } = await this.sql.query<{ id: string }>(
      `SELECT id FROM hitl_requests WHERE status = 'pending' AND holder IS NULL AND (data->>'expiresAt')::timestamptz <= now()`,
    );
    return this.finishAll(rows.map((r) => r.id), 'timed_out', 'nobody decided before it expired');
  }

  /** Applies one reviewer's decision. Returns the request after it; throws DecisionError when refused. */
  async decide(id: string, reviewer: { name: string; groups: string[] }, approved: boolean, reason: string): Promise<ApprovalRequest> {
    const outcome = await this.writer.submit(`reviewer:${nameKey(reviewer.name)}`, async (tx) => {
      const request = await loadForChange(tx, id);
      if (!request) return new DecisionError(404, `no request ${id}`);
      if (request.status === 'timed_out' || request.status === 'abandoned') return new DecisionError(410, `request ${id} is ${request.status.replace('_', ' ')}`);
      if (request.status !== 'pending') return new DecisionError(409, `request ${id} was already ${request.status}`);
      const refuse = (status: 403 | 409, problem: string) => {
        tx.audit({ event: 'decision_refused', requestId: id, actor: reviewer.name, detail: { approved, reason, problem }, traceparent: traceOf(request) });
        return new DecisionError(status, problem);
      };
      if (request.requester !== null && sameName(request.requester, reviewer.name)) return refuse(403, 'a requester cannot decide their own request');
      if (!reviewer.groups.includes(request.reviewerGroup)) return refuse(403, `${reviewer.name} is not in reviewer group ${request.reviewerGroup}`);
      if (request.approvals.some((a) => sameName(a.reviewer, reviewer.name))) return refuse(409, `${reviewer.name} already approved ${id}`);

      const now = new Date().toISOString();
      if (approved) request.approvals.push({ reviewer: reviewer.name, reason, at: now });
      const enough = request.approvals.length >= request.approvalsRequired;
      if (!approved) settle(request, 'rejected', reviewer.name, reason, now);
      else if (enough) settle(request, 'approved', request.approvals.map((a) => a.reviewer).join(', '), reason, now);
      // Nobody is held to release: the approval waits for the same call to come again, once.
      if ((request.status as Status) === 'approved' && request.waiting === 0 && request.callerStoppedAt !== null) {
        request.grant = { until: new Date(Date.parse(now) + request.grantTtlSeconds * 1000).toISOString(), usedAt: null };
      }
      await save(tx, request);
      if (request.status !== 'pending') {
        await this.countPending(tx, request, -1);
        this.noteEnded(tx, request);
      }
      tx.audit({
        event: approved ? (enough ? 'approved' : 'approval_recorded') : 'rejected',
        requestId: id,
        actor: reviewer.name,
        detail: { reason, approvals: request.approvals.length, required: request.approvalsRequired, ...(request.grant ? { grantUntil: request.grant.until } : {}) },
        traceparent: traceOf(request),
      });
      notify(tx, { type: request.status === 'pending' ? 'approval' : (request.status as ChangeType), id });
      return request;
    }, { prefetch: REQUESTS_BY_ID, key: id });
    if (outcome instanceof DecisionError) throw outcome;
    return outcome;
  }

  /** Ends a pending request as timed out or abandoned; false when it had already left pending. */
  async finish(id: string, status: 'timed_out' | 'abandoned', reason: string): Promise<boolean> {
    return this.writer.submit(GATE_LANE, async (tx) => {
      const request = await loadForChange(tx, id);
      if (!request || request.status !== 'pending') return false;
      settle(request, status, null, reason, new Date().toISOString());
      await save(tx, request);
      await this.countPending(tx, request, -1);
      this.noteEnded(tx, request);
      tx.audit({ event: status, requestId: id, actor: null, detail: { reason }, traceparent: traceOf(request) });
      notify(tx, { type: status, id });
      return true;
    }, { prefetch: REQUESTS_BY_ID, key: id });
  }

  /** Appends one audit entry; `actor` names the lane it waits in. */
  async record(event: string, requestId: string | null, actor: string | null, detail: Record<string, unknown>, traceparent: string | null = null): Promise<void> {
    await this.writer.submit(scopeOf(actor), async (tx) => tx.audit({ event, requestId, actor, detail, traceparent: traceparent ?? undefined }));
  }

  async get(id: string): Promise<ApprovalRequest | null> {
    const { rows } = await this.sql.query<{ data: ApprovalRequest }>(`SELECT data FROM hitl_requests WHERE id = $1`, [id]);
    return rows[0]?.data ?? null;
  }

  /** Calls `listener` with every request this process ends, once it is committed; returns how to stop. */
  onEnded(listener: (request: ApprovalRequest) => void): () => void {
    this.endedListeners.add(listener);
    return () => this.endedListeners.delete(listener);
  }

  /** `request`: this unit's own copy (every read in a batch parses its own), so no later unit changes it. */
  private noteEnded(tx: BatchSession, request: ApprovalRequest): void {
    tx.afterCommit(() => {
      for (const listener of this.endedListeners) listener(request);
    });
  }

  async pending(): Promise<ApprovalRequest[]> {
    const { rows } = await this.sql.query<{ data: ApprovalRequest }>(`SELECT data FROM hitl_requests WHERE status = 'pending' ORDER BY received_at, id`);
    return rows.map((r) => r.data);
  }

  /** Up to `limit` pending requests after `after` in (received, id) order, of one gate or tool if asked. */
  async pendingPage(page: { after?: QueuePosition; limit: number; gate?: string; tool?: string }): Promise<ApprovalRequest[]> {
    const where = [`status = 'pending'`];
    const params: unknown[] = [];
    if (page.after) where.push(`(received_at, id) > ($${params.push(page.after.receivedAt)}::timestamptz, $${params.push(page.after.id)})`);
    if (page.gate) where.push(`data->>'gate' = $${params.push(page.gate)}`);
    if (page.tool) where.push(`data->>'toolName' = $${params.push(page.tool)}`);
    const { rows } = await this.sql.query<{ data: ApprovalRequest }>(
      `SELECT data FROM hitl_requests WHERE ${where.join(' AND ')} ORDER BY received_at, id LIMIT $${params.push(page.limit)}`,
      params,
    );
    return rows.map((r) => r.data);
  }

  /** The ids of the pending requests, oldest first: all of them, or those up to and including `through`. */
  async pendingIds(through?: QueuePosition): Promise<string[]> {
    const { rows } = through
      ? await this.sql.query<{ id: string }>(
          `SELECT id FROM hitl_requests WHERE status = 'pending' AND (received_at, id) <= ($1::timestamptz, $2) ORDER BY received_at, id`,
          [through.receivedAt, through.id],
        )
      : await this.sql.query<{ id: string }>(`SELECT id FROM hitl_requests WHERE status = 'pending' ORDER BY received_at, id`);
    return rows.map((r) => r.id);
  }

  /** How many requests wait, per gate and tool together: kept by every change, so reading them costs the same at any depth. */
  async pendingCounts(): Promise<{ gate: string; tool: string; n: number }[]> {
    const { rows } = await this.sql.query<{ gate: string; tool: string; n: number }>(`SELECT gate, tool, n FROM hitl_queue_counts WHERE n > 0`);
    return rows;
  }

  async history(filter: { status?: Status; requester?: string; tool?: string; limit: number; offset: number }): Promise<{ items: ApprovalRequest[]; total: number }> {
    const where = [`status <> 'pending'`];
    const params: unknown[] = [];
    if (filter.status) where.push(`status = $${params.push(filter.status)}`);
    if (filter.requester) where.push(`requester = $${params.push(filter.requester)}`);
    if (filter.tool) where.push(`data->>'toolName' = $${params.push(filter.tool)}`);
    const clause = where.join(' AND ');
    const total = (await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM hitl_requests WHERE ${clause}`, params)).rows[0].n;
    const { rows } = await this.sql.query<{ data: ApprovalRequest }>(
      `SELECT data FROM hitl_requests WHERE ${clause} ORDER BY received_at DESC, id LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, filter.limit, filter.offset],
    );
    return { items: rows.map((r) => r.data), total };
  }

  /** The chain's last entry and length, or null while it is empty. */
  async auditHead(): Promise<{ seq: number; hash: string; count: number } | null> {
    const { rows } = await this.sql.query<{ seq: number; hash: string; n: number }>(
      `SELECT seq::int AS seq, hash, (SELECT count(*)::int FROM hitl_audit) AS n FROM hitl_audit ORDER BY hitl_audit.seq DESC LIMIT 1`,
    );
    return rows[0] ? { seq: rows[0].seq, hash: rows[0].hash, count: rows[0].n } : null;
  }

  /** Keeps a signed checkpoint of the head; one per head, whichever replica signs it first. */
  async saveCheckpoint(seq: number, token: string): Promise<void> {
    await this.sql.query(`INSERT INTO hitl_audit_checkpoints (seq, token) VALUES ($1, $2) ON CONFLICT (seq) DO NOTHING`, [seq, token]);
  }

  async checkpoints(): Promise<string[]> {
    const { rows } = await this.sql.query<{ token: string }>(`SELECT token FROM hitl_audit_checkpoints ORDER BY seq`);
    return rows.map((r) => r.token);
  }

  async auditChain(): Promise<ChainedEntry[]> {
    const { rows } = await this.sql.query<{ seq: number; entry: string; prev_hash: string; hash: string }>(
      `SELECT seq::int AS seq, entry, prev_hash, hash FROM hitl_audit ORDER BY hitl_audit.seq`,
    );
    return rows.map((r) => ({ seq: r.seq, entry: r.entry, prevHash: r.prev_hash, hash: r.hash }));
  }
}

function settle(request: ApprovalRequest, status: Status, decidedBy: string | null, reason: string, at: string): void {
  request.status = status;
  request.decidedBy = decidedBy;
  request.reason = reason;
  request.decidedAt = at;
}

/*
 * A batch reads the requests its units change in one statement and writes them back in one
 * more. Until then the table is behind the batch, so every read of a request inside a batch
 * looks at the batch's own copy first: the JSON of the request as the batch last left it.
 */

/** The batch's copy of the requests its units read or wrote, by id, as JSON; null when there is no such request. */
const ROWS_IN_BATCH = Symbol('requests read or written in this batch');

function batchRows(tx: BatchSession): Map<string, string | null> {
  return batchScratch(tx, ROWS_IN_BATCH, () => new Map<string, string | null>());
}

/** Each reader gets a copy of its own: a unit's request changes only when that unit changes it. */
const parsed = (json: string | null | undefined): ApprovalRequest | null | undefined => (typeof json === 'string' ? (JSON.parse(json) as ApprovalRequest) : json);

/**
 * Locks and reads requests by id, for every unit of a batch that wants one, in one statement.
 * Read as text: each unit parses its own copy.
 */
const REQUESTS_BY_ID: Prefetch<string> = {
  async read(tx, ids) {
    const rows = batchRows(tx);
    const unread = [...new Set(ids)].filter((id) => !rows.has(id));
    if (unread.length === 0) return;
    const { rows: found } = await tx.query<{ id: string; data: string }>(`SELECT id, data::text AS data FROM hitl_requests WHERE id = ANY($1::text[]) FOR UPDATE`, [unread]);
    for (const id of unread) rows.set(id, null);
    for (const { id, data } of found) rows.set(id, data);
  },
};

/** The request as this batch has it, to change; read from the table (with the rest of the batch's, when wanted ahead) the first time. */
async function loadForChange(tx: BatchSession, id: string): Promise<ApprovalRequest | null> {
  const rows = batchRows(tx);
  if (!rows.has(id)) await REQUESTS_BY_ID.read(tx, [id]);
  return parsed(rows.get(id)) ?? null;
}

/** `holder`: the replica now holding a caller, null when none is held; left as it was when omitted. */
async function save(tx: BatchSession, request: ApprovalRequest, holder?: string | null): Promise<void> {
  const data = JSON.stringify(request);
  batchRows(tx).set(request.id, data);
  await tx.gather(UPDATE_REQUESTS, { id: request.id, status: request.status, data, holder });
}

/**
 * The batch's changed requests in one statement. A request changed by several units is written
 * once, as the last left it: an UPDATE joined to two rows for one target would apply either.
 */
const UPDATE_REQUESTS: Gathered<{ id: string; status: Status; data: string; holder?: string | null }> = {
  async run(tx, rows) {
    const last = new Map<string, { status: Status; data: string; holder?: string | null }>();
    for (const { id, status, data, holder } of rows) last.set(id, { status, data, holder: holder === undefined ? last.get(id)?.holder : holder });
    const changes = [...last.values()];
    await tx.query(
      `UPDATE hitl_requests AS r SET status = u.status, data = u.data,
         holder = CASE WHEN u.sets_holder THEN u.holder ELSE r.holder END
         FROM unnest($1::text[], $2::text[], $3::jsonb[], $4::boolean[], $5::text[]) AS u(id, status, data, sets_holder, holder)
         WHERE r.id = u.id`,
      [[...last.keys()], changes.map((c) => c.status), changes.map((c) => c.data), changes.map((c) => c.holder !== undefined), changes.map((c) => c.holder ?? null)],
    );
  },
};

/*
 * The flood limits need how many requests wait, overall and per requester, at every park. A
 * count over the pending rows grows with the queue (parking the 6,000th call took almost three
 * times as long as the first), so the counts are kept in a table, changed in the transaction
 * that parks or ends a request, and rebuilt from the requests whenever a replica starts. (The
 * embedded store's only writer keeps them in memory alone: see countPending.)
 */
async function rebuildPendingCounts(tx: SqlSession): Promise<void> {
  await tx.query(`CREATE TABLE IF NOT EXISTS hitl_pending_counts (scope text PRIMARY KEY, n int NOT NULL)`);
  await tx.query(`DELETE FROM hitl_pending_counts`);
  const { rows } = await tx.query<{ requester: string | null; n: number }>(
    `SELECT requester, count(*)::int AS n FROM hitl_requests WHERE status = 'pending' GROUP BY requester`,
  );
  const counts = new Map<string, number>([[EVERYONE, 0]]);
  for (const { requester, n } of rows) {
    counts.set(scopeOf(requester), (counts.get(scopeOf(requester)) ?? 0) + n);
    counts.set(EVERYONE, counts.get(EVERYONE)! + n);
  }
  for (const [scope, n] of counts) await tx.query(`INSERT INTO hitl_pending_counts (scope, n) VALUES ($1, $2)`, [scope, n]);
  // The queue page's counts, per gate and tool: a count over the pending rows' JSON grows with the queue.
  await tx.query(`CREATE TABLE IF NOT EXISTS hitl_queue_counts (gate text NOT NULL, tool text NOT NULL, n int NOT NULL, PRIMARY KEY (gate, tool))`);
  await tx.query(`DELETE FROM hitl_queue_counts`);
  await tx.query(
    `INSERT INTO hitl_queue_counts (gate, tool, n) SELECT data->>'gate', data->>'toolName', count(*)::int FROM hitl_requests WHERE status = 'pending' GROUP BY 1, 2`,
  );
}

/** The call keys of requests an arriving call could still meet, with when each latest arrived. */
async function recentKeys(tx: SqlSession, since: string): Promise<[string, number][]> {
  const { rows } = await tx.query<{ call_key: string; at: number }>(
    `SELECT call_key, (extract(epoch FROM max(received_at)) * 1000)::float8 AS at FROM hitl_requests WHERE received_at >= $1 AND status IN ${MEETABLE} GROUP BY call_key`,
    [since],
  );
  return rows.map((r) => [r.call_key, r.at]);
}

/** The counts of `scopes`, or of every scope. */
async function readCounts(tx: SqlSession, scopes?: string[]): Promise<[string, number][]> {
  const { rows } = scopes
    ? await tx.query<{ scope: string; n: number }>(`SELECT scope, n FROM hitl_pending_counts WHERE scope = ANY($1::text[])`, [scopes])
    : await tx.query<{ scope: string; n: number }>(`SELECT scope, n FROM hitl_pending_counts`);
  return rows.map((r) => [r.scope, r.n]);
}

/** The statuses of requests an arriving call can join or be answered by. */
const MEETABLE_STATUSES: Status[] = ['pending', 'approved', 'rejected'];
const MEETABLE = `(${MEETABLE_STATUSES.map((status) => `'${status}'`).join(', ')})`;

/** What a batch's units keep in its scratch: the calls they parked, by call key, and the counts they changed, by scope. */
const PARKED_IN_BATCH = Symbol('parked in this batch');
const COUNTED_IN_BATCH = Symbol('counted in this batch');

function batchScratch<T>(tx: BatchSession, key: symbol, create: () => T): T {
  if (!tx.scratch.has(key)) tx.scratch.set(key, create());
  return tx.scratch.get(key) as T;
}

/** The batch's changes to the counts per requester, summed per scope into one statement. Runs inside a batch, which holds AUDIT_LOCK. */
const ADD_TO_COUNTS: Gathered<{ requester: string | null; delta: number }> = {
  async run(tx, rows) {
    const sums = new Map<string, number>();
    for (const { requester, delta } of rows) for (const scope of [EVERYONE, scopeOf(requester)]) sums.set(scope, (sums.get(scope) ?? 0) + delta);
    await tx.query(
      `INSERT INTO hitl_pending_counts (scope, n) SELECT * FROM unnest($1::text[], $2::int[])
         ON CONFLICT (scope) DO UPDATE SET n = hitl_pending_counts.n + EXCLUDED.n`,
      [[...sums.keys()], [...sums.values()]],
    );
  },
};

/** The batch's changes to the counts per gate and tool, summed into one statement. Runs inside a batch, which holds AUDIT_LOCK. */
const ADD_TO_QUEUE_COUNTS: Gathered<{ gate: string; tool: string; delta: number }> = {
  async run(tx, rows) {
    const sums = new Map<string, { gate: string; tool: string; n: number }>();
    for (const { gate, tool, delta } of rows) {
      const key = JSON.stringify([gate, tool]);
      const sum = sums.get(key) ?? sums.set(key, { gate, tool, n: 0 }).get(key)!;
      sum.n += delta;
    }
    const changed = [...sums.values()];
    await tx.query(
      `INSERT INTO hitl_queue_counts (gate, tool, n) SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
         ON CONFLICT (gate, tool) DO UPDATE SET n = hitl_queue_counts.n + EXCLUDED.n`,
      [changed.map((c) => c.gate), changed.map((c) => c.tool), changed.map((c) => c.n)],
    );
  },
};

/** The batch's new requests in one statement; each is written as it is once the batch's last unit has run. */
const INSERT_REQUESTS: Gathered<{ request: ApprovalRequest; holder: string }> = {
  async run(tx, rows) {
    await tx.query(
      `INSERT INTO hitl_requests (id, status, requester, received_at, data, holder, call_key)
         SELECT id, 'pending', requester, received_at, data, holder, call_key
           FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::jsonb[], $5::text[], $6::text[]) AS r(id, requester, received_at, data, holder, call_key)`,
      [
        rows.map((r) => r.request.id),
        rows.map((r) => r.request.requester),
        rows.map((r) => r.request.receivedAt),
        rows.map((r) => JSON.stringify(r.request)),
        rows.map((r) => r.holder),
        rows.map((r) => r.request.callKey),
      ],
    );
  },
};

/** A request's trace for its audit entries; none is left out of the entry rather than written as null. */
const traceOf = (request: ApprovalRequest): string | undefined => request.traceparent ?? undefined;

function notify(tx: BatchSession, change: QueueChange): void {
  tx.notify(JSON.stringify(change));
}

async function insert(tx: BatchSession, request: ApprovalRequest, holder: string): Promise<void> {
  await tx.gather(INSERT_REQUESTS, { request, holder });
  notify(tx, { type: 'parked', id: request.id });
  tx.audit({
    event: 'parked',
    requestId: request.id,
    actor: request.requester,
    detail: { gate: request.gate, path: request.path, calls: request.calls.map((call) => ({ tool: call.name, args: call.args })) },
    traceparent: traceOf(request),
  });
}
