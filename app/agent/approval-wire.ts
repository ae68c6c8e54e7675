/**
 * kagent's two generations of the chat approval wire, as pure functions: how a paused graph's
 * `interrupt({action_requests})` is shown to the client, and how the client's answer becomes
 * the value `interrupt()` returns. The graph never sees either wire.
 *
 * - A2A 0.3 (kagent v0.9): one `adk_request_confirmation` DataPart per call; the answer is a
 *   DataPart with `decision_type`. Anything undecidable counts as a rejection.
 * - A2A 1.0 with the hitl/v1 extension: `metadata[uri]` of type `tool_approval_request`; the
 *   answer lists every pending id exactly once, and anything else is refused.
 */

export const HITL_EXTENSION = 'https://kagent.dev/extensions/hitl/v1';

/** One tool call the graph wants approved (what `interrupt()` is given). */
export interface ActionRequest {
  name: string;
  args: Record<string, unknown>;
  /** The tool call id. */
  id: string;
}

/** What `interrupt()` returns to the graph, whichever wire the answer came over. */
export interface ApprovalDecision {
  decision_type: 'approve' | 'reject' | 'batch';
  decisions?: Record<string, 'approve' | 'reject'>;
  /** Per call id; a reason given for every call sits under "*". */
  rejection_reasons?: Record<string, string>;
}

/** A resume the server must refuse without resuming anything. */
export class InvalidResume extends Error {}

const HINT = 'The assistant wants to run this tool. Approve or reject it.';

// ---- A2A 0.3: adk_request_confirmation ---------------------------------------------------

export interface LegacyConfirmation {
  data: {
    name: 'adk_request_confirmation';
    id: string;
    args: {
      originalFunctionCall: { name: string; args: Record<string, unknown>; id: string };
      toolConfirmation: { hint: string; confirmed: false; payload: null };
    };
  };
  metadata: { kagent_type: 'function_call'; kagent_is_long_running: true };
}

export function legacyPause(actions: ActionRequest[]): LegacyConfirmation[] {
  return actions.map((action) => ({
    data: {
      name: 'adk_request_confirmation',
      id: `confirm-${action.id}`,
      args: {
        originalFunctionCall: { name: action.name, args: action.args, id: action.id },
        toolConfirmation: { hint: HINT, confirmed: false, payload: null },
      },
    },
    metadata: { kagent_type: 'function_call', kagent_is_long_running: true },
  }));
}

/**
 * Reads a v0.9 answer from the data parts of the user's message. Never throws: a message that
 * decides nothing, or leaves a call undecided, rejects what it does not approve.
 */
export function legacyResume(dataParts: unknown[], pending: ActionRequest[]): ApprovalDecision {
  const answer = dataParts.find((d): d is Record<string, unknown> => isObject(d) && 'decision_type' in d);
  const reasons = readReasons(answer);
  const rejectAll: ApprovalDecision = { decision_type: 'reject', rejection_reasons: reasons ?? { '*': 'no decision was given' } };
  if (!answer) return rejectAll;
  if (answer.decision_type === 'approve') return { decision_type: 'approve' };
  if (answer.decision_type !== 'batch' || !isObject(answer.decisions)) return { ...rejectAll, rejection_reasons: reasons };
  const given = answer.decisions;
  const decisions = Object.fromEntries(pending.map((a) => [a.id, given[a.id] === 'approve' ? 'approve' : 'reject'] as const));
  return { decision_type: 'batch', decisions, rejection_reasons: reasons };
}

function readReasons(answer: Record<string, unknown> | undefined): Record<string, string> | undefined {
  if (!answer) return undefined;
  if (typeof answer.rejection_reason === 'string') return { '*': answer.rejection_reason };
  if (isObject(answer.rejection_reasons)) {
    return Object.fromEntries(Object.entries(answer.rejection_reasons).filter((e): e is [string, string] => typeof e[1] === 'string'));
  }
  return undefined;
}

// ---- A2A 1.0: the hitl/v1 extension -------------------------------------------------------

export interface ApprovalRequestMetadata {
  type: 'tool_approval_request';
  hint: string;
  tools: { id: string; call_id: string; name: string; args: Record<string, unknown> }[];
}

export function extensionPause(actions: ActionRequest[]): ApprovalRequestMetadata {
  return {
    type: 'tool_approval_request',
    hint: HINT,
    tools: actions.map((a) => ({ id: `approval-${a.id}`, call_id: a.id, name: a.name, args: a.args })),
  };
}

/** Reads a hitl/v1 answer, or throws InvalidResume saying exactly what is wrong with it. */
export function extensionResume(metadata: unknown, pending: ApprovalRequestMetadata): ApprovalDecision {
  if (!isObject(metadata)) throw new InvalidResume(`the message carries no metadata["${HITL_EXTENSION}"]`);
  if (metadata.type !== 'tool_approval_response') throw new InvalidResume(`metadata type must be "tool_approval_response", not ${JSON.stringify(metadata.type)}`);
  if (!Array.isArray(metadata.approvals)) throw new InvalidResume('"approvals" must be a list');
  const byId = new Map(pending.tools.map((t) => [t.id, t]));
  const decisions: Record<string, 'approve' | 'reject'> = {};
  const reasons: Record<string, string> = {};
  const seen = new Set<string>();
  for (const approval of metadata.approvals) {
    if (!isObject(approval) || typeof approval.id !== 'string' || typeof approval.approved !== 'boolean') {
      throw new InvalidResume('each approval needs a string "id" and a boolean "approved"');
    }
    const tool = byId.get(approval.id);
    if (!tool) throw new InvalidResume(`unknown approval id ${JSON.stringify(approval.id)}`);
    if (seen.has(approval.id)) throw new InvalidResume(`approval id ${JSON.stringify(approval.id)} is answered twice`);
    seen.add(approval.id);
    decisions[tool.call_id] = approval.approved ? 'approve' : 'reject';
    if (!approval.approved && typeof approval.rejection_reason === 'string') reasons[tool.call_id] = approval.rejection_reason;
  }
  const missing = pending.tools.filter((t) => !seen.has(t.id)).map((t) => t.id);
  if (missing.length) throw new InvalidResume(`every pending approval must be answered; missing ${missing.join(', ')}`);
  return { decision_type: 'batch', decisions, rejection_reasons: reasons };
}

// ---- what the graph does with an answer ---------------------------------------------------

/** Whether one call was approved, and the reason given if it was rejected. */
export function verdictFor(decision: ApprovalDecision, callId: string): { approved: boolean; reason?: string } {
  const approved = decision.decision_type === 'approve' || (decision.decision_type === 'batch' && decision.decisions?.[callId] === 'approve');
  return approved ? { approved } : { approved, reason: decision.rejection_reasons?.[callId] ?? decision.rejection_reasons?.['*'] };
}

function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
