/** Ended requests, filtered and paged, and the audit export passed through from ext-auth. */
import { Hono } from 'hono';
import { ENDED_STATUSES, type Status } from '../../contracts/admin-api.js';
import type { Cards } from '../cards.js';
import type { UiEnv, UiOptions } from '../env.js';
import { HistoryPage } from '../views/history.js';

const HISTORY_PAGE = 50;

export function historyApp({ admin }: UiOptions, cards: Cards): Hono<UiEnv> {
  const app = new Hono<UiEnv>();

  app.get('/history', async (c) => {
    const session = c.get('session');
    const status = c.req.query('status');
    // A filter the page cannot offer (an unknown status, blank text) is left out, not refused.
    const filter = {
      status: ENDED_STATUSES.includes(status as Status) ? (status as Status) : undefined,
      requester: c.req.query('requester')?.trim() || undefined,
      tool: c.req.query('tool')?.trim() || undefined,
      offset: Math.max(0, Number.parseInt(c.req.query('offset') ?? '0', 10) || 0),
    };
    const page = await admin.history(session.credential, { ...filter, limit: HISTORY_PAGE });
    return c.html(<HistoryPage viewer={cards.viewerOf(session)} items={page.items} total={page.total} limit={HISTORY_PAGE} filter={filter} />);
  });

  app.get('/audit.jsonl', async (c) => {
    const upstream = await admin.audit(c.get('session').credential);
    return new Response(upstream.body, {
      headers: { 'content-type': 'application/x-ndjson', 'content-disposition': 'attachment; filename="hitl-audit.jsonl"' },
    });
  });

  return app;
}
