/** How times and outcomes read on the pages; the same words with JavaScript off or on. */
import type { Status } from '../contracts/admin-api.js';

export function formatTime(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC` : '—';
}

/** "3h 05m", "2m 07s", "9s": coarse enough to read at a glance. */
export function formatSpan(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}

/** A symbol and a word for each outcome, so status never rests on colour alone. */
export const OUTCOMES: Record<Status, { symbol: string; label: string }> = {
  pending: { symbol: '○', label: 'Waiting for a decision' },
  approved: { symbol: '✔', label: 'Approved' },
  rejected: { symbol: '✖', label: 'Rejected' },
  timed_out: { symbol: '◷', label: 'Timed out' },
  abandoned: { symbol: '⊘', label: 'Abandoned' },
};

export const pretty = (value: unknown): string => JSON.stringify(value, null, 2);

/**
 * Why a reviewer cannot decide a request, in the same words on the card and in `hitl review`:
 * the requester never decides their own, and one reviewer's approval counts once.
 */
export const CANNOT_DECIDE = {
  ownRequest: 'You made this request, so another reviewer must decide it.',
  alreadyApproved: 'You have approved this; it needs another reviewer.',
} as const;

/** A request someone already decided (or that ended on its own), said as the queue says it. */
export function noLongerWaiting(request: { status: Status; decidedBy: string | null }): string {
  return `This request is no longer waiting: ${request.status.replace('_', ' ')}${request.decidedBy ? ` by ${request.decidedBy}` : ''}.`;
}
