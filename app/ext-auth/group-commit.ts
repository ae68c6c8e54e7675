/**
 * Group commit: every change to the queue and every audit entry goes through one writer that
 * takes everything waiting and commits it in one transaction. The audit chain's lock is taken
 * and its tip read once per batch, the links are computed in order in memory, and a caller's
 * promise settles only after its batch commits (or fails), so nothing is acknowledged that a
 * crash could lose.
 *
 * Fairness: work waits in one lane per requester (or reviewer, or the gate itself) and batches
 * are filled round-robin, one item from each lane in turn, so a requester with thousands of
 * calls queued delays another requester's call by at most one batch.
 */
import type { Sql, SqlSession } from '../shared/sql.js';
import { GENESIS, chainHash, type AuditEntry } from './audit.js';

export interface BatchSession extends SqlSession {
  /** Appends an entry to the audit chain; linked after every entry appended before it. */
  audit(fields: Omit<AuditEntry, 'at'>): void;
  /** Sends `payload` on the change channel once the batch commits. */
  notify(payload: string): void;
  /** Runs `effect` once the batch has committed, before any unit of it is acknowledged; effects run in the order given. */
  afterCommit(effect: () => void): void;
  /**
   * Adds `row` to `statement`, which runs once for the rows of every unit after the batch's
   * last unit; or at once, for this row alone, when the batch is run again to find which of its
   * units the database refuses.
   */
  gather<Row>(statement: Gathered<Row>, row: Row): Promise<void>;
  /**
   * Whether gathered statements wait for the end of the batch (their rows are not in the tables
   * yet) and what units want was read before the first ran; neither, when the batch is run again
   * unit by unit.
   */
  readonly gathering: boolean;
  /** State this attempt at the batch shares among its units; gone when the attempt rolls back. */
  readonly scratch: Map<unknown, unknown>;
}

/**
 * A statement many units make alike (insert a row, add to a count), made once per batch for
 * all their rows: one statement instead of one per unit.
 */
export interface Gathered<Row> {
  run(tx: SqlSession, rows: Row[]): Promise<void>;
}

/**
 * Rows many units read alike (a request by its id), read for every unit of a batch in one
 * statement before the first unit runs, instead of one statement per unit. What it reads it
 * keeps in the batch's `scratch`, where the units look first.
 */
export interface Prefetch<Key> {
  read(tx: BatchSession, keys: Key[]): Promise<void>;
}

/** What one unit will read, named when it is submitted so the batch can read it with the others'. */
export interface Wants<Key> {
  prefetch: Prefetch<Key>;
  key: Key;
}

/**
 * One unit of work. It may run more than once: when another unit of its batch fails, the batch
 * is rolled back and run again without that unit, so a unit reads what it needs inside `tx`.
 */
export type Work<T> = (tx: BatchSession) => Promise<T>;

interface Job {
  work: Work<unknown>;
  wants?: Wants<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

export interface GroupCommitOptions {
  /** Serialises batches of every process sharing the store, so the chain stays one line. */
  auditLock: number;
  /** The NOTIFY channel `notify` sends on. */
  channel: string;
  /** Most units in one transaction: bounds how long one batch holds the lock. */
  maxBatch: number;
  /** Told the size of every batch that committed. */
  onCommit?: (size: number) => void;
  /**
   * This writer is the only one the store has (the embedded engine, opened by one process): no
   * other can extend the chain, so no lock is taken and the chain's tip, once read, is kept in
   * memory. Two statements less per batch.
   */
  soleWriter?: boolean;
}

interface ChainTip {
  seq: number;
  hash: string;
}

/**
 * The chain's last link, read once per batch. Ordered by the table's column, not by the
 * `seq::int` output of the same name: sorting by that expression cannot use the primary key,
 * so every batch would read the whole chain.
 */
export const AUDIT_TIP = `SELECT seq::int AS seq, hash FROM hitl_audit ORDER BY hitl_audit.seq DESC LIMIT 1`;

/**
 * Resolves once the event loop has run every callback of input already received. The embedded
 * engine runs a whole batch without giving the loop a turn, so a batch taken straight away
 * would hold only what arrived in the same callback: one call per batch, one transaction each.
 */
const everyReadyEvent = () => new Promise<void>((resolve) => setImmediate(resolve));

type Attempt =
  | { results: unknown[]; effects: (() => void)[] }
  | { culprit: Job; error: unknown }
  /** `gathered`: a gathered or prefetching statement failed, so no unit is known to have caused it yet. */
  | { error: unknown; gathered?: true };

export class GroupCommit {
  /** Waiting work by lane; the lane at the front gives the next unit and moves to the back. */
  private readonly lanes = new Map<string, Job[]>();
  private draining: Promise<void> | null = null;
  private committing = 0;
  /** The chain's tip as the last batch committed it, when this is the sole writer. */
  private tip: ChainTip | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly options: GroupCommitOptions,
  ) {}

