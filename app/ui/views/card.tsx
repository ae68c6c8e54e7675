import { sameName } from '../../shared/names.js';
import type { ApprovalRequest } from '../../contracts/admin-api.js';
import type { PreviewResult } from '../../shared/migration-preview.js';
import { CallersFacts } from './deferral.js';
import { CANNOT_DECIDE, formatSpan, formatTime, OUTCOMES, pretty } from '../../shared/review-format.js';
import type { Viewer } from './layout.js';

export interface CardProps {
  request: ApprovalRequest;
  viewer: Viewer;
  /** Present for a tool that shows a migration plan (run_migration). */
  preview?: PreviewResult;
  /** The outcome of this reviewer's last attempt on this card, e.g. a refusal. */
  notice?: { kind: 'error' | 'info'; text: string };
  now: number;
}

/**
 * One request awaiting a decision. Everything the agent sent is untrusted: it is only ever
 * rendered as escaped text, never as markup or attributes that could run.
 */
export function RequestCard({ request, viewer, preview, notice, now }: CardProps) {
  const headingId = `title-${request.id}`;
  const ownRequest = request.requester !== null && sameName(request.requester, viewer.name);
  const alreadyApproved = request.approvals.some((a) => sameName(a.reviewer, viewer.name));
  return (
    <article class="card" id={`card-${request.id}`} aria-labelledby={headingId} data-tool={request.toolName} data-gate={request.gate}>
      <header>
        <h2 id={headingId}>
          <code>{request.toolName}</code>
        </h2>
        <p class="status">
          <span aria-hidden="true">{OUTCOMES.pending.symbol}</span> {OUTCOMES.pending.label} ·{' '}
          <span class="approvals">
            {request.approvals.length} of {request.approvalsRequired} approvals
          </span>
        </p>
      </header>
      <dl class="facts">
        <dt>Requested by</dt>
        <dd>{request.requester ?? 'anonymous: the call names nobody (the gate allows anonymous requests), so any reviewer may approve it'}</dd>
        <dt>Caller agent</dt>
        <dd>{request.callerAgent ?? 'not named'}</dd>
        <dt>Gate · route</dt>
        <dd>
          {request.gate} · <code>{request.method} {request.path}</code>
        </dd>
        <dt>Received</dt>
        <dd>
          <time datetime={request.receivedAt}>{formatTime(request.receivedAt)}</time>, waiting{' '}
          <span data-since={request.receivedAt}>{formatSpan(now - Date.parse(request.receivedAt))}</span>
        </dd>
        <dt>Times out</dt>
        <dd>
          in <span data-until={request.expiresAt}>{formatSpan(Date.parse(request.expiresAt) - now)}</span> (
          <time datetime={request.expiresAt}>{formatTime(request.expiresAt)}</time>)
        </dd>
        <CallersFacts request={request} now={now} />
        {request.traceparent && (
          <>
            <dt>Trace</dt>
            <dd>
              <code>{request.traceparent}</code>
            </dd>
          </>
        )}
      </dl>
      {preview && <MigrationSection preview={preview} />}
      <section aria-label="Arguments">
        <h3>Arguments</h3>
        {request.calls.length > 1 ? (
          <ol class="calls">
            {request.calls.map((call) => (
              <li>
                <code>{call.name}</code>
                <pre>{pretty(call.args)}</pre>
              </li>
            ))}
          </ol>
        ) : (
          <pre class="args">{pretty(request.toolArgs)}</pre>
        )}
      </section>
      {request.approvals.length > 0 && (
        <section aria-label="Approvals so far">
          <h3>Approved so far</h3>
          <ul>
            {request.approvals.map((a) => (
              <li>
                {a.reviewer} at {formatTime(a.at)}
                {a.reason && <>: “{a.reason}”</>}
              </li>
            ))}
          </ul>
        </section>
      )}
      <details>
        <summary>Request headers (credentials removed) and body</summary>
        <pre>{pretty(request.headers)}</pre>
        <pre>{request.body}</pre>
      </details>
      {notice && (
        <p class={`notice ${notice.kind}`} role={notice.kind === 'error' ? 'alert' : 'status'}>
          {notice.text}
        </p>
      )}
      {ownRequest ? (
        <p class="notice info">{CANNOT_DECIDE.ownRequest}</p>
      ) : alreadyApproved ? (
        <p class="notice info">{CANNOT_DECIDE.alreadyApproved}</p>
      ) : (
        <DecisionForm request={request} viewer={viewer} />
      )}
    </article>
  );
}

function DecisionForm({ request, viewer }: { request: ApprovalRequest; viewer: Viewer }) {
  const reasonId = `reason-${request.id}`;
  return (
    <form class="decide" method="post" action={`/decide/${request.id}`} hx-post={`/decide/${request.id}`} hx-target="closest article" hx-swap="outerHTML">
      <input type="hidden" name="_csrf" value={viewer.csrf} />
      <label for={reasonId}>Reason (recorded in the audit and shown to the agent on rejection)</label>
      <textarea id={reasonId} name="reason" rows={2} maxlength={2000}></textarea>
      <div class="buttons">
        <button type="submit" name="decision" value="approve" class="approve">
          ✔ Approve
        </button>
        <button type="submit" name="decision" value="reject" class="reject">
          ✖ Reject
        </button>
      </div>
    </form>
  );
}

function MigrationSection({ preview }: { preview: PreviewResult }) {
  if (!preview.ok) {
    return (
      <section aria-label="Migration">
        <h3>Migration</h3>
        <p class="notice error">Preview unavailable: {preview.problem}</p>
      </section>
    );
  }
  const { plan } = preview;
  return (
    <section aria-label="Migration" class="migration">
      <h3>
        Schema {plan.from} → {plan.to}
      </h3>
      {plan.steps.length === 0 ? (
        <p>Already at {plan.to}: the migration would change nothing.</p>
      ) : (
        plan.steps.map((step) => (
          <div class="step">
            <p>
              {step.direction === 'up' ? 'Apply' : 'Revert'} {step.version}: {step.summary}
            </p>
            <pre class="sql">{step.sql.join('\n')}</pre>
          </div>
        ))
      )}
    </section>
  );
}
