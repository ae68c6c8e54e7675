/**
 * The reviewers' HTTP API, compatible with the lab's runbook (`GET /pending`,
 * `POST /decide/{id}`), plus whoami, history, the audit export, live events and metrics.
 */
import { Hono } from 'hono';
import type { KeyObject } from 'node:crypto';
import { signHead, trailerLine } from '../shared/audit-proof.js';
import type { Logger } from '../shared/log.js';
import { aborted, liveStream, type LiveStreamOptions } from '../shared/sse.js';
import { exportLine, GENESIS } from './audit.js';
import { JsonError, parseStrictJson } from './strict-json.js';
import { ENDED_STATUSES, type ApprovalRequest, type PendingIds, type PendingPage, type QueueChange, type Status } from '../contracts/admin-api.js';
import type { Gate } from './gate.js';
import { countsOf, PAGE_PARAMS, positionAfter, positionOf, readPageQuery } from './pending-page.js';
import type { GateMetrics } from './metrics.js';
import { requireReviewer, type Reviewer, type ReviewerAuthOptions } from './reviewers.js';
import { formatDuration } from '../shared/flags.js';
import { requireLiveSession, sessionApi, watchSession } from './session-api.js';
import type { ReviewerSessions } from './sessions.js';
import { DecisionError, type ApprovalStore } from './store.js';

const MAX_REASON = 2000;

export interface AdminApiOptions {
  gate: Gate;
  store: ApprovalStore;
  sessions: ReviewerSessions;
  metrics: GateMetrics;
  auth: ReviewerAuthOptions;
  /** Ends every live event stream, so stopping the server need not wait for them. */
  shutdown: AbortSignal;
  /** Signs the audit export's last line, when set. */
  approvalKey?: KeyObject;
  log: Logger;
}

type AdminEnv = { Variables: { reviewer: Reviewer } };

