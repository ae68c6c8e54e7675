import type { KeyObject } from 'node:crypto';
import { APPROVAL_TOKEN_HEADER, signApproval } from '../contracts/approval-token.js';
import type { ApprovalRequest } from '../contracts/admin-api.js';
import { APPROVAL_ID_HEADER, APPROVED_BY_HEADER } from '../contracts/headers.js';
import { callHash } from '../contracts/tool-call.js';

/**
 * The headers an approved call carries upstream: its request id and approvers, for logs and
 * correlation only (nobody downstream may trust them), and, with a signing key, the token
 * that proves the approval to the MCP server. The token binds the one
 * call the reviewers saw (a gated request holds exactly one), who asked and who approved.
 */
export async function approvalHeaders(request: ApprovalRequest, key: KeyObject | undefined): Promise<Record<string, string>> {
  const headers: Record<string, string> = { [APPROVAL_ID_HEADER]: request.id, [APPROVED_BY_HEADER]: request.decidedBy ?? '' };
  if (!key) return headers;
  headers[APPROVAL_TOKEN_HEADER] = await signApproval(key, {
    approvalId: request.id,
    kind: 'platform',
    gate: request.gate,
    requester: request.requester,
    approvers: request.approvals.map((a) => a.reviewer),
    callHash: callHash({ name: request.toolName, args: request.toolArgs }),
  });
  return headers;
}
