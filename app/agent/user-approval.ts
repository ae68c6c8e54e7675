/**
 * The end user's approval, carried to the MCP server as a signed token (contracts/
 * approval-token.ts, kind 'user'): minted right before the approved call runs, bound to the
 * hash of exactly that call, naming the user who asked and the user who approved. The MCP
 * server trusts it by its signature, whatever path the request took.
 */
import type { KeyObject } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { signApproval } from '../contracts/approval-token.js';
import { callHash } from '../contracts/tool-call.js';

/** The approving surface a user approval names as its gate. */
export const CHAT_GATE = 'chat';
/** Long enough to reach the MCP server through the gateway; the call is made at once. */
const LIFETIME_SECONDS = 30;

export class UserApprovalSigner {
  constructor(private readonly key: KeyObject) {}

  /** A token approving exactly this call, asked for and approved by `user` in their chat. */
  tokenFor(call: { name: string; args: Record<string, unknown> }, user: string): Promise<string> {
    return signApproval(
      this.key,
      { approvalId: randomUUID(), kind: 'user', gate: CHAT_GATE, requester: user, approvers: [user], callHash: callHash({ name: call.name, args: call.args }) },
      LIFETIME_SECONDS,
    );
  }
}
