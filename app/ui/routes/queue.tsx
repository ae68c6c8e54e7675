/** The queue: pending requests as cards, one request on its own page, and decisions on them. */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { AdminError } from '../../shared/admin-client.js';
import type { Cards } from '../cards.js';
import { cookieOptions, FLASH_COOKIE, type Notice, type UiEnv, type UiOptions } from '../env.js';
import { noLongerWaiting } from '../../shared/review-format.js';
import { Page } from '../views/layout.js';
import { NextPage, QueuePage, type QueueFilter } from '../views/queue.js';
import type { PendingPage } from '../../contracts/admin-api.js';

export function queueApp(options: UiOptions, cards: Cards): Hono<UiEnv> {
  const { admin, sealer, log } = options;
  const app = new Hono<UiEnv>();

  // A page of the queue, or why the query cannot give one (a mangled `after`, say).
  async function pageFor(c: Context<UiEnv>): Promise<{ page: PendingPage; filter: QueueFilter } | { error: string }> {
    const filter = { gate: c.req.query('gate') || undefined, tool: c.req.query('tool') || undefined };
    try {
      const page = await admin.pendingPage(c.get('session').credential, { limit: options.pageSize, after: c.req.query('after'), ...filter });
      return { page, filter };
    } catch (err) {
      if (err instanceof AdminError && err.status === 400) return { error: err.message };
      throw err;
    }
  }

  app.get('/', async (c) => {
    const session = c.get('session');
    const viewer = cards.viewerOf(session);
    const result = await pageFor(c);
    if ('error' in result) return c.text(result.error, 400);
    const flash = sealer.open<Notice>(getCookie(c, FLASH_COOKIE));
    if (flash) deleteCookie(c, FLASH_COOKIE, { path: '/' });
    const rendered = await cards.render(result.page.pending, viewer);
    return c.html(<QueuePage viewer={viewer} cards={rendered} counts={result.page.counts} next={result.page.next} filter={result.filter} flash={flash} />);
  });

  // What the next-page link fetches when the reviewer scrolls to it: the cards, then the link on.
  app.get('/page', async (c) => {
    const result = await pageFor(c);
    if ('error' in result) return c.text(result.error, 400);
    const rendered = await cards.render(result.page.pending, cards.viewerOf(c.get('session')));
    return c.html(
      <>
        {rendered}
        <NextPage next={result.page.next} filter={result.filter} />
      </>,
    );
  });

  // What queue.js reconciles against when its live stream (re)connects: the ids waiting now, as
  // far as its last card when it holds only part of the queue, then the cards it lacks, so a
  // deep queue is not re-rendered on every reconnect.
  app.get('/pending-ids', async (c) => {
    try {
      return c.json(await admin.pendingIds(c.get('session').credential, c.req.query('through')));
    } catch (err) {
      if (err instanceof AdminError && err.status === 400) return c.text(err.message, 400);
      throw err;
    }
  });

  app.get('/cards', async (c) => {
    const session = c.get('session');
    const wanted = new Set(c.req.queries('id') ?? []);
    const pending = (await admin.pending(session.credential)).filter((r) => wanted.has(r.id));
    return c.html(<>{await cards.render(pending, cards.viewerOf(session))}</>);
  });

  app.get('/requests/:id', async (c) => {
    const session = c.get('session');
    const viewer = cards.viewerOf(session);
    const request = await admin.request(session.credential, c.req.param('id'));
    const body =
      request.status === 'pending' ? (
        (await cards.render([request], viewer))[0]
      ) : (
        <p class="notice info">
          {noLongerWaiting(request)} See the <a href="/history">history</a>.
        </p>
      );
    return c.html(
      <Page title={request.toolName} viewer={viewer} current="queue" scripts={['queue.js']}>
        <h1>Request {request.id}</h1>
        {body}
      </Page>,
    );
  });

  app.post('/decide/:id', async (c) => {
    const session = c.get('session');
    const id = c.req.param('id');
    const form = await c.req.parseBody();
    const decision = form.decision;
    const reason = typeof form.reason === 'string' ? form.reason.trim() : '';
    let notice: Notice;
    if (decision !== 'approve' && decision !== 'reject') {
      notice = { kind: 'error', text: 'Choose Approve or Reject.' };
    } else {
      try {
        await admin.decide(session.credential, id, decision === 'approve', reason);
        notice = { kind: 'info', text: `${decision === 'approve' ? 'Approved' : 'Rejected'}.` };
      } catch (err) {
        if (!(err instanceof AdminError) || err.status === 401 || err.status >= 500) throw err;
        notice = { kind: 'error', text: err.message };
      }
    }
    log.info({ reviewer: session.reviewer, id, decision, outcome: notice.kind }, 'decision submitted');
    if (!c.req.header('hx-request')) {
      setCookie(c, FLASH_COOKIE, sealer.seal(notice), { ...cookieOptions(options, 60_000) });
      return c.redirect('/', 303);
    }
    // htmx swaps the card for whatever comes back: nothing once it is decided, otherwise the
    // card again with the outcome on it (a refusal, or an approval still short of the rule).
    const request = await admin.request(session.credential, id).catch(() => undefined);
    if (request?.status !== 'pending') {
      if (notice.kind === 'info') return c.body('', 200);
      return c.html(
        <article class="card" id={`card-${id}`}>
          <p class="notice error" role="alert">
            {notice.text}
          </p>
        </article>,
      );
    }
    const [card] = await cards.render([request], cards.viewerOf(session), new Map([[id, notice]]));
    return c.html(card);
  });

  return app;
}
