import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { tokenSha256Hex } from '../../app/contracts/reviewer-tokens.js';
import { ConfigError } from '../../app/shared/flags.js';
import { createLogger } from '../../app/shared/log.js';
import { startUi } from '../../app/ui/command.js';
import { launchBrowser } from '../helpers/browser.js';
import { admin, checkRequest, grpcClient, nextChange, TOKENS, toolCall, writeTokensFile, type Who } from '../helpers/ext-auth.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';
import { startUiStack, uiConfig, type UiStack } from '../helpers/ui.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  tokensFile: string;
  database: Awaited<ReturnType<typeof freshDatabase>>;
  stack: UiStack;
  browser: Browser;
  grpc: ReturnType<typeof grpcClient>;
}

const it = onPostgres(suite<Ctx>('reviewer sessions end: sign-out, revoked tokens, idle sessions; sign-in returns only to this site'));

it.before(async (ctx) => {
  ctx.dir = tempDir('sessions');
  ctx.tokensFile = writeTokensFile(ctx.dir.path);
  // PostgreSQL, because these cases age a session by editing its row in the store.
  ctx.database = await freshDatabase('hitl_sessions');
  ctx.stack = await startUiStack({}, { tokensFile: ctx.tokensFile, databaseUrl: ctx.database.url });
  ctx.browser = await launchBrowser();
  ctx.grpc = grpcClient(ctx.stack.ext.grpcPort);
});
it.after(async (ctx) => {
  ctx.grpc.close();
  await ctx.browser.close();
  await ctx.stack.close();
  await ctx.database.drop();
  ctx.dir.remove();
});

/** Signs in through the sign-in page; `query` is its query string exactly as a link would carry it. */
async function signIn(ctx: Ctx, who: Who, query = 'next=%2F'): Promise<{ context: BrowserContext; page: Page }> {
  const context = await ctx.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${ctx.stack.uiUrl}/sign-in?${query}`);
  await page.fill('#token', TOKENS[who]);
  await page.click('form.sign-in button');
  await page.waitForURL((url) => !url.pathname.startsWith('/sign-in'));
  return { context, page };
}

/** A browser that never signed in, holding a copy of someone's cookies. */
async function withCopiedCookies(ctx: Ctx, cookies: Awaited<ReturnType<BrowserContext['cookies']>>): Promise<Page> {
  const context = await ctx.browser.newContext();
  await context.addCookies(cookies);
  return context.newPage();
}

async function park(ctx: Ctx) {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const call = ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) }));
  call.result.catch(() => undefined);
  return { ...(await parked), ...call };
}

/** Posts an approval from outside the browser with a copied cookie and the CSRF token its page showed. */
function replayApproval(ctx: Ctx, id: string, cookie: string, csrf: string) {
  return fetch(`${ctx.stack.uiUrl}/decide/${id}`, {
    method: 'POST',
    headers: { cookie, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ decision: 'approve', _csrf: csrf }),
    redirect: 'manual',
  });
}

const cookieHeader = (cookies: { name: string; value: string }[]) => cookies.map((c) => `${c.name}=${c.value}`).join('; ');
const csrfOf = (page: Page) => page.locator('input[name=_csrf]').first().inputValue();

it('sign-out ends the session server-side: a cookie saved before it loads nothing and decides nothing', async (ctx) => {
  const { context, page } = await signIn(ctx, 'bob');
  const { id, result, cancel } = await park(ctx);
  await page.reload();
  await page.waitForSelector(`#card-${id}`);
  const saved = await context.cookies();
  const csrf = await csrfOf(page);

  await page.click('form[action="/sign-out"] button');
  await page.waitForURL(`${ctx.stack.uiUrl}/sign-in`);

  const replay = await withCopiedCookies(ctx, saved);
  await replay.goto(`${ctx.stack.uiUrl}/`);
  assert.is(new URL(replay.url()).pathname, '/sign-in', 'the saved cookie no longer opens the queue');
  const decide = await replayApproval(ctx, id, cookieHeader(saved), csrf);
  assert.is(decide.status, 401);
  assert.is(await decide.text(), 'sign in again');
  const request = await (await admin(ctx.stack.ext.adminUrl, 'carol').get(`/requests/${id}`)).json();
  assert.is(request.status, 'pending', 'the replayed approval decided nothing');
  cancel();
  await result.catch(() => undefined);
  await context.close();
});

it('revoking a token ends its sessions, and putting the token back does not revive them', async (ctx) => {
  const { context, page } = await signIn(ctx, 'carol');
  assert.ok(await page.isVisible('text=Signed in as'), 'carol is in the queue');
  const saved = await context.cookies();

  const withoutCarol = Object.entries(TOKENS)
    .filter(([name]) => name !== 'carol')
    .map(([name, token]) => ({ name, groups: name === 'dave' ? ['developers'] : ['platform'], sha256: tokenSha256Hex(token) }));
  writeFileSync(ctx.tokensFile, JSON.stringify(withoutCarol));
  await page.reload();
  assert.is(new URL(page.url()).pathname, '/sign-in', 'a revoked token is signed out at its next request');

  writeTokensFile(ctx.dir.path);
  assert.is((await admin(ctx.stack.ext.adminUrl, 'carol').get('/whoami')).status, 200, 'the token itself works again');
  const replay = await withCopiedCookies(ctx, saved);
  await replay.goto(`${ctx.stack.uiUrl}/`);
  assert.is(new URL(replay.url()).pathname, '/sign-in', 'the session signed in with the revoked token stays ended');
  await context.close();
});

