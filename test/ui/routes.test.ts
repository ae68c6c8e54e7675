// The UI's route rules, asked of the app in-process with `app.request()`: no socket in front of
// the UI, a real ext-auth (embedded store, real admin API) behind it.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Hono } from 'hono';
import { checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, TOKENS, admin as adminApi } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';
import type { RunningExtAuth } from '../../app/ext-auth/command.js';
import { createLogger } from '../../app/shared/log.js';
import { AdminClient } from '../../app/shared/admin-client.js';
import { MigrationPreviews } from '../../app/shared/migration-preview.js';
import { uiApp } from '../../app/ui/server.js';
import { SessionSealer } from '../../app/ui/session.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  ext: RunningExtAuth;
  grpc: ReturnType<typeof grpcClient>;
  ui: Hono;
  shutdown: AbortController;
  /** alice's session cookie and the CSRF token her queue page carries. */
  alice: { cookie: string; csrf: string };
}

const it = suite<Ctx>('UI route rules, in-process');

function makeUi(ext: RunningExtAuth, shutdown: AbortSignal): Hono {
  return uiApp({
    admin: new AdminClient(ext.adminUrl),
    previews: new MigrationPreviews(undefined),
    sealer: new SessionSealer('routes-test-secret'),
    assets: new Map(),
    pageSize: 3,
    sessionTtlMs: 3_600_000,
    sessionIdleMs: 1_800_000,
    secureCookies: false,
    shutdown,
    log: createLogger('ui', 'silent'),
  });
}

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };

it.before(async (ctx) => {
  ctx.dir = tempDir('ui-routes');
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path));
  ctx.grpc = grpcClient(ctx.ext.grpcPort);
  ctx.shutdown = new AbortController();
  ctx.ui = makeUi(ctx.ext, ctx.shutdown.signal);
  const signedIn = await ctx.ui.request('/sign-in', { method: 'POST', headers: SAME_ORIGIN, body: form({ token: TOKENS.alice, next: '/' }) });
  assert.is(signedIn.status, 303, 'alice signs in');
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await ctx.ui.request('/', { headers: { cookie } })).text();
  ctx.alice = { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1] };
});

it.after(async (ctx) => {
  ctx.shutdown.abort();
  ctx.grpc.close();
  await ctx.ext.close();
  ctx.dir.remove();
});

it('a sign-in without a token is a bad request, and says what is missing', async (ctx) => {
  const response = await ctx.ui.request('/sign-in', { method: 'POST', headers: SAME_ORIGIN, body: form({ token: '  ', next: '/' }) });
  assert.is(response.status, 400);
  assert.match(await response.text(), 'Enter your reviewer token.');
  assert.is(response.headers.get('set-cookie'), null, 'no session cookie');
});

it('a token ext-auth does not know is refused with 401 and no cookie', async (ctx) => {
  const response = await ctx.ui.request('/sign-in', { method: 'POST', headers: SAME_ORIGIN, body: form({ token: 'not-a-token', next: '/' }) });
  assert.is(response.status, 401);
  assert.match(await response.text(), 'That token was not accepted.');
  assert.is(response.headers.get('set-cookie'), null);
});

it('without a session a page redirects to sign-in and back; htmx, the live stream and posts get 401', async (ctx) => {
  const page = await ctx.ui.request('/history?tool=run_migration');
  assert.is(page.status, 303);
  assert.is(page.headers.get('location'), `/sign-in?next=${encodeURIComponent('/history?tool=run_migration')}`);
  for (const [path, init] of [
    ['/cards', { headers: { 'hx-request': 'true' } }],
    ['/events', {}],
    ['/decide/any', { method: 'POST', headers: SAME_ORIGIN, body: form({ decision: 'approve' }) }],
  ] as const) {
    const response = await ctx.ui.request(path, init);
    assert.is(response.status, 401, path);
    assert.is(await response.text(), 'sign in first', path);
  }
});

it('a cookie sealed with another secret is no session', async (ctx) => {
  const stranger = new SessionSealer('another-secret');
  const forged = stranger.seal(stranger.newSession('alice', { kind: 'bearer', token: TOKENS.alice }, 60_000));
  const response = await ctx.ui.request('/cards', { headers: { cookie: `hitl_session=${forged}`, 'hx-request': 'true' } });
  assert.is(response.status, 401);
});

it('a post from another site is refused before anything else is read', async (ctx) => {
  const response = await ctx.ui.request('/decide/any', {
    method: 'POST',
    headers: { cookie: ctx.alice.cookie, 'sec-fetch-site': 'cross-site' },
    body: form({ decision: 'approve', _csrf: ctx.alice.csrf }),
  });
  assert.is(response.status, 403);
  assert.is(await response.text(), 'cross-site requests are refused');
});

it('a signed-in post without its CSRF token, or with a wrong one, is refused and decides nothing', async (ctx) => {
  const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
  const call = ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: 'CHG-csrf' }), headers: { 'x-user-id': 'erin' } }));
  const { id } = await parked;
  for (const csrf of [undefined, 'wrong', ctx.alice.csrf.slice(1)]) {
    const fields: Record<string, string> = { decision: 'approve' };
    if (csrf !== undefined) fields._csrf = csrf;
    const response = await ctx.ui.request(`/decide/${id}`, { method: 'POST', headers: { cookie: ctx.alice.cookie, ...SAME_ORIGIN }, body: form(fields) });
    assert.is(response.status, 403, `csrf ${csrf}`);
    assert.match(await response.text(), 'CSRF token');
  }
  const still = (await (await adminApi(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json()) as { status: string };
  assert.is(still.status, 'pending');
  await adminApi(ctx.ext.adminUrl, 'bob').decide(id, false, 'cleaning up');
  assert.is((await call.result).toolError?.details.status, 'rejected');
});

