/**
 * How the gateway gate refuses a tool call so that any MCP client can read it: as the call's
 * own result, a tool error (`isError: true`) whose text a model reads, with the gate's details
 * for programs under `_meta`. A non-2xx answer would not do: the Python MCP SDK turns it into
 * an opaque error without reading the body, and ADK retries the call once.
 *
 * The details sit under `_meta`, never `structuredContent`: a tool with an output schema
 * would fail validation on a result that is not its own.
 */

/** The `_meta` key of the gate's details, namespaced as MCP asks of extensions. */
export const GATE_META_KEY = 'dev.hitl-gates/gate';

/**
 * - `rejected`: a reviewer said no (also a repeat of a call rejected moments ago);
 * - `timed_out`: nobody decided within the park timeout;
 * - `abandoned`: the call ended before anyone decided;
 * - `flood_denied`: too many calls wait already;
 * - `waiting`: the gate stopped holding the call; it stays in the queue, and the same call made
 *   again after an approval runs.
 */
export type GateOutcome = 'rejected' | 'timed_out' | 'abandoned' | 'flood_denied' | 'waiting';

export interface GateDetails {
  status: GateOutcome;
  /** The review request, when the call was parked. */
  requestId: string | null;
  gate: string;
  /** Who decided (rejections). */
  reviewers: string[];
  /** The reviewer's or the gate's reason, verbatim. */
  reason: string | null;
  /** When a waiting request leaves the queue unless decided. */
  expiresAt: string | null;
  /** How long after an approval the same call may run (waiting only). */
  grantTtlSeconds: number | null;
}

export interface ToolErrorResult {
  content: { type: 'text'; text: string }[];
  isError: true;
  _meta: { [GATE_META_KEY]: GateDetails };
}

export function toolErrorResult(text: string, details: GateDetails): ToolErrorResult {
  return { content: [{ type: 'text', text }], isError: true, _meta: { [GATE_META_KEY]: details } };
}

/** The gate's details in a tool result, or undefined when the result is not the gate's. */
export function gateDetailsOf(result: unknown): GateDetails | undefined {
  const meta = (result as { _meta?: Record<string, unknown> } | null)?._meta;
  const details = meta?.[GATE_META_KEY] as GateDetails | undefined;
  return details && typeof details === 'object' && typeof details.status === 'string' ? details : undefined;
}