it('a session unused for longer than --session-idle has ended', async (ctx) => {
  const { context, page } = await signIn(ctx, 'bob');
  assert.ok(await page.isVisible('text=Signed in as'));
  // Age the session in the store as 31 minutes of idleness would (the default idle limit is 30m).
  const db = new pg.Client({ connectionString: ctx.database.url });
  await db.connect();
  const aged = await db.query(`UPDATE hitl_reviewer_sessions SET last_seen_at = now() - interval '31 minutes' WHERE reviewer = 'bob' AND ended_at IS NULL`);
  await db.end();
  assert.ok(aged.rowCount! >= 1);
  await page.reload();
  assert.is(new URL(page.url()).pathname, '/sign-in');
  await context.close();
});

it('a session in use stays live; its age is refreshed, not its lifetime', async (ctx) => {
  const { context, page } = await signIn(ctx, 'bob');
  const db = new pg.Client({ connectionString: ctx.database.url });
  await db.connect();
  await db.query(`UPDATE hitl_reviewer_sessions SET last_seen_at = now() - interval '29 minutes' WHERE reviewer = 'bob' AND ended_at IS NULL`);
  await page.reload();
  assert.ok(await page.isVisible('text=Signed in as'), 'used within the idle limit, the session lives on');
  await db.query(`UPDATE hitl_reviewer_sessions SET expires_at = now() - interval '1 second' WHERE reviewer = 'bob' AND ended_at IS NULL`);
  await db.end();
  await page.reload();
  assert.is(new URL(page.url()).pathname, '/sign-in', 'past its absolute lifetime it has ended, however recently used');
  await context.close();
});

it('a live queue stream open in another tab ends when its session is signed out', async (ctx) => {
  const { context, page } = await signIn(ctx, 'bob');
  const cookie = cookieHeader(await context.cookies());
  const csrf = await csrfOf(page);
  const stream = await fetch(`${ctx.stack.uiUrl}/events`, { headers: { cookie } });
  assert.is(stream.status, 200);
  const reader = stream.body!.getReader();
  let seen = '';
  while (!seen.includes('event: ready')) seen += new TextDecoder().decode((await reader.read()).value);
  const signOut = await fetch(`${ctx.stack.uiUrl}/sign-out`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin' }, body: new URLSearchParams({ _csrf: csrf }), redirect: 'manual' });
  assert.is(signOut.status, 303);
  for (;;) if ((await reader.read()).done) break;
  await context.close();
});

it('the admin API binds a session to the credential that opened it', async (ctx) => {
  const opened = await fetch(`${ctx.stack.ext.adminUrl}/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.bob}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttlSeconds: 600, idleSeconds: 60 }),
  });
  assert.is(opened.status, 201);
  const { id, reviewer } = await opened.json();
  assert.is(reviewer, 'bob');
  const as = (token: string) => fetch(`${ctx.stack.ext.adminUrl}/pending`, { headers: { authorization: `Bearer ${token}`, 'x-reviewer-session': id } });
  assert.is((await as(TOKENS.bob)).status, 200);
  const stolen = await as(TOKENS.carol);
  assert.is(stolen.status, 401, "another reviewer's token with bob's session id");
  assert.equal(await stolen.json(), { error: 'this session has ended; sign in again' });
  const bad = await fetch(`${ctx.stack.ext.adminUrl}/sessions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.bob}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ttlSeconds: 10 ** 9, idleSeconds: 60 }),
  });
  assert.is(bad.status, 400);
  assert.equal(await bad.json(), { error: 'body must be JSON {"ttlSeconds", "idleSeconds"}, whole seconds from 1 to 86400' });
});

it('a session limit ext-auth would not keep stops the UI at start, naming the flag', async (ctx) => {
  for (const [overrides, flag] of [[{ sessionTtl: 48 * 3600_000 }, 'session-ttl'], [{ sessionIdle: 0 }, 'session-idle']] as const) {
    try {
      await startUi(uiConfig(ctx.stack.ext.adminUrl, ctx.stack.mcp.url, overrides), createLogger('ui', 'silent'));
      assert.unreachable('the UI started');
    } catch (err) {
      assert.instance(err, ConfigError);
      assert.is((err as ConfigError).message, `--${flag}: must be between 1s and 24h`);
    }
  }
});

it('after sign-in, next leads only to a path on this site', async (ctx) => {
  const cases: [string, string][] = [
    ['/\t/evil.example', '/'],
    ['/%09/evil.example', '/%09/evil.example'],
    ['/\r\n/evil.example', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['\\\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/history?status=rejected#top', '/history?status=rejected#top'],
    ['/requests/abc', '/requests/abc'],
    ['/a/../history', '/history'],
  ];
  for (const [next, expected] of cases) {
    const answer = await fetch(`${ctx.stack.uiUrl}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKENS.bob, next }), redirect: 'manual' });
    assert.is(answer.status, 303, next);
    assert.is(answer.headers.get('location'), expected, `next=${JSON.stringify(next)}`);
  }
  // The reported case end to end: the query string a link would carry, followed by Chromium.
  const { page, context } = await signIn(ctx, 'bob', 'next=/%09/evil.example');
  assert.is(page.url(), `${ctx.stack.uiUrl}/`);
  await context.close();
});

it.run();
