/**
 * What the MCP server believes about who approved a call: only what a signed token proves.
 *
 * A `platform` or `both` tool runs only with a platform reviewer's token (from ext-auth,
 * through the gateway) for this very call. An end user's token (from the agent that asked
 * them in the chat) is never required, because kagent's declarative agents approve inside
 * kagent and cannot sign; but when one is present on a `user` or `both` call it must be valid,
 * and then it names the user who approved. Plain headers naming an approver are never read.
 */
import type { KeyObject } from 'node:crypto';
import { needsPlatformApproval, needsUserApproval, type Tier } from '../catalogue.js';
import {
  APPROVAL_TOKEN_HEADER,
  ApprovalTokenError,
  USER_APPROVAL_TOKEN_HEADER,
  verifyApproval,
  type ApprovalClaims,
  type ApprovalKind,
} from '../contracts/approval-token.js';
import { callHash, type BoundCall } from '../contracts/tool-call.js';
import { ToolError } from './db/orders.js';

export interface ApprovalKeys {
  /** Verifies platform approvals; null only when the operator turned the check off. */
  platform: KeyObject | null;
  /** Verifies end users' approvals, when the agents sign them. */
  user?: KeyObject;
}

export interface VerifiedApprovals {
  platform?: ApprovalClaims;
  user?: ApprovalClaims;
}

/**
 * Checks the tokens a call carries against the call itself. Throws ToolError saying why the
 * call may not run; otherwise returns the approvals the tokens prove.
 */
export async function checkApprovals(keys: ApprovalKeys, tier: Tier, call: BoundCall, headers: Headers): Promise<VerifiedApprovals> {
  const hash = callHash(call);
  const verified: VerifiedApprovals = {};
  if (needsPlatformApproval(tier) && keys.platform) {
    verified.platform = await verifyOne(keys.platform, 'platform', headers.get(APPROVAL_TOKEN_HEADER), hash, call.name);
  }
  const userToken = headers.get(USER_APPROVAL_TOKEN_HEADER);
  if (needsUserApproval(tier) && keys.user && userToken !== null) {
    verified.user = await verifyOne(keys.user, 'user', userToken, hash, call.name);
  }
  return verified;
}

async function verifyOne(key: KeyObject, kind: ApprovalKind, token: string | null, hash: string, tool: string): Promise<ApprovalClaims> {
  const who = kind === 'platform' ? 'a platform reviewer' : 'the end user';
  if (token === null || token === '') throw new ToolError(`${tool} needs ${who}'s signed approval and the call carries none; nothing was run`);
  try {
    return await verifyApproval(key, kind, token, hash);
  } catch (err) {
    if (!(err instanceof ApprovalTokenError)) throw err;
    throw new ToolError(`${who}'s approval was refused (${err.message}); nothing was run`);
  }
}
