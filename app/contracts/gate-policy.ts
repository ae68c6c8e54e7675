/**
 * The policy one gated route asks of ext-auth, carried in the AgentgatewayPolicy's
 * `extAuth.grpc.contextExtensions` (static string pairs the gateway sends with every Check).
 * The constructs write these keys and the gate reads them.
 */
export const GATE_POLICY_KEYS = {
  /** Which gate the call belongs to (named in the queue, the audit and the approval token). */
  gate: 'gate',
  /** How many distinct reviewers must approve, 1 to 99, as text. */
  approvals: 'approvals',
  /** The reviewer group whose members may decide. */
  reviewerGroup: 'reviewer-group',
} as const;

export interface GatePolicy {
  gate: string;
  approvals: number;
  reviewerGroup: string;
}

/** The contextExtensions that ask the gate for `policy`. */
export function gatePolicyExtensions(policy: GatePolicy): Record<string, string> {
  return {
    [GATE_POLICY_KEYS.gate]: policy.gate,
    [GATE_POLICY_KEYS.approvals]: String(policy.approvals),
    [GATE_POLICY_KEYS.reviewerGroup]: policy.reviewerGroup,
  };
}
