// The UI app as a whole, asked in-process with `app.request()`: which gate comes first, what
// anyone may fetch, and what a reviewer sees when ext-auth refuses, cannot find or cannot be
// reached. A real ext-auth (its store on PostgreSQL, real admin API) behind it; a scripted
// admin API only where ext-auth cannot be made to answer a server error on purpose.
import { Hono } from 'hono';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { RunningExtAuth } from '../../app/ext-auth/command.js';
import { AdminClient } from '../../app/shared/admin-client.js';
import { listen, type Listening } from '../../app/shared/http.js';
import { MigrationPreviews } from '../../app/shared/migration-preview.js';
import type { StaticFile } from '../../app/shared/static-files.js';
import type { UiOptions } from '../../app/ui/env.js';
import { uiApp } from '../../app/ui/server.js';
import { SessionSealer } from '../../app/ui/session.js';
import { admin as adminApi, checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, TOKENS } from '../helpers/ext-auth.js';
import { logSink } from '../helpers/log-sink.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

const SECRET = 'server-test-secret';
const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' };
const STYLE: StaticFile = { body: Buffer.from('body { margin: 0 }'), contentType: 'text/css; charset=utf-8', etag: '"style-1"' };

interface Signed {
  cookie: string;
  csrf: string;
}
interface Ctx {
  dir: ReturnType<typeof tempDir>;
  dropDatabase: () => Promise<void>;
  ext: RunningExtAuth;
  grpc: ReturnType<typeof grpcClient>;
  shutdown: AbortController;
  ui: Hono;
  logLines: any[];
}

/** What a UI app is made with here: ext-auth's admin API, the stop signal, where its error log lines go. */
interface Setup {
  adminUrl: string;
  shutdown: AbortSignal;
  logLines: any[];
}

function makeUi(setup: Setup, overrides: Partial<UiOptions> = {}): Hono {
  const sink = logSink(setup.logLines);
  return uiApp({
    admin: new AdminClient(setup.adminUrl),
    previews: new MigrationPreviews(undefined),
    sealer: new SessionSealer(SECRET),
    assets: new Map([['style.css', STYLE]]),
    pageSize: 10,
    sessionTtlMs: 3_600_000,
    sessionIdleMs: 1_800_000,
    secureCookies: false,
    shutdown: setup.shutdown,
    log: pino({ level: 'error' }, sink),
    ...overrides,
  });
}

const setupOf = (ctx: Ctx): Setup => ({ adminUrl: ctx.ext.adminUrl, shutdown: ctx.shutdown.signal, logLines: ctx.logLines });
const form = (fields: Record<string, string>) => new URLSearchParams(fields);

async function signIn(ui: Hono, who: keyof typeof TOKENS): Promise<Signed> {
  const signedIn = await ui.request('/sign-in', { method: 'POST', headers: SAME_ORIGIN, body: form({ token: TOKENS[who], next: '/' }) });
  assert.is(signedIn.status, 303, `${who} signs in`);
  const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await ui.request('/', { headers: { cookie } })).text();
  return { cookie, csrf: /name="_csrf" value="([^"]+)"/.exec(page)![1] };
}

let tickets = 0;
/** Parks a new call; a different ticket each time, so it never joins an earlier card. */
async function park(ctx: Ctx): Promise<string> {
  const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
  ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: `CHG-server-${++tickets}` }), headers: { 'x-user-id': 'erin' } })).result.catch(() => undefined);
  return (await parked).id;
}

const statusOf = async (ctx: Ctx, id: string) => ((await (await adminApi(ctx.ext.adminUrl, 'carol').get(`/requests/${id}`)).json()) as { status: string }).status;

const decide = (ui: Hono, id: string, as: Signed, headers: Record<string, string>, csrf = as.csrf) =>
  ui.request(`/decide/${id}`, { method: 'POST', headers: { cookie: as.cookie, ...headers }, body: form({ decision: 'approve', _csrf: csrf }) });

/** The session cookie a response clears (for the whole site), if any. */
const clearedSession = (response: Response) => response.headers.getSetCookie().find((c) => c.startsWith('hitl_session=;'));
const CLEARED = 'hitl_session=; Max-Age=0; Path=/';

/** The error page: its title, its one alert, and the way back to the queue. */
function assertProblemPage(html: string, alert: string) {
  assert.match(html, '<title>Problem');
  assert.match(html, `<p class="notice error" role="alert">${alert}</p>`);
  assert.match(html, '<a href="/">Back to the queue</a>');
}

