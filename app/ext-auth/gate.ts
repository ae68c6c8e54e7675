/**
 * The gate: turns one Check into pass, deny or park, and holds a parked call until reviewers
 * decide, its time runs out, or the gateway goes away. Decisions arrive from the admin API.
 */
import { randomUUID, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { formatDuration } from '../shared/flags.js';
import type { Logger } from '../shared/log.js';
import { approvalHeaders } from './approval-signer.js';
import { classify, type GatedRequest } from './classify.js';
import type { GateMetrics } from './metrics.js';
import { requesterOf } from './requester.js';
import { FloodError, type ApprovalRequest, type ApprovalStore, type FloodLimits, type QueueChange } from './store.js';

export interface CheckInput extends GatedRequest {
  path: string;
  contextExtensions: Record<string, string>;
  /** metadata_context.filter_metadata flattened to "namespace.key" → string value, null for a value of another type. */
  metadata: Record<string, string | null>;
}

export type CheckAnswer =
  | { allowed: true; headers: Record<string, string> }
  | { allowed: false; httpStatus: number; reason: string; id: string | null };

export interface GateOptions {
  store: ApprovalStore;
  log: Logger;
  metrics: GateMetrics;
  parkTimeoutMs: number;
  flood: FloodLimits;
  /** Policy for requests whose AgentgatewayPolicy sets no contextExtensions. */
  defaults: { gate: string; approvalsRequired: number; reviewerGroup: string };
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

export type { QueueChange };

const SECRET_HEADERS = ['authorization', 'cookie', 'proxy-authorization', 'x-api-key'];

export class Gate extends EventEmitter<{ change: [QueueChange] }> {
  private readonly waiters = new Map<string, (request: ApprovalRequest) => void>();

  constructor(private readonly options: GateOptions) {
    super();
    // Every open reviewer page holds an /events listener; there is no sensible cap.
    this.setMaxListeners(0);
  }

  /**
   * Follows the store's change feed. Decisions reach the held call this way whichever replica
   * took them, so one path serves one process and many.
   */
  start(): Promise<() => Promise<void>> {
    return this.options.store.subscribe(
      (change) => {
        this.emit('change', change);
        if (change.type !== 'parked' && change.type !== 'approval') void this.releaseIfHeld(change.id);
      },
      () => {
        // Notifications sent while the feed was down are lost: look up every call held here.
        for (const id of this.waiters.keys()) void this.releaseIfHeld(id);
      },
    );
  }

  get parkedHere(): number {
    return this.waiters.size;
  }

  async check(input: CheckInput, cancelled: AbortSignal): Promise<CheckAnswer> {
    const { store, metrics, log } = this.options;
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
    };
    try {
      await store.park(request, this.options.flood, this.options.replica);
    } catch (err) {
      if (!(err instanceof FloodError)) throw err;
      await store.record('flood_denied', null, requester, { reason: err.message, tool: request.toolName });
      metrics.decisions.inc({ outcome: 'flood_denied' });
      return { allowed: false, httpStatus: 429, reason: err.message, id: null };
    }
    log.info({ id: request.id, tool: request.toolName, requester, gate: request.gate }, 'parked');
    const decided = await this.waitForDecision(request, cancelled);
    metrics.timeToDecision.observe({ outcome: decided.status }, (Date.now() - now) / 1000);
    metrics.decisions.inc({ outcome: decided.status });
    log.info({ id: request.id, outcome: decided.status, by: decided.decidedBy }, 'released');
    if (decided.status === 'approved') return { allowed: true, headers: await approvalHeaders(decided, this.options.approvalKey) };
    return { allowed: false, httpStatus: 403, reason: decided.reason ?? decided.status, id: decided.id };
  }

  /** Records a reviewer's decision; the change feed releases the held call, wherever it is held. */
  decide(id: string, reviewer: { name: string; groups: string[] }, approved: boolean, reason: string): Promise<ApprovalRequest> {
    return this.options.store.decide(id, reviewer, approved, reason);
  }

  private async releaseIfHeld(id: string): Promise<void> {
    const waiter = this.waiters.get(id);
    if (!waiter) return;
    try {
      const request = await this.options.store.get(id);
      if (request && request.status !== 'pending') waiter(request);
    } catch (err) {
      this.options.log.warn({ err, id }, 'could not read a decision yet; will retry on reconnect');
    }
  }

  private waitForDecision(request: ApprovalRequest, cancelled: AbortSignal): Promise<ApprovalRequest> {
    const { store, parkTimeoutMs } = this.options;
    return new Promise((resolve) => {
      const end = (final: ApprovalRequest) => {
        clearTimeout(timer);
        cancelled.removeEventListener('abort', onAbort);
        this.waiters.delete(request.id);
        resolve(final);
      };
      this.waiters.set(request.id, end);
      // Whichever of timeout, cancellation and decision commits first wins; the store's
      // conditional update makes the others no-ops.
      const giveUp = async (status: 'timed_out' | 'abandoned', reason: string) => {
        try {
          await store.finish(request.id, status, reason);
        } catch (err) {
          // The store is gone (shutting down, or lost): the next start records the request abandoned.
          this.options.log.error({ err, id: request.id, status }, 'could not record the end of a parked call');
          end({ ...request, status, reason });
        }
      };
      const timer = setTimeout(() => void giveUp('timed_out', `timed out after ${formatDuration(parkTimeoutMs)}`), parkTimeoutMs);
      const onAbort = () => void giveUp('abandoned', 'the caller went away before a decision');
      cancelled.addEventListener('abort', onAbort, { once: true });
      if (cancelled.aborted) onAbort();
    });
  }

  private async deny(input: CheckInput, requester: string | null, reason: string): Promise<CheckAnswer> {
    await this.options.store.record('denied', null, requester, { reason, method: input.method, path: input.path });
    this.options.metrics.decisions.inc({ outcome: 'classifier_denied' });
    return { allowed: false, httpStatus: 403, reason, id: null };
  }

  private policyOf(ext: Record<string, string>): ApprovalRequestPolicy | string {
    const { defaults } = this.options;
    const approvals = ext.approvals ?? String(defaults.approvalsRequired);
    if (!/^[1-9]\d?$/.test(approvals)) return `approvals must be a whole number from 1 to 99, got ${JSON.stringify(approvals)}`;
    return { gate: ext.gate || defaults.gate, approvalsRequired: Number(approvals), reviewerGroup: ext['reviewer-group'] || defaults.reviewerGroup };
  }

  private redact(headers: Record<string, string>): Record<string, string> {
    const secret = new Set([...SECRET_HEADERS, ...this.options.redactHeaders.map((h) => h.toLowerCase())]);
    return Object.fromEntries(Object.entries(headers).filter(([name]) => !secret.has(name.toLowerCase())));
  }
}

type ApprovalRequestPolicy = Pick<ApprovalRequest, 'gate' | 'approvalsRequired' | 'reviewerGroup'>;

