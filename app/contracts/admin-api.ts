/**
 * The ext-auth admin API as both sides read it: ext-auth serves these shapes, the approval UI
 * (and any other client) receives them. A field renamed here is renamed for both at once.
 */
import type { ToolCall } from './tool-call.js';

export type Status = 'pending' | 'approved' | 'rejected' | 'timed_out' | 'abandoned';

/** Every way a request can end; what the history lists and filters by. */
export const ENDED_STATUSES: readonly Status[] = ['approved', 'rejected', 'timed_out', 'abandoned'];

export interface Approval {
  reviewer: string;
  reason: string;
  at: string;
}

export interface ApprovalRequest {
  id: string;
  receivedAt: string;
  expiresAt: string;
  method: string;
  path: string;
  rpcMethod: string;
  /** The first call's tool and arguments; `calls` lists every call of a batch. */
  toolName: string;
  toolArgs: Record<string, unknown>;
  calls: ToolCall[];
  requester: string | null;
  callerAgent: string | null;
  gate: string;
  reviewerGroup: string;
  approvalsRequired: number;
  approvals: Approval[];
  /** Headers with credentials removed. */
  headers: Record<string, string>;
  body: string;
  status: Status;
  decidedAt: string | null;
  decidedBy: string | null;
  reason: string | null;
  /** Same requester, gate and canonical calls ⇒ same key: identical calls share one request. */
  callKey: string;
  /** Callers held on this request right now (identical calls join it). */
  waiting: number;
  /** When the last held caller was answered "waiting" and let go (a caller held since, by joining, counts in `waiting`). */
  callerStoppedAt: string | null;
  /** How long an approval given after the callers stopped waiting lets the same call through once. */
  grantTtlSeconds: number;
  /** The single-use pass an approval became because nobody was held any more. */
  grant: { until: string; usedAt: string | null } | null;
  /**
   * The W3C traceparent the gateway sent with the first call (its Check's request id), when it
   * was a valid one; absent on requests stored before traces were kept.
   */
  traceparent?: string | null;
}

/** `joined`: another identical call waits on it; `deferred`: its callers stopped waiting, it stays queued. */
export type ChangeType = 'parked' | 'approval' | 'joined' | 'deferred' | Exclude<Status, 'pending'>;

/** One `change` event of `GET /events` (the stream opens with a `ready` event). */
export interface QueueChange {
  type: ChangeType;
  id: string;
}

/** `GET /whoami`. */
export interface ReviewerIdentity {
  name: string;
  groups: string[];
}

/** `GET /pending` with no query: every pending request, oldest first. */
export interface PendingList {
  pending: ApprovalRequest[];
}

/**
 * `GET /pending-ids?through=`: the id of every pending request, oldest first, or only of those
 * up to and including the position `through` names (a page's `next`); what a live page
 * reconciles its cards against.
 */
export interface PendingIds {
  ids: string[];
}

/** The most `GET /pending?limit=` returns at once. */
export const MAX_PENDING_PAGE = 500;

/**
 * `GET /pending?limit=&after=&gate=&tool=`: a page of the queue, oldest first. `after` is the
 * `next` of the page before (opaque); it names a position, so a request decided meanwhile
 * neither shifts nor repeats the pages after it.
 */
export interface PendingQuery {
  limit: number;
  after?: string;
  gate?: string;
  tool?: string;
}

/** How many wait in all, per gate and per tool; never narrowed by a page's filter. */
export interface PendingCounts {
  total: number;
  gates: Record<string, number>;
  tools: Record<string, number>;
}

/** `GET /pending` with a query. */
export interface PendingPage extends PendingList {
  /** The `after` of the next page; null on the last. */
  next: string | null;
  counts: PendingCounts;
}

/** `POST /decide/:id` body; answered 204, or 400/403/404/409/410 with an `error`. */
export interface Decision {
  approved: boolean;
  reason?: string;
}

/** `GET /history` query: the ended requests, newest first. */
export interface HistoryQuery {
  status?: Status;
  requester?: string;
  tool?: string;
  offset?: number;
  limit?: number;
}

/** `GET /history` answer. */
export interface HistoryPage {
  items: ApprovalRequest[];
  total: number;
  limit: number;
  offset: number;
}

/** Every non-2xx answer's body. */
export interface AdminErrorBody {
  error: string;
}
