import type { ApprovalRequest } from '../../contracts/admin-api.js';
import { formatDuration } from '../../shared/flags.js';
import { formatTime } from '../../shared/review-format.js';

/**
 * What a card says about the callers behind it: how many identical calls wait on this one
 * decision, or, once the gate stopped holding them, that an approval lets the same call through
 * once when it comes again.
 */
export function CallersFacts({ request, now }: { request: ApprovalRequest; now: number }) {
  const waiting = request.waiting ?? 1;
  if (waiting > 1) {
    return (
      <>
        <dt>Calls waiting</dt>
        <dd class="joined">{waiting} identical calls wait on this one decision</dd>
      </>
    );
  }
  if (waiting > 0 || !request.callerStoppedAt) return null;
  const ttlMs = request.grantTtlSeconds * 1000;
  return (
    <>
      <dt>Caller</dt>
      <dd class="deferred">
        stopped waiting at <time datetime={request.callerStoppedAt}>{formatTime(request.callerStoppedAt)}</time> and was told to try again. Approving
        lets the same call from the same requester through once, within {formatDuration(ttlMs)} of the approval (until{' '}
        {formatTime(new Date(now + ttlMs).toISOString())} if approved now).
      </dd>
    </>
  );
}
