import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser, watchForScriptAbuse } from '../helpers/browser.js';
import { admin, checkRequest, grpcClient, nextChange, TOKENS, toolCall, type Who } from '../helpers/ext-auth.js';
import { startUiStack, type UiStack } from '../helpers/ui.js';
import { screenshotPath } from '../helpers/screenshots.js';

interface Ctx {
  stack: UiStack;
  browser: Browser;
  grpc: ReturnType<typeof grpcClient>;
}

const it = suite<Ctx>('hitl ui in a real browser');

it.before(async (ctx) => {
  ctx.stack = await startUiStack();
  ctx.browser = await launchBrowser();
  ctx.grpc = grpcClient(ctx.stack.ext.grpcPort);
});
it.after(async (ctx) => {
  ctx.grpc.close();
  await ctx.browser.close();
  await ctx.stack.close();
});

async function signedIn(ctx: Ctx, who: Who, options: { javaScriptEnabled?: boolean } = {}): Promise<Page> {
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const page = await context.newPage();
  await page.goto(`${ctx.stack.uiUrl}/`);
  assert.ok(page.url().includes('/sign-in'), 'an unsigned visitor is sent to sign in');
  await page.fill('#token', TOKENS[who]);
  await page.click('form.sign-in button');
  await page.waitForURL(`${ctx.stack.uiUrl}/`);
  if (options.javaScriptEnabled !== false) await page.waitForSelector('body[data-live=connected]');
  return page;
}

/** Sends a tool call through the real gRPC Check and resolves once ext-auth has parked it. */
async function park(ctx: Ctx, args: Record<string, unknown>, tool = 'run_migration') {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const sentAt = performance.now();
  const call = ctx.grpc.check(checkRequest({ body: toolCall(tool, args) }));
  // Tests that cancel a call never read its result; keep its rejection from going unhandled.
  call.result.catch(() => undefined);
  const { id } = await parked;
  return { id, sentAt, ...call };
}

