import type { ApprovalRequest } from '../../app/contracts/admin-api.js';

/**
 * A request as the gate parks it, for suites that drive the store directly: one `run_migration`
 * call of `requester` with `args`, arrived now, pending for ten minutes, then `overrides`.
 * Calls with the same requester and arguments share a call key, as identical calls do.
 */
export function pendingRequest(requester: string | null, args: Record<string, unknown>, overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  const now = Date.now();
  return {
    id: crypto.randomUUID(),
    receivedAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 600_000).toISOString(),
    method: 'POST',
    path: '/privileged/mcp',
    rpcMethod: 'tools/call',
    toolName: 'run_migration',
    toolArgs: args,
    calls: [{ rpcId: '1', name: 'run_migration', args }],
    requester,
    callerAgent: null,
    gate: 'platform',
    reviewerGroup: 'platform',
    approvalsRequired: 1,
    approvals: [],
    headers: {},
    body: '',
    status: 'pending',
    decidedAt: null,
    decidedBy: null,
    reason: null,
    callKey: `${requester}:${JSON.stringify(args)}`,
    waiting: 1,
    callerStoppedAt: null,
    grantTtlSeconds: 900,
    grant: null,
    ...overrides,
  };
}
