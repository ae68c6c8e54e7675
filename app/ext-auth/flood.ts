/**
 * Flood control at memory speed. The store keeps how many requests wait, overall and per
 * requester, in hitl_pending_counts, and checks it when it parks a call: that stays the
 * authority across replicas. This process keeps a copy in memory, rebuilt at start and
 * changed after every commit of its own writer, so a call over the limit is refused without
 * touching the database; refusals are then written to the audit in aggregate. On the embedded
 * store this process is the only writer, its copy is exact, and the copy is the authority.
 */
import { nameKey } from '../shared/names.js';

export interface FloodLimits {
  perRequester: number;
  overall: number;
}

/** The counts' row for every pending request. */
export const EVERYONE = '*';

/** One requester's scope whatever the spelling of their name (names.ts). */
export const scopeOf = (requester: string | null) => (requester === null ? 'anonymous' : `requester:${nameKey(requester)}`);

/** Why parking one more call of `requester` would break a limit, given the counts; null when it would not. */
export function floodProblem(count: (scope: string) => number, requester: string | null, limits: FloodLimits): string | null {
  const overall = count(EVERYONE);
  const mine = count(scopeOf(requester));
  if (overall >= limits.overall) return `too many requests waiting for review (${overall}); try later`;
  if (mine >= limits.perRequester) return `${requester ?? 'this caller'} already has ${mine} requests waiting for review`;
  return null;
}

/**
 * The counts, and the keys of the calls an arriving call could join or be answered by (pending,
 * or decided recently): an identical call is never refused by the copy, since it adds no request.
 */
export class PendingCounts {
  private counts = new Map<string, number>();
  /** Call key → when its latest request was received (ms). */
  private keys = new Map<string, number>();
  /** Whether the call keys have been read whole from the store. */
  private keysLoaded = false;

  /** `keys` null: not read yet, so a key the copy does not know is not taken for a new call until they are. */
  replace(rows: Iterable<[scope: string, n: number]>, keys: Iterable<[key: string, receivedAt: number]> | null): void {
    this.counts = new Map(rows);
    this.keys = new Map(keys ?? []);
    this.keysLoaded = keys !== null;
  }

  /** The call keys read whole from the store, the counts kept as they are. */
  learnKeys(keys: Iterable<[key: string, receivedAt: number]>): void {
    this.keys = new Map(keys);
    this.keysLoaded = true;
  }

  /** A request with this call key was parked at `receivedAt`. */
  sawKey(key: string, receivedAt: number): void {
    this.keys.set(key, Math.max(receivedAt, this.keys.get(key) ?? 0));
  }

  /** Whether a request with this call key arrived since `since` (ms): the store must then judge the call. */
  knows(key: string, since: number): boolean {
    return (this.keys.get(key) ?? -Infinity) >= since;
  }

  /** Whether the call keys have been read from the store, so that an unknown key is a new call. */
  get keysRead(): boolean {
    return this.keysLoaded;
  }

  count(scope: string): number {
    return this.counts.get(scope) ?? 0;
  }

  add(requester: string | null, delta: number): void {
    for (const scope of [EVERYONE, scopeOf(requester)]) this.counts.set(scope, Math.max(0, (this.counts.get(scope) ?? 0) + delta));
  }

  problem(requester: string | null, limits: FloodLimits): string | null {
    return floodProblem((scope) => this.count(scope), requester, limits);
  }
}

/** Refusals of one requester not yet in the audit. */
export interface RefusalTally {
  requester: string | null;
  count: number;
  first: string;
  last: string;
  reason: string;
  tools: string[];
}

/** Tool names an aggregate lists; a flood of many different tools is still one entry. */
const MOST_TOOLS_LISTED = 10;

/**
 * Gathers flood refusals per requester. The first refusal of a window asks for one audit
 * entry; every refusal until that entry is written joins it, so a flood costs one durable
 * write per batch of the writer, not one per call.
 */
export class RefusalLedger {
  private readonly open = new Map<string, RefusalTally>();

  constructor(private readonly writeWhenDue: (take: () => RefusalTally | undefined) => void) {}

  refused(requester: string | null, reason: string, tool: string): void {
    const scope = scopeOf(requester);
    const at = new Date().toISOString();
    const tally = this.open.get(scope);
    if (tally) {
      tally.count += 1;
      tally.last = at;
      tally.reason = reason;
      if (!tally.tools.includes(tool) && tally.tools.length < MOST_TOOLS_LISTED) tally.tools.push(tool);
      return;
    }
    this.open.set(scope, { requester, count: 1, first: at, last: at, reason, tools: [tool] });
    // Taken when the entry is written: refusals after that open the next window.
    this.writeWhenDue(() => {
      const taken = this.open.get(scope);
      this.open.delete(scope);
      return taken;
    });
  }
}
