/** `GET /pending?limit=&after=&gate=&tool=`: reading the query, and the opaque position a page ends at. */
import { MAX_PENDING_PAGE, type ApprovalRequest, type PendingCounts } from '../contracts/admin-api.js';
import type { QueuePosition } from './store.js';

export const PAGE_PARAMS = ['limit', 'after', 'gate', 'tool'] as const;

export interface PageRequest {
  limit: number;
  after?: QueuePosition;
  gate?: string;
  tool?: string;
}

/** The page asked for, or the reason the query cannot be answered. */
export function readPageQuery(query: Record<string, string>): PageRequest | { error: string } {
  const { limit, after, gate, tool } = query;
  if (limit === undefined || !/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_PENDING_PAGE) {
    return { error: `"limit" must be a whole number from 1 to ${MAX_PENDING_PAGE}` };
  }
  const page: PageRequest = { limit: Number(limit), gate: gate || undefined, tool: tool || undefined };
  if (after !== undefined) {
    const position = positionOf(after);
    if (!position) return { error: '"after" must be the "next" of an earlier page' };
    page.after = position;
  }
  return page;
}

/** The `after` that continues a queue past this request. */
export function positionAfter(request: ApprovalRequest): string {
  return Buffer.from(JSON.stringify([request.receivedAt, request.id])).toString('base64url');
}

/** The position an `after` (a page's `next`) names; undefined when it is not one. */
export function positionOf(after: string): QueuePosition | undefined {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(after, 'base64url').toString());
    if (!Array.isArray(decoded) || decoded.length !== 2) return undefined;
    const [receivedAt, id] = decoded as unknown[];
    if (typeof receivedAt !== 'string' || typeof id !== 'string' || Number.isNaN(Date.parse(receivedAt))) return undefined;
    return { receivedAt, id };
  } catch {
    return undefined;
  }
}

export function countsOf(rows: { gate: string; tool: string; n: number }[]): PendingCounts {
  const counts: PendingCounts = { total: 0, gates: {}, tools: {} };
  for (const { gate, tool, n } of rows) {
    counts.total += n;
    counts.gates[gate] = (counts.gates[gate] ?? 0) + n;
    counts.tools[tool] = (counts.tools[tool] ?? 0) + n;
  }
  return counts;
}