it('a parked call appears live in two tabs, is approved in one, and leaves the other', async (ctx) => {
  const bob = await signedIn(ctx, 'bob');
  const carol = await signedIn(ctx, 'carol');
  const abuse = watchForScriptAbuse(bob);

  const { id, sentAt, result } = await park(ctx, { version: 'v3' });
  const card = `#card-${id}`;
  await bob.waitForSelector(card);
  const delayMs = performance.now() - sentAt;
  await carol.waitForSelector(card);
  console.log(`  park → card visible without reload: ${delayMs.toFixed(0)} ms`);

  const text = await bob.textContent(card);
  assert.ok(text!.includes('run_migration'));
  assert.ok(text!.includes('Schema v2 → v3'), 'shows current → requested version');
  assert.ok(text!.includes('ALTER TABLE'), 'shows the SQL the migration would run');
  assert.ok(text!.includes('alice'), 'names the requester');
  assert.ok(text!.includes('POST /privileged/mcp'), 'names the route');
  assert.ok(text!.includes('0 of 1 approvals'));
  assert.not.ok(text!.includes('agent-secret'), 'credentials are never shown');

  await bob.screenshot({ path: screenshotPath('queue.png'), fullPage: true });

  await bob.fill(`#reason-${id}`, 'plan reviewed, off-peak');
  await bob.click(`${card} button.approve`);
  const answer = await result;
  assert.is(answer.code, 0, 'the held Check returns OK');
  assert.is(answer.headers['x-hitl-approved-by'], 'bob', 'ext-auth records the signed-in reviewer');
  await carol.waitForSelector(card, { state: 'detached' });
  await bob.waitForSelector(card, { state: 'detached' });

  const stored = await (await admin(ctx.stack.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(stored.approvals[0].reason, 'plan reviewed, off-peak');
  assert.equal(abuse, { dialogs: [], errors: [] }, 'no script or CSP errors');
  await bob.context().close();
  await carol.context().close();
});

it('rejecting with a reason denies the Check with that reason', async (ctx) => {
  const carol = await signedIn(ctx, 'carol');
  const { id, result } = await park(ctx, { version: 'v4' });
  await carol.waitForSelector(`#card-${id}`);
  await carol.fill(`#reason-${id}`, 'not during the freeze — ask again Monday');
  await carol.click(`#card-${id} button.reject`);
  const answer = await result;
  assert.is(answer.code, 7);
  assert.is(answer.httpStatus, 200);
  assert.is(answer.toolError!.text, `Rejected by carol (platform gate): "not during the freeze — ask again Monday"`);
  await carol.waitForSelector(`#card-${id}`, { state: 'detached' });

  await carol.click('nav >> text=History');
  const row = carol.locator(`#history-${id}`);
  assert.ok((await row.textContent())!.includes('Rejected'));
  assert.ok((await row.textContent())!.includes('carol'));
  await carol.selectOption('select[name=status]', 'approved');
  await carol.click('form.filters button');
  assert.is(await carol.locator(`#history-${id}`).count(), 0, 'the filter hides other outcomes');
  await carol.context().close();
});

it('arguments that look like markup render as text and nothing runs', async (ctx) => {
  const bob = await signedIn(ctx, 'bob');
  const abuse = watchForScriptAbuse(bob);
  const hostile = {
    version: '<script>alert("script")</script>',
    note: '<img src=x onerror="alert(\'img\')">',
    title: '"><svg onload="alert(\'svg\')">',
  };
  const { id, result, cancel } = await park(ctx, hostile);
  const card = bob.locator(`#card-${id}`);
  await card.waitFor();
  const args = (await card.locator('pre.args').textContent())!;
  for (const value of Object.values(hostile)) assert.ok(args.includes(JSON.stringify(value).slice(1, -1)), `${value} shown as text`);
  assert.is(await card.locator('pre.args img, pre.args svg, pre.args script').count(), 0);
  // Reload too, so the server-rendered page is checked as well as the live-inserted card.
  await bob.reload();
  await bob.locator(`#card-${id}`).waitFor();
  assert.is(await bob.locator('main img, main svg').count(), 0);
  assert.equal(abuse.dialogs, [], 'no alert ran');
  cancel();
  await result.catch(() => undefined);
  await bob.context().close();
});

it('the queue and its forms work without JavaScript', async (ctx) => {
  const { id, result } = await park(ctx, { version: 'v3', ticket: 'CHG-2' });
  const bob = await signedIn(ctx, 'bob', { javaScriptEnabled: false });
  await bob.locator(`#card-${id}`).waitFor();
  await bob.fill(`#reason-${id}`, 'approved without scripts');
  await bob.click(`#card-${id} button.approve`);
  await bob.waitForURL(`${ctx.stack.uiUrl}/`);
  assert.ok((await bob.textContent('main'))!.includes('Approved.'));
  assert.is((await result).code, 0);
  await bob.context().close();
});

it('a reviewer cannot approve their own request; another reviewer sees why a refusal happened', async (ctx) => {
  const alice = await signedIn(ctx, 'alice');
  const { id, result, cancel } = await park(ctx, { version: 'v3', ticket: 'CHG-3' });
  const card = alice.locator(`#card-${id}`);
  await card.waitFor();
  assert.is(await card.locator('button.approve').count(), 0);
  assert.ok((await card.textContent())!.includes('You made this request'));

  const dave = await signedIn(ctx, 'dave');
  await dave.locator(`#card-${id}`).waitFor();
  await dave.click(`#card-${id} button.approve`);
  await dave.locator(`#card-${id} .notice.error`).waitFor();
  assert.ok((await dave.textContent(`#card-${id} .notice.error`))!.includes('platform'), 'ext-auth says which group may decide');
  cancel();
  await result.catch(() => undefined);
  await alice.context().close();
  await dave.context().close();
});

it('keyboard only, on a phone-sized screen: two approvals are needed and the card says how many it has', async (ctx) => {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const call = ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }), context: { approvals: '2' } }));
  const { id } = await parked;
  const card = `#card-${id}`;

  const bob = await signedIn(ctx, 'bob');
  await bob.setViewportSize({ width: 390, height: 844 });
  await bob.waitForSelector(card);
  const overflow = await bob.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling on a phone (overflow ${overflow}px)`);
  await bob.focus(`#reason-${id}`);
  await bob.keyboard.type('first of two');
  await bob.keyboard.press('Tab');
  assert.is(await bob.evaluate(() => document.activeElement?.textContent?.trim()), '✔ Approve');
  await bob.keyboard.press('Enter');
  await bob.waitForSelector(`${card} >> text=1 of 2 approvals`);
  assert.ok((await bob.textContent(card))!.includes('You have approved this'), 'the same reviewer cannot count twice');

  const carol = await signedIn(ctx, 'carol');
  await carol.waitForSelector(`${card} >> text=1 of 2 approvals`);
  await carol.click(`${card} button.approve`);
  assert.is((await call.result).code, 0, 'released on the second approval');
  await bob.waitForSelector(card, { state: 'detached' });
  await bob.context().close();
  await carol.context().close();
});

