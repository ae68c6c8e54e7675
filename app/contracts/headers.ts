/**
 * Header names that cross a service boundary. The gate's approval tokens have theirs in
 * approval-token.ts and the reviewer session its own in reviewer-session.ts.
 */

/**
 * Names the chat user on A2A requests and, forwarded by the agent, on its MCP calls: kagent's
 * controller sets it, and a declarative Agent's `allowedHeaders` passes it on. The default of
 * every `--requester-header` flag.
 */
export const REQUESTER_HEADER = 'x-user-id';

/**
 * Added by ext-auth to an approved call for the MCP server's logs: which request, approved by
 * whom. Informational only; the signed token is what the MCP server trusts.
 */
export const APPROVAL_ID_HEADER = 'x-hitl-approval-id';
export const APPROVED_BY_HEADER = 'x-hitl-approved-by';