it('the history filters reach ext-auth: trimmed names select, an unknown status is left out', async (ctx) => {
  const ended: Record<string, string> = {};
  for (const requester of ['frank', 'grace']) {
    const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
    const call = ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v4', ticket: `CHG-${requester}` }), headers: { 'x-user-id': requester } }));
    const { id } = await parked;
    await adminApi(ctx.ext.adminUrl, 'bob').decide(id, false, `no, ${requester}`);
    await call.result;
    ended[requester] = id;
  }
  const history = async (query: string) => {
    const response = await ctx.ui.request(`/history?${query}`, { headers: { cookie: ctx.alice.cookie } });
    assert.is(response.status, 200, query);
    return response.text();
  };
  const grace = await history(`requester=${encodeURIComponent('  grace ')}&status=bogus`);
  assert.ok(grace.includes(ended.grace), 'grace’s request is listed');
  assert.not.ok(grace.includes(ended.frank), 'frank’s is not');
  const rejected = await history('status=rejected&tool=run_migration');
  assert.ok(rejected.includes(ended.grace) && rejected.includes(ended.frank), 'both rejections are listed');
  const approved = await history('status=approved');
  assert.not.ok(approved.includes(ended.grace) || approved.includes(ended.frank), 'neither is listed as approved');
});

it('the queue shows its oldest page, the counts of all of it, and a next-page link that leads to the rest', async (ctx) => {
  const calls = [];
  for (let i = 0; i < 7; i++) {
    const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
    calls.push(ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: `v${i}`, ticket: `CHG-page-${i}` }), headers: { 'x-user-id': `pager${i}` } })));
    await parked;
  }
  const { pending } = (await (await adminApi(ctx.ext.adminUrl, 'bob').get('/pending')).json()) as { pending: { id: string }[] };
  const oldestFirst = pending.map((r) => r.id);
  const cardIds = (html: string) => [...html.matchAll(/<article class="card" id="card-([^"]+)"/g)].map((m) => m[1]);
  const nextLink = (html: string) => /<a id="next-page"[^>]* href="([^"]+)"/.exec(html)?.[1].replaceAll('&amp;', '&');

  const first = await (await ctx.ui.request('/', { headers: { cookie: ctx.alice.cookie } })).text();
  assert.equal(cardIds(first), oldestFirst.slice(0, 3), 'the first page is the three oldest');
  assert.match(first, `(${oldestFirst.length} waiting)`);
  assert.match(first, /run_migration<\/a> \(7\)/);
  const seen = cardIds(first);
  let link = nextLink(first);
  while (link) {
    const page = await ctx.ui.request(link, { headers: { cookie: ctx.alice.cookie } });
    assert.is(page.status, 200, link);
    const html = await page.text();
    seen.push(...cardIds(html));
    link = nextLink(html);
  }
  assert.equal(seen, oldestFirst, 'every card once, in order');

  const hxGet = /hx-get="([^"]+)"/.exec(first)![1].replaceAll('&amp;', '&');
  const scrolled = await (await ctx.ui.request(hxGet, { headers: { cookie: ctx.alice.cookie, 'hx-request': 'true' } })).text();
  assert.equal(cardIds(scrolled), oldestFirst.slice(3, 6), 'scrolling to the link brings the next page as a fragment');
  assert.not.match(scrolled, '<html', 'a fragment, not a page');

  const bad = await ctx.ui.request('/?after=not-a-position', { headers: { cookie: ctx.alice.cookie } });
  assert.is(bad.status, 400);
  assert.is(await bad.text(), '"after" must be the "next" of an earlier page');

  // What the live page reconciles against: the whole queue's ids, or as far as its last card.
  const ids = async (path: string) => (await ctx.ui.request(path, { headers: { cookie: ctx.alice.cookie } })).json();
  assert.equal(await ids('/pending-ids'), oldestFirst);
  const through = new URL(nextLink(first)!, 'http://ui').searchParams.get('after')!;
  assert.equal(await ids(`/pending-ids?${new URLSearchParams({ through })}`), oldestFirst.slice(0, 3), 'as far as the first page reaches');
  const badThrough = await ctx.ui.request('/pending-ids?through=not-a-position', { headers: { cookie: ctx.alice.cookie } });
  assert.is(badThrough.status, 400);
  assert.is(await badThrough.text(), '"through" must be the "next" of an earlier page');

  for (const id of oldestFirst) await adminApi(ctx.ext.adminUrl, 'bob').decide(id, false, 'cleaning up');
  await Promise.all(calls.map((c) => c.result));
});

it('once the server stops, a live stream asked for is refused with 503', async (ctx) => {
  const stopping = new AbortController();
  stopping.abort();
  const ui = makeUi(ctx.ext, stopping.signal);
  const response = await ui.request('/events', { headers: { cookie: ctx.alice.cookie } });
  assert.is(response.status, 503);
  assert.is(await response.text(), 'shutting down');
});

it.run();
