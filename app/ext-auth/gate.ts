/**
 * The gate: turns one Check into pass, deny or park, and holds a parked call until reviewers
 * decide, its time runs out, or the gateway goes away. Decisions arrive from the admin API.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatDuration } from '../shared/flags.js';
import type { Logger } from '../shared/log.js';
import type { GateDetails } from '../contracts/denial.js';
import { GATE_POLICY_KEYS } from '../contracts/gate-policy.js';
import { TRACEPARENT_HEADER } from '../contracts/headers.js';
import { approvalHeaders } from './approval-signer.js';
import { callKey } from './call-key.js';
import { classify, type GatedRequest } from './classify.js';
import { deniedResponse, type DeniedHttp, type DenyAs } from './denial.js';
import type { GateMetrics } from './metrics.js';
import { requesterOf } from './requester.js';
import { ENDED_STATUSES, type ApprovalRequest, type QueueChange } from '../contracts/admin-api.js';
import { HeldCall, type Caller, type HoldEnd } from './held-call.js';
import type { ApprovalStore, Arrival, FloodLimits } from './store.js';

export interface CheckInput extends GatedRequest {
  path: string;
  contextExtensions: Record<string, string>;
  /** metadata_context.filter_metadata flattened to "namespace.key" → string value, null for a value of another type. */
  metadata: Record<string, string | null>;
  /** The Check's request id when it is a valid W3C traceparent (agentgateway sends one). */
  traceparent: string | null;
}

export type CheckAnswer =
  /** `removeHeaders`: taken off the upstream request, so a client's value of a gate header never passes. */
  | { allowed: true; headers: Record<string, string>; removeHeaders?: string[] }
  /** `exhausted`: a flood limit; `unavailable`: the gate itself failed. */
  | { allowed: false; kind: 'denied' | 'exhausted' | 'unavailable'; reason: string; response: DeniedHttp };

/** A refusal of a request the gate could not read: nothing to answer in its own terms, so a 403 says why. */
export function unreadableDenial(reason: string, kind: 'denied' | 'unavailable' = 'denied'): CheckAnswer {
  return {
    allowed: false,
    kind,
    reason,
    response: { httpStatus: kind === 'unavailable' ? 503 : 403, contentType: 'application/json', body: JSON.stringify({ approved: false, reason, id: null }) },
  };
}

export interface GateOptions {
  store: ApprovalStore;
  log: Logger;
  metrics: GateMetrics;
  parkTimeoutMs: number;
  /**
   * How long one Check is held before it is answered "waiting" (the request stays queued):
   * under the callers' own timeouts. At or above the park timeout, a call is held to the end.
   */
  holdMs: number;
  /** How long a rejection is replayed to identical calls, and an approval given after the hold lets one through. */
  grantTtlMs: number;
  flood: FloodLimits;
  /** Policy for requests whose AgentgatewayPolicy sets no contextExtensions. */
  defaults: { gate: string; approvalsRequired: number; reviewerGroup: string };
  /** How a refused tool call is answered: its own JSON-RPC tool error (200) or a 403/429. */
  denyAs: DenyAs;
  requesterHeader: string;
  /** "namespace.key" in metadata_context naming the requester; when set, the only source. */
  requesterMetadata?: string;
  /** Park calls that name no requester instead of denying them. */
  allowAnonymous: boolean;
  /** Signs the approval token the MCP server checks; without it approvals carry no proof. */
  approvalKey?: KeyObject;
  redactHeaders: readonly string[];
  /** This process's name among the replicas sharing one store. */
  replica: string;
}


const SECRET_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];

/**
 * `change`: every queue change any replica commits. `holding`: this replica now holds a call
 * for the request id, its park acknowledged (a change can be seen before the parking replica
 * has read its own commit's answer).
 */
export class Gate extends EventEmitter<{ change: [QueueChange]; holding: [string] }> {
  /** The callers held in this process, by request: identical calls share one request. */
  private readonly waiters = new Map<string, HeldCall[]>();

  constructor(private readonly options: GateOptions) {
    super();
    // Every open reviewer page holds an /events listener; there is no sensible cap.
    this.setMaxListeners(0);
  }

