/**
 * The Block Kit messages the Slack bridge posts: one per request, with what a reviewer needs
 * to decide (tool, requester, gate, arguments, the migration's SQL), a reason field and the
 * two buttons while it waits, and the outcome in place of the buttons once it has ended.
 */
import type { ApprovalRequest } from '../../contracts/admin-api.js';
import type { PreviewResult } from '../../shared/migration-preview.js';

export const REASON_BLOCK = 'hitl_reason';
export const REASON_ACTION = 'reason';
export const APPROVE_ACTION = 'approve';
export const REJECT_ACTION = 'reject';

/** A section's text may hold 3000 characters; code is cut well before, leaving room for its frame. */
const MAX_CODE = 2600;

export interface SlackMessage {
  /** What notifications and screen readers show. */
  text: string;
  blocks: object[];
}

/** Slack reads &, < and > as markup; text from a request must never become a link or a mention. */
export function escapeText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function code(text: string): string {
  const cut = text.length > MAX_CODE ? `${text.slice(0, MAX_CODE)}\n… (cut here; the card in the queue shows it all)` : text;
  // A run of backticks inside would close the block early.
  return '```' + escapeText(cut).replace(/```/g, '`\u200b``') + '```';
}

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const requesterOf = (request: ApprovalRequest) => request.requester ?? 'an unidentified caller';

function summary(request: ApprovalRequest): object {
  const approvals = request.approvals.length
    ? `${request.approvals.length} of ${request.approvalsRequired}: ${request.approvals.map((a) => escapeText(a.reviewer)).join(', ')}`
    : `0 of ${request.approvalsRequired}`;
  return {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Tool*\n\`${escapeText(request.toolName)}\`` },
      { type: 'mrkdwn', text: `*Requester*\n${escapeText(requesterOf(request))}` },
      { type: 'mrkdwn', text: `*Gate*\n${escapeText(request.gate)} (reviewers in ${escapeText(request.reviewerGroup)})` },
      { type: 'mrkdwn', text: `*Approvals*\n${approvals}` },
    ],
  };
}

function argumentsBlock(request: ApprovalRequest): object {
  const shown = request.calls.length > 1 ? request.calls.map((c) => ({ tool: c.name, arguments: c.args })) : request.toolArgs;
  return section(`*${request.calls.length > 1 ? `${request.calls.length} calls in one batch` : 'Arguments'}*\n${code(JSON.stringify(shown, null, 2))}`);
}

function migrationBlock(preview: PreviewResult): object {
  if (!preview.ok) return section(`*Migration SQL*\nNot available: ${escapeText(preview.problem)}`);
  const { from, to, steps } = preview.plan;
  if (!steps.length) return section(`*Migration SQL*\nNothing to run: the database is already at ${escapeText(to)}.`);
  const sql = steps.map((s) => `-- ${s.version} ${s.direction}: ${s.summary}\n${s.sql.join('\n')}`).join('\n\n');
  return section(`*Migration SQL* (${escapeText(from)} → ${escapeText(to)})\n${code(sql)}`);
}

const footer = (request: ApprovalRequest, link: string) => ({
  type: 'context',
  elements: [
    {
      type: 'mrkdwn',
      text: `Request \`${escapeText(request.id)}\` on \`${escapeText(`${request.method} ${request.path}`)}\`${request.traceparent ? ` · trace \`${escapeText(request.traceparent)}\`` : ''} · <${link}|Open in the queue>`,
    },
  ],
});

/** The message while the request waits; `preview` only for a tool that shows a migration plan. */
export function pendingMessage(request: ApprovalRequest, link: string, preview?: PreviewResult): SlackMessage {
  const text = `Approval needed: ${request.toolName} requested by ${requesterOf(request)}`;
  const blocks: object[] = [section(`*Approval needed:* \`${escapeText(request.toolName)}\` requested by *${escapeText(requesterOf(request))}*`), summary(request), argumentsBlock(request)];
  if (preview) blocks.push(migrationBlock(preview));
  blocks.push(
    footer(request, link),
    {
      type: 'input',
      block_id: REASON_BLOCK,
      optional: true,
      label: { type: 'plain_text', text: 'Reason (recorded in the audit, shown to the agent on rejection)' },
      element: { type: 'plain_text_input', action_id: REASON_ACTION, max_length: 2000 },
    },
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: APPROVE_ACTION, value: request.id, style: 'primary', text: { type: 'plain_text', text: 'Approve' } },
        { type: 'button', action_id: REJECT_ACTION, value: request.id, style: 'danger', text: { type: 'plain_text', text: 'Reject' } },
      ],
    },
  );
  return { text, blocks };
}

/** How the request ended, in one line. */
export function outcomeLine(request: ApprovalRequest): string {
  const reason = request.reason ? `: “${request.reason}”` : '';
  switch (request.status) {
    case 'approved':
      return `Approved by ${request.decidedBy}${reason}`;
    case 'rejected':
      return `Rejected by ${request.decidedBy}${reason}`;
    case 'timed_out':
      return 'Timed out: nobody decided in time';
    case 'abandoned':
      return `Abandoned${reason}`;
    default:
      return 'Waiting for a decision';
  }
}

/** The message once the request has ended: the outcome where the buttons were. */
export function endedMessage(request: ApprovalRequest, link: string): SlackMessage {
  const outcome = outcomeLine(request);
  return {
    text: `${request.toolName} requested by ${requesterOf(request)}: ${outcome}`,
    blocks: [
      section(`*${escapeText(outcome)}* · \`${escapeText(request.toolName)}\` requested by *${escapeText(requesterOf(request))}*`),
      summary(request),
      argumentsBlock(request),
      footer(request, link),
    ],
  };
}