export function adminApp({ gate, store, sessions, metrics, auth, shutdown, approvalKey, log }: AdminApiOptions): Hono<AdminEnv> {
  const app = new Hono<AdminEnv>();

  app.get('/metrics', async (c) => c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }));

  app.use(requireReviewer(auth));
  app.use(requireLiveSession(sessions));
  // Stryker disable next-line StringLiteral: Hono mounts at the app's base path alike for '/' and '', so no request tells them apart.
  app.route('/', sessionApi(sessions));

  // Lets a front end check a credential and learn whose it is without acting on anything.
  app.get('/whoami', (c) => c.json(c.get('reviewer')));

  app.get('/pending', async (c) => {
    const query = c.req.query();
    // Without a query, the whole queue as it always was: the CLI and the Slack bridge read that.
    if (!PAGE_PARAMS.some((name) => name in query)) return c.json({ pending: (await store.pending()).map(withDeferral) });
    const page = readPageQuery(query);
    if ('error' in page) return c.json({ error: page.error }, 400);
    // One more than asked says whether a next page exists.
    const [rows, counts] = await Promise.all([store.pendingPage({ ...page, limit: page.limit + 1 }), store.pendingCounts()]);
    const pending = rows.slice(0, page.limit);
    const next = rows.length > page.limit ? positionAfter(pending.at(-1)!) : null;
    return c.json({ pending: pending.map(withDeferral), next, counts: countsOf(counts) } satisfies PendingPage);
  });

  // A live queue page checks its cards against this when its stream (re)connects. A page that
  // holds only the start of the queue asks only as far as its last card (`through`, the `next`
  // of its last page): a deep queue is not read whole for the fifty cards on show.
  app.get('/pending-ids', async (c) => {
    const through = c.req.query('through');
    const position = through === undefined ? undefined : positionOf(through);
    if (through !== undefined && !position) return c.json({ error: '"through" must be the "next" of an earlier page' }, 400);
    return c.json({ ids: await store.pendingIds(position) } satisfies PendingIds);
  });

  app.get('/requests/:id', async (c) => {
    const request = await store.get(c.req.param('id'));
    return request ? c.json(withDeferral(request)) : c.json({ error: `no request ${c.req.param('id')}` }, 404);
  });

  app.post('/decide/:id', async (c) => {
    // The strict reader: with duplicate keys, which "approved" counts would be a guess.
    let body: unknown;
    try {
      body = parseStrictJson(await c.req.text());
    } catch (err) {
      const problem = err instanceof JsonError ? `: ${err.message}` : '';
      return c.json({ error: `body must be JSON: {"approved": true|false, "reason": "…"}${problem}` }, 400);
    }
    const { approved, reason = '' } = (body ?? {}) as { approved?: unknown; reason?: unknown };
    if (typeof approved !== 'boolean') return c.json({ error: '"approved" must be true or false' }, 400);
    if (typeof reason !== 'string' || reason.length > MAX_REASON) return c.json({ error: `"reason" must be a string of at most ${MAX_REASON} characters` }, 400);
    try {
      await gate.decide(c.req.param('id'), c.get('reviewer'), approved, reason);
    } catch (err) {
      if (err instanceof DecisionError) return c.json({ error: err.message }, err.status);
      throw err;
    }
    return c.body(null, 204);
  });

  app.get('/history', async (c) => {
    const status = c.req.query('status');
    if (status && !ENDED_STATUSES.includes(status as Status)) return c.json({ error: `status must be one of ${ENDED_STATUSES.join(', ')}` }, 400);
    const limit = clampInt(c.req.query('limit'), 50, 1, 500);
    const offset = clampInt(c.req.query('offset'), 0, 0, Number.MAX_SAFE_INTEGER);
    const page = await store.history({ status: status as Status | undefined, requester: c.req.query('requester'), tool: c.req.query('tool'), limit, offset });
    return c.json({ ...page, limit, offset });
  });

  app.get('/audit.jsonl', async (c) => {
    const chain = await store.auditChain();
    const lines = chain.map(exportLine);
    // Signed, the export's last line vouches for its length and head, so a cut or a rewrite shows.
    if (approvalKey) {
      const last = chain.at(-1);
      lines.push(trailerLine(await signHead(approvalKey, { seq: last?.seq ?? 0, hash: last?.hash ?? GENESIS, count: chain.length })));
    }
    return c.body(lines.join('\n') + (lines.length ? '\n' : ''), 200, {
      'content-type': 'application/x-ndjson',
      'content-disposition': 'attachment; filename="hitl-audit.jsonl"',
    });
  });

  const streamOptions: LiveStreamOptions<AdminEnv> = {
    shutdown,
    refusal: (c) => c.json({ error: 'shutting down' }, 503, { connection: 'close' }),
    onError: (err) => log.warn({ err: err.message }, 'event stream failed'),
  };
  app.get('/events', (c) =>
    liveStream(c, streamOptions, async (stream, ended) => {
      const send = (change: QueueChange) => void stream.writeSSE({ event: 'change', data: JSON.stringify(change) });
      gate.on('change', send);
      const session = watchSession(c, sessions);
      try {
        await stream.writeSSE({ event: 'ready', data: '{}' });
        await Promise.race([aborted(ended), session.ended]);
      } finally {
        session.stop();
        gate.off('change', send);
      }
    }),
  );

  return app;
}

/**
 * A pending request whose callers the gate stopped holding says so in words too: when they
 * stopped waiting, and what an approval now does.
 */
function withDeferral(request: ApprovalRequest): ApprovalRequest & { deferral?: { callerStoppedAt: string; onApproval: string } } {
  if (request.status !== 'pending' || request.waiting > 0 || !request.callerStoppedAt) return request;
  return {
    ...request,
    deferral: {
      callerStoppedAt: request.callerStoppedAt,
      onApproval: `lets the same call from the same requester through once, within ${formatDuration(request.grantTtlSeconds * 1000)} of the approval`,
    },
  };
}

function clampInt(raw: string | undefined, fallback: number, min: number, max: number): number {
  // An absent value parses as "undefined", not a number, so it takes the fallback like any other.
  const n = Number.parseInt(String(raw), 10);
  return Number.isFinite(n) ? Math.min(max, Math.max(min, n)) : fallback;
}