const it = onPostgres(suite<Ctx>('the UI app, in-process'));

it.before(async (ctx) => {
  ctx.dir = tempDir('ui-server');
  const database = await freshDatabase('hitl_ui_server');
  ctx.dropDatabase = database.drop;
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path, { databaseUrl: database.url }));
  ctx.grpc = grpcClient(ctx.ext.grpcPort);
  ctx.shutdown = new AbortController();
  ctx.logLines = [];
  ctx.ui = makeUi(setupOf(ctx));
});
it.before.each((ctx) => {
  ctx.logLines.length = 0;
});
it.after(async (ctx) => {
  ctx.shutdown.abort();
  ctx.grpc.close();
  await ctx.ext.close();
  await ctx.dropDatabase();
  ctx.dir.remove();
});

it('anyone may fetch the assets and the favicon; every answer carries the security headers', async (ctx) => {
  const style = await ctx.ui.request('/assets/style.css');
  assert.equal([style.status, style.headers.get('content-type'), await style.text()], [200, 'text/css; charset=utf-8', 'body { margin: 0 }']);
  const favicon = await ctx.ui.request('/favicon.ico');
  assert.equal([favicon.status, await favicon.text()], [204, '']);
  const page = await ctx.ui.request('/sign-in');
  assert.is(page.status, 200);
  for (const response of [style, favicon, page]) {
    assert.is(response.headers.get('x-frame-options'), 'DENY');
    assert.match(response.headers.get('content-security-policy') ?? '', "frame-ancestors 'none'");
  }
});

it("another session's CSRF token is refused, even the same reviewer's; the session's own token decides", async (ctx) => {
  const id = await park(ctx);
  const first = await signIn(ctx.ui, 'bob');
  const second = await signIn(ctx.ui, 'bob');
  assert.is.not(first.csrf, second.csrf, 'each session has its own token');
  const forged = await decide(ctx.ui, id, first, SAME_ORIGIN, second.csrf);
  assert.equal([forged.status, await forged.text()], [403, 'the form is missing its CSRF token or it is wrong; reload the page']);
  assert.is(await statusOf(ctx, id), 'pending', 'nothing was decided');
  const own = await decide(ctx.ui, id, first, SAME_ORIGIN);
  assert.equal([own.status, own.headers.get('location')], [303, '/']);
  assert.is(await statusOf(ctx, id), 'approved');
});

it('a cross-site or same-site post is refused even with a valid session and CSRF token; same-origin, a typed-in request and an old browser pass to the CSRF check', async (ctx) => {
  const bob = await signIn(ctx.ui, 'bob');
  for (const site of ['cross-site', 'same-site']) {
    const id = await park(ctx);
    const forged = await decide(ctx.ui, id, bob, { 'sec-fetch-site': site });
    assert.equal([forged.status, await forged.text()], [403, 'cross-site requests are refused'], site);
    assert.is(await statusOf(ctx, id), 'pending', `${site}: nothing was decided`);
    await adminApi(ctx.ext.adminUrl, 'carol').decide(id, false, 'tidy up');
  }
  for (const headers of [{ 'sec-fetch-site': 'none' }, {}] as Record<string, string>[]) {
    const id = await park(ctx);
    const decided = await decide(ctx.ui, id, bob, headers);
    assert.is(decided.status, 303, JSON.stringify(headers));
    assert.is(await statusOf(ctx, id), 'approved');
  }
});

it('a cross-site sign-in is refused before the token is read: no session is planted', async (ctx) => {
  const response = await ctx.ui.request('/sign-in', { method: 'POST', headers: { 'sec-fetch-site': 'cross-site' }, body: form({ token: TOKENS.bob, next: '/' }) });
  assert.equal([response.status, await response.text()], [403, 'cross-site requests are refused']);
  assert.equal(response.headers.getSetCookie(), []);
});

it('a session ext-auth has ended: a page goes back to sign-in, a post is told to sign in again, and both clear the cookie', async (ctx) => {
  const bob = await signIn(ctx.ui, 'bob');
  const signedOut = await ctx.ui.request('/sign-out', { method: 'POST', headers: { cookie: bob.cookie, ...SAME_ORIGIN }, body: form({ _csrf: bob.csrf }) });
  assert.is(signedOut.status, 303);
  // The cookie as saved before the sign-out.
  const page = await ctx.ui.request('/', { headers: { cookie: bob.cookie } });
  assert.equal([page.status, page.headers.get('location')], [303, '/sign-in']);
  assert.is(clearedSession(page), CLEARED, 'the page clears the cookie');
  const id = await park(ctx);
  const post = await decide(ctx.ui, id, bob, SAME_ORIGIN);
  assert.equal([post.status, await post.text()], [401, 'sign in again']);
  assert.is(clearedSession(post), CLEARED, 'the post clears the cookie');
  assert.is(await statusOf(ctx, id), 'pending');
  await adminApi(ctx.ext.adminUrl, 'carol').decide(id, false, 'tidy up');
  assert.equal(ctx.logLines, [], 'an ended session is not a failure');
});