it('sessions and CSRF: no session redirects, a wrong token is refused, a POST without the token is refused', async (ctx) => {
  const { uiUrl } = ctx.stack;
  const anonymous = await fetch(`${uiUrl}/`, { redirect: 'manual' });
  assert.is(anonymous.status, 303);
  assert.is(anonymous.headers.get('location'), '/sign-in?next=%2F');

  const wrong = await fetch(`${uiUrl}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: 'not-a-token', next: '/' }), redirect: 'manual' });
  assert.is(wrong.status, 401);
  assert.ok((await wrong.text()).includes('That token was not accepted'));

  const signIn = await fetch(`${uiUrl}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKENS.bob, next: '//evil.example/' }), redirect: 'manual' });
  assert.is(signIn.status, 303);
  assert.is(signIn.headers.get('location'), '/', 'only local paths are followed after sign-in');
  const cookie = signIn.headers.get('set-cookie')!;
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const session = cookie.split(';')[0];

  const { id, result, cancel } = await park(ctx, { version: 'v3', ticket: 'CHG-4' });
  const post = (body: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${uiUrl}/decide/${id}`, { method: 'POST', headers: { cookie: session, ...headers }, body: new URLSearchParams(body), redirect: 'manual' });
  assert.is((await post({ decision: 'approve' })).status, 403, 'no CSRF token');
  assert.is((await post({ decision: 'approve', _csrf: 'forged' })).status, 403, 'wrong CSRF token');
  assert.is((await post({ decision: 'approve' }, { 'sec-fetch-site': 'cross-site' })).status, 403, 'cross-site post');
  assert.is((await fetch(`${uiUrl}/decide/${id}`, { method: 'POST', body: new URLSearchParams({ decision: 'approve' }) })).status, 401, 'no session');
  const stillPending = await (await admin(ctx.stack.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(stillPending.status, 'pending', 'nothing was decided');

  const page = await fetch(`${uiUrl}/`, { headers: { cookie: session } });
  const csp = page.headers.get('content-security-policy')!;
  assert.match(csp, /script-src 'self'/);
  assert.not.match(csp, /unsafe-inline/);
  const csrf = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1];
  assert.is((await post({ decision: 'approve', _csrf: csrf })).status, 303, 'with the token the decision goes through');
  assert.is((await result).code, 0);
  cancel();
});

it('scrolling to the end of a paged queue loads the next pages in order, and new requests still arrive live', async (ctx) => {
  const stack = await startUiStack({ pageSize: 2 });
  const grpc = grpcClient(stack.ext.grpcPort);
  const context = await ctx.browser.newContext({ viewport: { width: 1280, height: 500 } });
  try {
    const parkAs = async (requester: string) => {
      const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
      grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: `CHG-${requester}` }), headers: { 'x-user-id': requester } })).result.catch(() => undefined);
      return (await parked).id;
    };
    const ids = [];
    for (const requester of ['p1', 'p2', 'p3', 'p4', 'p5']) ids.push(await parkAs(requester));
    const page = await context.newPage();
    await page.goto(`${stack.uiUrl}/`);
    await page.fill('#token', TOKENS.bob);
    await page.click('form.sign-in button');
    await page.waitForSelector('body[data-live=connected]');
    // Each poll scrolls to the bottom, as a reviewer reading down the queue would.
    await page.waitForFunction(() => {
      window.scrollTo(0, document.body.scrollHeight);
      return !document.getElementById('next-page');
    }, undefined, { polling: 100 });
    const shown = () => page.$$eval('#queue article.card', (cards) => cards.map((c) => c.id.slice('card-'.length)));
    assert.equal(await shown(), ids, 'every card once, oldest first');
    const late = await parkAs('p6');
    await page.waitForSelector(`#card-${late}`);
    assert.equal(await shown(), [...ids, late], 'a new request joins at the end');
  } finally {
    await context.close();
    grpc.close();
    await stack.close();
  }
});

it('a proxy-vouched identity replaces sign-in when enabled', async () => {
  const stack = await startUiStack({ identityHeader: 'x-forwarded-user' }, { identityHeader: 'x-forwarded-user' });
  try {
    const page = await fetch(`${stack.uiUrl}/`, { headers: { 'x-forwarded-user': 'erin', 'x-forwarded-groups': 'platform' } });
    assert.is(page.status, 200);
    assert.ok((await page.text()).includes('Signed in as <strong>erin</strong>'));
    const without = await fetch(`${stack.uiUrl}/`, { redirect: 'manual' });
    assert.is(without.status, 401, 'no identity header, no queue');
  } finally {
    await stack.close();
  }
});

it.run();