  /**
   * Hears every request that ends. Those this process's writer ends are handed over as their
   * batch commits; those other replicas end reach it through the store's change feed.
   */
  async start(): Promise<() => Promise<void>> {
    const stopHearing = this.options.store.onEnded((request) => this.release(request));
    const stopFeed = await this.options.store.subscribe(
      (change) => {
        this.emit('change', change);
        if ((ENDED_STATUSES as string[]).includes(change.type)) void this.releaseIfHeld(change.id);
      },
      () => {
        // Notifications sent while the feed was down are lost: look up every call held here.
        for (const id of this.waiters.keys()) void this.releaseIfHeld(id);
      },
    );
    return async () => {
      stopHearing();
      await stopFeed();
    };
  }

  get parkedHere(): number {
    let held = 0;
    for (const callers of this.waiters.values()) held += callers.length;
    return held;
  }

  async check(input: CheckInput, caller: Caller): Promise<CheckAnswer> {
    const { store, metrics } = this.options;
    // Every line about this call names its trace, so an operator can go from one to the other.
    const log = input.traceparent ? this.options.log.child({ traceparent: input.traceparent }) : this.options.log;
    const identity = requesterOf(
      { header: this.options.requesterHeader, metadata: this.options.requesterMetadata, allowAnonymous: this.options.allowAnonymous },
      input.headers,
      input.metadata,
    );
    const requester = identity.ok ? identity.requester : null;
    const policy = this.policyOf(input.contextExtensions);
    if (typeof policy === 'string') return this.deny(input, requester, `gate policy is invalid: ${policy}`);

    const verdict = classify(input);
    if (verdict.action === 'pass') return { allowed: true, headers: {} };
    if (verdict.action === 'deny') return this.deny(input, requester, verdict.reason);
    if (!identity.ok) return this.deny(input, null, identity.reason);

    const now = Date.now();
    const request: ApprovalRequest = {
      id: randomUUID(),
      receivedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + this.options.parkTimeoutMs).toISOString(),
      method: input.method,
      path: input.path,
      rpcMethod: verdict.rpcMethod,
      toolName: verdict.calls[0].name,
      toolArgs: verdict.calls[0].args,
      calls: verdict.calls,
      requester,
      callerAgent: input.headers['x-agent-name'] ?? input.headers['user-agent'] ?? null,
      ...policy,
      approvals: [],
      headers: this.redact(input.headers),
      body: new TextDecoder().decode(input.body),
      status: 'pending',
      decidedAt: null,
      decidedBy: null,
      reason: null,
      callKey: callKey(requester, policy.gate, verdict.calls),
      waiting: 1,
      callerStoppedAt: null,
      grantTtlSeconds: this.options.grantTtlMs / 1000,
      grant: null,
      traceparent: input.traceparent,
    };
    // A decision older than a request's whole life plus the grant TTL can no longer matter.
    const since = new Date(now - this.options.parkTimeoutMs - this.options.grantTtlMs).toISOString();
    const overLimit = await store.floodRefusal(request, this.options.flood, since);
    const arrival: Arrival = overLimit ? { kind: 'flooded', reason: overLimit } : await store.arrive(request, this.options.flood, this.options.replica, since);
    if (arrival.kind === 'flooded') {
      store.refused(requester, arrival.reason, request.toolName);
      metrics.decisions.inc({ outcome: 'flood_denied' });
      return this.refuse(input, { ...this.details(request, 'flood_denied'), requestId: null, reason: arrival.reason }, 'exhausted');
    }
    const known = arrival.request;
    if (arrival.kind === 'replayed_rejection') {
      metrics.decisions.inc({ outcome: 'replayed_rejection' });
      log.info({ id: known.id, requester }, 'identical call rejected again');
      return this.refuse(input, { ...this.details(known, 'rejected'), reviewers: reviewersOf(known) });
    }
    if (arrival.kind === 'grant_used') {
      metrics.decisions.inc({ outcome: 'grant_used' });
      log.info({ id: known.id, requester }, 'approval given after the hold used by the same call');
      return this.letThrough(known, input.traceparent);
    }
    log.info({ id: known.id, tool: known.toolName, requester, gate: known.gate, joined: arrival.kind === 'joined' }, arrival.kind);
    // Once parked, the Check keeps only its held call, not the request it was built from.
    return new Promise<CheckAnswer>((answer) => this.hold(new HeldCall(known, input.traceparent, request.body, now, caller, answer), known.waiting));
  }

  /** The answer to a held call once its hold ends. */
  private async answer(held: HeldCall, outcome: HoldOutcome): Promise<CheckAnswer> {
    const { metrics } = this.options;
    // Made once the hold ends: a logger kept by every parked call for minutes would cost more than the call itself.
    const log = held.traceparent ? this.options.log.child({ traceparent: held.traceparent }) : this.options.log;
    if ('deferred' in outcome) {
      metrics.decisions.inc({ outcome: 'deferred' });
      log.info({ id: held.id }, 'hold ended; the request stays queued');
      return this.refuseBody(held.rpcBody, {
        ...this.details(outcome.deferred, 'waiting'),
        reason: null,
        expiresAt: outcome.deferred.expiresAt,
        grantTtlSeconds: outcome.deferred.grantTtlSeconds,
      });
    }
    const decided = outcome.decided;
    metrics.timeToDecision.observe({ outcome: decided.status }, (Date.now() - held.parkedAt) / 1000);
    metrics.decisions.inc({ outcome: decided.status });
    log.info({ id: held.id, outcome: decided.status, by: decided.decidedBy }, 'released');
    if (decided.status === 'approved') return this.letThrough(decided, held.traceparent);
    const status = decided.status as Exclude<GateDetails['status'], 'flood_denied' | 'waiting'>;
    return this.refuseBody(held.rpcBody, { ...this.details(decided, status), reviewers: reviewersOf(decided) });
  }

  /** An approved call goes on with its approval, and its own trace, for the MCP server's audit. */
  private async letThrough(request: ApprovalRequest, traceparent: string | null): Promise<CheckAnswer> {
    const headers = await approvalHeaders(request, this.options.approvalKey);
    if (!traceparent) return { allowed: true, headers, removeHeaders: [TRACEPARENT_HEADER] };
    return { allowed: true, headers: { ...headers, [TRACEPARENT_HEADER]: traceparent } };
  }

  private details(request: Pick<ApprovalRequest, 'id' | 'gate' | 'reason'>, status: GateDetails['status']): GateDetails {
    return { status, requestId: request.id, gate: request.gate, reviewers: [], reason: request.reason, expiresAt: null, grantTtlSeconds: null };
  }

  private refuse(input: CheckInput, details: GateDetails, kind: 'denied' | 'exhausted' = 'denied'): CheckAnswer {
    return this.refuseBody(new TextDecoder().decode(input.body), details, kind);
  }

  private refuseBody(rpcBody: string, details: GateDetails, kind: 'denied' | 'exhausted' = 'denied'): CheckAnswer {
    return { allowed: false, kind, reason: details.reason ?? details.status, response: deniedResponse(details, rpcBody, this.options.denyAs) };
  }

  /** Records a reviewer's decision; the held call is released as it commits, wherever it is held. */
  decide(id: string, reviewer: { name: string; groups: string[] }, approved: boolean, reason: string): Promise<ApprovalRequest> {
    return this.options.store.decide(id, reviewer, approved, reason);
  }

  /** Releases every caller held here for `request`, which has ended. */
  private release(request: ApprovalRequest): void {
    for (const held of [...(this.waiters.get(request.id) ?? [])]) this.end(held, { decided: request });
  }

  private async releaseIfHeld(id: string): Promise<void> {
    if (!this.waiters.has(id)) return;
    try {
      const request = await this.options.store.get(id);
      if (request && request.status !== 'pending') this.release(request);
    } catch (err) {
      this.options.log.warn({ err, id }, 'could not read a decision yet; will retry on reconnect');
    }
  }

  /**
   * Holds one caller until a decision, the request's timeout, the end of the hold, or the
   * caller going away, whichever comes first. Decisions reach it through `release`, from this
   * process's writer or from the change feed.
   */
  private hold(held: HeldCall, waiting: number): void {
    const callers = this.waiters.get(held.id);
    if (callers) callers.push(held);
    else this.waiters.set(held.id, [held]);
    this.emit('holding', held.id);
    const remaining = Math.max(0, Date.parse(held.expiresAt) - Date.now());
    if (this.options.holdMs < remaining) held.wait(this.options.holdMs, 'hold_ended', this.giveUp);
    else held.wait(remaining, 'timed_out', this.giveUp);
    // A call that joined a request may meet a decision committed before it was listening.
    if (!held.caller.gone && waiting > 1) void this.releaseIfHeld(held.id);
  }

  /**
   * A held call's time ran out or its caller went. Whichever of these and a decision commits
   * first wins; the store's conditional updates make the others no-ops.
   */
  private readonly giveUp = async (held: HeldCall, why: HoldEnd): Promise<void> => {
    const { store, log } = this.options;
    try {
      if (why === 'timed_out') {
        // Not ours to end (decided first): the feed, or this look, releases the caller.
        if (!(await store.finish(held.id, 'timed_out', `timed out after ${formatDuration(this.options.parkTimeoutMs)}`))) await this.releaseIfHeld(held.id);
        return;
      }
      const now = await store.stopWaiting(held.id, why, why === 'abandoned' ? 'the caller went away before a decision' : 'the gate stopped holding the call');
      if (!now) return this.end(held, { decided: abandoned(held, 'the request is gone') });
      if (now.status !== 'pending') return this.end(held, { decided: now });
      if (now.waiting === 0) this.expireLater(now);
      this.end(held, why === 'hold_ended' ? { deferred: now } : { decided: abandoned(held, 'the caller went away before a decision') });
    } catch (err) {
      // The store is gone (shutting down, or lost): the next start records the request abandoned.
      log.error({ err, id: held.id, traceparent: held.traceparent, why }, 'could not record the end of a held call');
      this.end(held, { decided: abandoned(held, 'the approval store is unavailable') });
    }
  };

  /** Answers a held call once, however its hold ended, and forgets it. */
  private end(held: HeldCall, outcome: HoldOutcome): void {
    if (!held.end()) return;
    const callers = this.waiters.get(held.id) ?? [];
    if (callers.includes(held)) callers.splice(callers.indexOf(held), 1);
    if (callers.length === 0) this.waiters.delete(held.id);
    held.answer(this.answer(held, outcome));
  }

  /** A request nobody holds any more still times out on time; replicas' sweeps cover a restart. */
  private expireLater(request: ApprovalRequest): void {
    const remaining = Math.max(0, Date.parse(request.expiresAt) - Date.now());
    setTimeout(() => {
      this.options.store
        .finish(request.id, 'timed_out', `timed out after ${formatDuration(this.options.parkTimeoutMs)}`)
        .catch((err) => this.options.log.warn({ err: (err as Error).message, id: request.id, traceparent: request.traceparent }, 'could not time out a deferred request; the sweep will'));
    }, remaining).unref();
  }

  private async deny(input: CheckInput, requester: string | null, reason: string): Promise<CheckAnswer> {
    await this.options.store.record('denied', null, requester, { reason, method: input.method, path: input.path }, input.traceparent);
    this.options.metrics.decisions.inc({ outcome: 'classifier_denied' });
    return unreadableDenial(reason);
  }

  private policyOf(ext: Record<string, string>): ApprovalRequestPolicy | string {
    const { defaults } = this.options;
    const approvals = ext[GATE_POLICY_KEYS.approvals] ?? String(defaults.approvalsRequired);
    if (!/^[1-9]\d?$/.test(approvals)) return `approvals must be a whole number from 1 to 99, got ${JSON.stringify(approvals)}`;
    return {
      gate: ext[GATE_POLICY_KEYS.gate] || defaults.gate,
      approvalsRequired: Number(approvals),
      reviewerGroup: ext[GATE_POLICY_KEYS.reviewerGroup] || defaults.reviewerGroup,
    };
  }

  private redact(headers: Record<string, string>): Record<string, string> {
    const secret = new Set([...SECRET_HEADERS, ...this.options.redactHeaders.map((h) => h.toLowerCase())]);
    return Object.fromEntries(Object.entries(headers).filter(([name]) => !secret.has(name.toLowerCase())));
  }
}

/** How a held call ended: the decided request from the store, or the gate's own ending when it has none to read. */
type Decided = ApprovalRequest | (Pick<ApprovalRequest, 'id' | 'gate'> & { status: 'abandoned'; reason: string; decidedBy?: null });

/** A hold ends with a decision, or, when the gate stops holding first, with the request still pending. */
type HoldOutcome = { decided: Decided } | { deferred: ApprovalRequest };

/** Who a refusal names as deciding: a rejection's reviewer; nobody decides a timeout or an abandoned call. */
const reviewersOf = (request: { decidedBy?: string | null }): string[] => (request.decidedBy ? [request.decidedBy] : []);

const abandoned = (held: HeldCall, reason: string): Decided => ({ id: held.id, gate: held.gate, status: 'abandoned', reason });

/** What an approved call carries upstream; a used grant carries the same. */
type ApprovalRequestPolicy = Pick<ApprovalRequest, 'gate' | 'approvalsRequired' | 'reviewerGroup'>;