it('a request ext-auth does not know is a 404 page with its message', async (ctx) => {
  const bob = await signIn(ctx.ui, 'bob');
  const response = await ctx.ui.request('/requests/no-such-request', { headers: { cookie: bob.cookie } });
  assert.is(response.status, 404);
  assertProblemPage(await response.text(), 'no request no-such-request');
});

it('ext-auth out of reach: a 502 page saying so, and the failure logged with its path', async (ctx) => {
  const bob = await signIn(ctx.ui, 'bob');
  const gone = await listen(new Hono(), 0, '127.0.0.1');
  await gone.close(0);
  const ui = makeUi(setupOf(ctx), { admin: new AdminClient(gone.url) });
  const response = await ui.request('/history', { headers: { cookie: bob.cookie } });
  assert.is(response.status, 502);
  assertProblemPage(await response.text(), 'The approval gate could not be reached: fetch failed');
  assert.equal(
    ctx.logLines.map(({ level, err, path, msg }) => ({ level, err, path, msg })),
    [{ level: 50, err: 'fetch failed', path: '/history', msg: 'page failed' }],
  );
});

it.run();

const scripted = suite<{ admin: Listening; answer: { status: number; error: string }; stop: AbortController; setup: Setup }>('the UI app when ext-auth answers with an error');
scripted.before(async (s) => {
  s.answer = { status: 500, error: 'the store is read-only' };
  s.admin = await listen(
    new Hono().all('*', (c) => c.json({ error: s.answer.error }, s.answer.status as 500)),
    0,
    '127.0.0.1',
  );
  s.stop = new AbortController();
  s.setup = { adminUrl: s.admin.url, shutdown: s.stop.signal, logLines: [] };
});
scripted.after(async (s) => {
  s.stop.abort();
  await s.admin.close(0);
});

const sealedSession = (sealer: SessionSealer) => `hitl_session=${sealer.seal(sealer.newSession('bob', { kind: 'bearer', token: TOKENS.bob, session: 'any' }, 60_000))}`;

scripted('a server error from ext-auth is a 502 page with its message, not a 404 and not a sign-in', async (s) => {
  s.answer = { status: 500, error: 'the store is read-only' };
  s.setup.logLines.length = 0;
  const ui = makeUi(s.setup);
  const response = await ui.request('/', { headers: { cookie: sealedSession(new SessionSealer(SECRET)) } });
  assert.is(response.status, 502);
  assertProblemPage(await response.text(), 'The approval gate could not be reached: the store is read-only');
  assert.is(clearedSession(response), undefined);
  assert.equal(s.setup.logLines.map(({ err, path }) => ({ err, path })), [{ err: 'the store is read-only', path: '/' }]);
});

scripted('behind an authenticating proxy a 401 from ext-auth is a failure to report, not a cookie to clear', async (s) => {
  s.answer = { status: 401, error: 'the proxy identity header is not trusted' };
  s.setup.logLines.length = 0;
  const proxy = { identityHeader: 'x-forwarded-user', groupsHeader: 'x-forwarded-groups' };
  const ui = makeUi(s.setup, { proxy, admin: new AdminClient(s.admin.url, { identity: proxy.identityHeader, groups: proxy.groupsHeader }) });
  const post = await ui.request('/decide/any', {
    method: 'POST',
    headers: { 'x-forwarded-user': 'bob', ...SAME_ORIGIN },
    body: form({ decision: 'approve', _csrf: new SessionSealer(SECRET).csrfToken('proxy:bob') }),
  });
  assert.is(post.status, 502);
  assertProblemPage(await post.text(), 'The approval gate could not be reached: the proxy identity header is not trusted');
  assert.is(clearedSession(post), undefined);
  const page = await ui.request('/', { headers: { 'x-forwarded-user': 'bob' } });
  assert.is(page.status, 502);
  assert.is(clearedSession(page), undefined);
});

scripted.run();
