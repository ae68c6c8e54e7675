/**
 * How `hitl review` prints requests for a person at a terminal: the queue as a table, one
 * request as the card the web queue shows, one line per queue change. What the agent sent is
 * untrusted, so control characters in it are shown escaped and can never drive the terminal.
 */
import type { ApprovalRequest, QueueChange } from '../contracts/admin-api.js';
import type { PreviewResult } from '../shared/migration-preview.js';
import { CANNOT_DECIDE, formatSpan, formatTime, noLongerWaiting, OUTCOMES, pretty } from '../shared/review-format.js';
import { formatDuration } from '../shared/flags.js';
import { sameName } from '../shared/names.js';
import { textTable } from '../shared/text-table.js';

/** Control characters (all but line breaks, which blocks keep) as visible escapes. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const requesterOf = (request: ApprovalRequest) => request.requester ?? 'anonymous';
const toolOf = (request: ApprovalRequest) => (request.calls.length > 1 ? `${request.toolName} +${request.calls.length - 1} more` : request.toolName);
const approvalsOf = (request: ApprovalRequest) => `${request.approvals.length} of ${request.approvalsRequired}`;

export function pendingTable(requests: ApprovalRequest[], now: number): string {
  if (requests.length === 0) return 'Nothing is waiting for a decision.';
  const rows = requests.map((r) => [r.id, toolOf(r), requesterOf(r), r.gate, formatSpan(now - Date.parse(r.receivedAt)), approvalsOf(r)].map(printable));
  return textTable(['ID', 'TOOL', 'REQUESTER', 'GATE', 'WAITING', 'APPROVALS'], rows);
}

/** Why `reviewer` may not decide this request, in the web queue's words; undefined when they may. */
export function cannotDecide(request: ApprovalRequest, reviewer: string): string | undefined {
  if (request.status !== 'pending') return noLongerWaiting(request);
  if (request.requester !== null && sameName(request.requester, reviewer)) return CANNOT_DECIDE.ownRequest;
  if (request.approvals.some((a) => sameName(a.reviewer, reviewer))) return CANNOT_DECIDE.alreadyApproved;
  return undefined;
}

/** The card: the facts, the arguments, the SQL a migration would run, approvals so far. */
export function requestCard(request: ApprovalRequest, reviewer: string, now: number, preview?: PreviewResult): string {
  const outcome = OUTCOMES[request.status];
  const facts: [string, string][] = [
    ['ID', request.id],
    ['Requested by', request.requester ?? 'anonymous: the call names nobody, so any reviewer may approve it'],
    ['Caller agent', request.callerAgent ?? 'not named'],
    ['Gate · route', `${request.gate} · ${request.method} ${request.path}`],
    ['Reviewers', `${request.approvalsRequired} from group ${request.reviewerGroup}`],
    ['Received', `${formatTime(request.receivedAt)}, waiting ${formatSpan(now - Date.parse(request.receivedAt))}`],
  ];
  if (request.status === 'pending') {
    facts.push(['Times out', `in ${formatSpan(Date.parse(request.expiresAt) - now)} (${formatTime(request.expiresAt)})`]);
    const callers = callersFact(request);
    if (callers) facts.push(callers);
  } else {
    facts.push(['Decided', `${formatTime(request.decidedAt)}${request.decidedBy ? ` by ${request.decidedBy}` : ''}${request.reason ? `: “${request.reason}”` : ''}`]);
  }
  const width = Math.max(...facts.map(([label]) => label.length)) + 2;
  const lines = [
    `${request.toolName} · ${outcome.symbol} ${outcome.label} · ${approvalsOf(request)} approvals`,
    '',
    ...facts.map(([label, value]) => `${label.padEnd(width)}${value}`),
    '',
    'Arguments',
    ...(request.calls.length > 1 ? request.calls.map((call, i) => `${i + 1}. ${call.name}\n${indent(pretty(call.args))}`) : [indent(pretty(request.toolArgs))]),
  ];
  if (preview) lines.push('', ...migrationLines(preview));
  if (request.approvals.length > 0) {
    lines.push('', 'Approved so far', ...request.approvals.map((a) => `  ${a.reviewer} at ${formatTime(a.at)}${a.reason ? `: “${a.reason}”` : ''}`));
  }
  const note = cannotDecide(request, reviewer);
  lines.push('', note ?? `Decide with: hitl review approve ${request.id} [--reason …]  or  hitl review reject ${request.id} --reason …`);
  return printable(lines.join('\n'));
}