  /**
   * Queues `work` in `lane`; settles with its result once its batch has committed. `wants`:
   * what the work will read, read together with what the rest of its batch wants.
   */
  submit<T, Key>(lane: string, work: Work<T>, wants?: Wants<Key>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const jobs = this.lanes.get(lane);
      const job: Job = { work, wants: wants as Wants<unknown> | undefined, resolve: resolve as (value: unknown) => void, reject };
      if (jobs) jobs.push(job);
      else this.lanes.set(lane, [job]);
      this.draining ??= this.drain();
    });
  }

  /** Units submitted and not yet committed or failed. */
  get waiting(): number {
    let queued = this.committing;
    for (const jobs of this.lanes.values()) queued += jobs.length;
    return queued;
  }

  /** Resolves when everything submitted so far has committed or failed. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /**
   * Commits batches until no work waits. It says it has stopped in the same step that finds the
   * lanes empty: stopping a promise turn later (a `.finally`) would leave work submitted in
   * between queued behind a drain that has already ended, never to be committed.
   */
  private async drain(): Promise<void> {
    try {
      while (this.lanes.size > 0) {
        await everyReadyEvent();
        const batch = this.nextBatch();
        this.committing = batch.length;
        await this.commit(batch);
        this.committing = 0;
      }
    } finally {
      this.draining = null;
    }
  }

  private nextBatch(): Job[] {
    const batch: Job[] = [];
    while (batch.length < this.options.maxBatch && this.lanes.size > 0) {
      const [lane, jobs] = this.lanes.entries().next().value!;
      batch.push(jobs.shift()!);
      this.lanes.delete(lane);
      if (jobs.length > 0) this.lanes.set(lane, jobs);
    }
    return batch;
  }

  /**
   * Commits `batch`. A unit that throws fails alone: the batch is run again without it. A
   * failure no unit caused (the connection, the commit) fails every unit of the batch.
   */
  private async commit(batch: Job[]): Promise<void> {
    let remaining = batch;
    let gathering = true;
    while (remaining.length > 0) {
      const attempt = await this.attempt(remaining, gathering);
      if ('gathered' in attempt) {
        // Again with each unit making its own statements, to find the one refused.
        gathering = false;
        continue;
      }
      if ('results' in attempt) {
        for (const effect of attempt.effects) effect();
        this.options.onCommit?.(remaining.length);
        remaining.forEach((job, i) => job.resolve(attempt.results[i]));
        return;
      }
      if ('culprit' in attempt) {
        attempt.culprit.reject(attempt.error);
        remaining = remaining.filter((job) => job !== attempt.culprit);
        continue;
      }
      for (const job of remaining) job.reject(attempt.error);
      return;
    }
  }

  private async attempt(jobs: Job[], gathering: boolean): Promise<Attempt> {
    let culprit: { job: Job; error: unknown } | undefined;
    let gatheredFailed = false;
    const effects: (() => void)[] = [];
    const gathered = new Map<Gathered<unknown>, unknown[]>();
    const chain = { seq: 0, hash: GENESIS, links: [] as { seq: number; entry: string; prev: string; hash: string }[] };
    try {
      const results = await this.sql.transaction(async (tx) => {
        Object.assign(chain, await this.chainTip(tx));
        const payloads: string[] = [];
        const session: BatchSession = {
          query: (text, params) => tx.query(text, params),
          audit(fields) {
            const entry = JSON.stringify({ at: new Date().toISOString(), ...fields });
            const hash = chainHash(chain.hash, entry);
            chain.links.push({ seq: ++chain.seq, entry, prev: chain.hash, hash });
            chain.hash = hash;
          },
          notify: (payload) => payloads.push(payload),
          afterCommit: (effect) => effects.push(effect),
          async gather(statement, row) {
            if (!gathering) return statement.run(tx, [row]);
            const rows = gathered.get(statement as Gathered<unknown>);
            if (rows) rows.push(row);
            else gathered.set(statement as Gathered<unknown>, [row]);
          },
          gathering,
          scratch: new Map(),
        };
        if (gathering) {
          try {
            await prefetch(session, jobs);
          } catch (error) {
            gatheredFailed = true;
            throw error;
          }
        }
        const results: unknown[] = [];
        for (const job of jobs) {
          try {
            results.push(await job.work(session));
          } catch (error) {
            culprit = { job, error };
            throw error;
          }
        }
        try {
          for (const [statement, rows] of gathered) await statement.run(tx, rows);
        } catch (error) {
          gatheredFailed = true;
          throw error;
        }
        // One statement for both: a data-modifying WITH runs whether or not the query reads it.
        if (chain.links.length > 0 || payloads.length > 0) {
          await tx.query(
            `WITH chained AS (INSERT INTO hitl_audit (seq, entry, prev_hash, hash) SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]))
               SELECT pg_notify($5, payload) FROM unnest($6::text[]) AS payload`,
            [chain.links.map((l) => l.seq), chain.links.map((l) => l.entry), chain.links.map((l) => l.prev), chain.links.map((l) => l.hash), this.options.channel, payloads],
          );
        }
        return results;
      });
      if (this.options.soleWriter) this.tip = { seq: chain.seq, hash: chain.hash };
      return { results, effects };
    } catch (error) {
      if (culprit) return { culprit: culprit.job, error: culprit.error };
      return gatheredFailed ? { error, gathered: true } : { error };
    }
  }

  /** Locks the chain against other writers and reads its tip; the sole writer knows it after its first batch. */
  private async chainTip(tx: SqlSession): Promise<ChainTip> {
    if (this.tip) return this.tip;
    if (!this.options.soleWriter) await tx.query('SELECT pg_advisory_xact_lock($1)', [this.options.auditLock]);
    const { rows } = await tx.query<ChainTip>(AUDIT_TIP);
    return rows[0] ?? { seq: 0, hash: GENESIS };
  }
}

/** Reads what the batch's units want, one statement per kind of read. */
async function prefetch(session: BatchSession, jobs: Job[]): Promise<void> {
  const keys = new Map<Prefetch<unknown>, unknown[]>();
  for (const { wants } of jobs) {
    if (!wants) continue;
    const some = keys.get(wants.prefetch);
    if (some) some.push(wants.key);
    else keys.set(wants.prefetch, [wants.key]);
  }
  for (const [reader, wanted] of keys) await reader.read(session, wanted);
}