function callersFact(request: ApprovalRequest): [string, string] | undefined {
  if (request.waiting > 1) return ['Calls waiting', `${request.waiting} identical calls wait on this one decision`];
  if (request.waiting > 0 || !request.callerStoppedAt) return undefined;
  return [
    'Caller',
    `stopped waiting at ${formatTime(request.callerStoppedAt)} and was told to try again; approving lets the same call from the same requester through once, within ${formatDuration(request.grantTtlSeconds * 1000)} of the approval`,
  ];
}

function migrationLines(preview: PreviewResult): string[] {
  if (!preview.ok) return ['Migration', `  SQL not shown: ${preview.problem}`];
  const { plan } = preview;
  if (plan.steps.length === 0) return [`Migration: schema ${plan.from} → ${plan.to}`, `  Already at ${plan.to}: the migration would change nothing.`];
  return [
    `Migration: schema ${plan.from} → ${plan.to}`,
    ...plan.steps.flatMap((step) => [`  ${step.direction === 'up' ? 'Apply' : 'Revert'} ${step.version}: ${step.summary}`, indent(step.sql.join('\n'), 4)]),
  ];
}

const indent = (text: string, by = 2) => text.split('\n').map((line) => ' '.repeat(by) + line).join('\n');

/** What a decision did, in a sentence. */
export function decisionOutcome(request: ApprovalRequest, approved: boolean): string {
  if (!approved) return `Rejected ${request.id} (${request.toolName}).`;
  if (request.status === 'approved') return `Approved ${request.id} (${request.toolName}): ${approvalsOf(request)} approvals, the call may go through.`;
  return `Approval recorded for ${request.id} (${request.toolName}): ${approvalsOf(request)}; it needs another reviewer.`;
}

const CHANGE_WORDS: Record<QueueChange['type'], string> = {
  parked: 'waiting',
  joined: 'joined',
  deferred: 'deferred',
  approval: 'approval',
  approved: 'approved',
  rejected: 'rejected',
  timed_out: 'timed out',
  abandoned: 'abandoned',
};

/** One queue change as one line: when, what happened, and to which call. */
export function changeLine(change: QueueChange, at: Date, request?: ApprovalRequest): string {
  const head = `${at.toISOString().slice(11, 19)}  ${CHANGE_WORDS[change.type].padEnd(9)}  ${change.id}`;
  if (!request) return printable(head);
  const what = `${toolOf(request)} from ${requesterOf(request)}`;
  const detail: Record<QueueChange['type'], string> = {
    parked: `${request.gate}, needs ${request.approvalsRequired} from ${request.reviewerGroup}`,
    joined: `${request.waiting} identical calls wait on it`,
    deferred: 'the caller stopped waiting; an approval lets the same call through once',
    approval: `${approvalsOf(request)} approvals (${request.approvals.map((a) => a.reviewer).join(', ')})`,
    approved: `by ${request.decidedBy ?? 'nobody named'}`,
    rejected: `by ${request.decidedBy ?? 'nobody named'}${request.reason ? `: “${request.reason}”` : ''}`,
    timed_out: request.reason ?? 'nobody decided in time',
    abandoned: request.reason ?? 'its caller is gone',
  };
  return printable(`${head}  ${what}: ${detail[change.type]}`);
}
