import type { Browser, Page } from 'playwright-core';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser, watchForScriptAbuse } from '../helpers/browser.js';
import { printedUrl, startDev } from '../helpers/dev.js';
import type { Running } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';
import { screenshotPath } from '../helpers/screenshots.js';

interface Ctx {
  dev: Running;
  dir: ReturnType<typeof tempDir>;
  browser: Browser;
  chat: Page;
  queue: Page;
  mcpUrl: string;
  abuse: { dialogs: string[]; errors: string[] }[];
}

const it = suite<Ctx>('npm start: the four scenes through the chat and the reviewer queue');


it.before(async (ctx) => {
  ctx.dir = tempDir('story');
  ctx.dev = await startDev(ctx.dir.path);
  const queueLine = ctx.dev.logs.map((l) => String(l.msg)).find((m) => m.trimStart().startsWith('reviewer queue'))!;
  const token = /token (\S+)\)/.exec(queueLine)![1];
  ctx.mcpUrl = printedUrl(ctx.dev, 'Database state:').replace(/\/state$/, '');

  ctx.browser = await launchBrowser();
  ctx.chat = await (await ctx.browser.newContext({ viewport: { width: 900, height: 800 } })).newPage();
  ctx.queue = await (await ctx.browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage();
  ctx.abuse = [watchForScriptAbuse(ctx.chat), watchForScriptAbuse(ctx.queue)];
  await ctx.chat.goto(printedUrl(ctx.dev, 'end-user chat'));
  await ctx.chat.fill('#user', 'erin');
  await ctx.queue.goto(printedUrl(ctx.dev, 'reviewer queue'));
  await ctx.queue.fill('#token', token);
  await ctx.queue.click('form.sign-in button');
  await ctx.queue.waitForSelector('body[data-live=connected]');
});

it.after(async (ctx) => {
  await ctx.browser?.close();
  await ctx.dev.stop('SIGINT');
  ctx.dir.remove();
});

const tail = (dev: Running) => dev.logs.slice(-10).map((l) => String(l.msg)).join('\n');

const state = async (ctx: Ctx) => (await fetch(`${ctx.mcpUrl}/state`)).json();

async function ask(ctx: Ctx, prompt: string) {
  const before = await ctx.chat.locator('.bubble.agent').count();
  await ctx.chat.fill('#prompt', prompt);
  await ctx.chat.keyboard.press('Enter');
  return before;
}

/** The assistant's next reply (or card) after `before` replies. */
async function reply(ctx: Ctx, before: number): Promise<string> {
  const next = ctx.chat.locator('.bubble.agent').nth(before);
  await next.waitFor();
  return (await next.textContent()) ?? '';
}

it('scene 1: a question runs without approval anywhere', async (ctx) => {
  const text = await reply(ctx, await ask(ctx, "What's in the orders table?"));
  assert.match(text, /Schema v2: 3 rows\./);
  const db = await state(ctx);
  assert.is(db.schema_version, 'v2');
  assert.is(db.row_counts.orders, 3);
  assert.ok(await ctx.queue.locator('.empty').isVisible(), 'the reviewer queue is empty');
  await ctx.chat.screenshot({ path: screenshotPath('scene-1-query.png') });
});

it('scene 2: truncate pauses in the chat; the reviewer queue stays empty; approving empties the table', async (ctx) => {
  const text = await reply(ctx, await ask(ctx, 'Truncate the orders table.'));
  assert.match(text, /truncate_table/);
  const card = ctx.chat.locator('.card').last();
  assert.equal(JSON.parse((await card.locator('.args').textContent())!), { table: 'orders' });
  assert.ok(await ctx.queue.locator('.empty').isVisible(), 'nothing for the platform reviewer');
  assert.is((await state(ctx)).row_counts.orders, 3, 'nothing ran yet');
  await ctx.chat.screenshot({ path: screenshotPath('scene-2-chat-approval.png') });
  const before = await ctx.chat.locator('.bubble.agent').count();
  await card.locator('button.approve').click();
  assert.match(await reply(ctx, before), /Truncated orders: 3 rows deleted\./);
  assert.is((await state(ctx)).row_counts.orders, 0);
});

it('scene 3: the migration waits at the gateway; its card shows v2 → v3 and the SQL; approving applies it', async (ctx) => {
  const before = await ask(ctx, 'Apply migration v3.');
  await ctx.chat.locator('#working >> text=executing run_migration…').waitFor();
  const card = ctx.queue.locator('article.card[data-tool=run_migration]');
  await card.waitFor();
  const shown = (await card.textContent())!;
  assert.match(shown, /Schema v2 → v3/);
  assert.match(shown, /ALTER TABLE orders ADD COLUMN currency/);
  assert.match(shown, /erin/, 'the requester is the chat user');
  assert.match(shown, /POST \/privileged\/mcp/);
  assert.is((await state(ctx)).schema_version, 'v2', 'waiting, not applied');
  await ctx.queue.screenshot({ path: screenshotPath('scene-3-reviewer-queue.png'), fullPage: true });
  await card.locator('textarea').fill('reviewed the plan');
  await card.locator('button.approve').click();
  assert.match(await reply(ctx, before), /migrated v2 → v3/);
  await card.waitFor({ state: 'detached' });
  assert.is((await state(ctx)).schema_version, 'v3');
});

it('scene 4: the reviewer rejects; the chat reports the reason verbatim, no retry, schema unchanged', async (ctx) => {
  const before = await ask(ctx, 'Apply migration v4.');
  const card = ctx.queue.locator('article.card[data-tool=run_migration]');
  await card.waitFor();
  await card.locator('textarea').fill('not before the release');
  await card.locator('button.reject').click();
  const text = await reply(ctx, before);
  assert.match(text, /not before the release/);
  assert.match(text, /will not retry/);
  await card.waitFor({ state: 'detached' });
  assert.ok(await ctx.queue.locator('.empty').isVisible(), 'no retry reached the queue');
  const db = await state(ctx);
  assert.is(db.schema_version, 'v3');
  assert.ok(db.audit.some((row: { tool: string; approved_by: string | null }) => row.tool === 'run_migration' && row.approved_by === 'platform-reviewer'), 'the MCP audit names the approver');
  await ctx.chat.screenshot({ path: screenshotPath('scene-4-rejected.png') });
  assert.equal(ctx.abuse, [{ dialogs: [], errors: [] }, { dialogs: [], errors: [] }]);
});

it('a second npm start keeps the data; --reset starts fresh', async (ctx) => {
  const stopped = await ctx.dev.stop('SIGINT');
  assert.is(stopped, 0, `Ctrl-C stops everything cleanly, with both pages still open; hitl dev said:\n${tail(ctx.dev)}`);
  const again = async (...extra: string[]) => {
    ctx.dev = await startDev(ctx.dir.path, { extra });
    ctx.mcpUrl = printedUrl(ctx.dev, 'Database state:').replace(/\/state$/, '');
    return state(ctx);
  };
  const kept = await again();
  assert.is(kept.schema_version, 'v3');
  assert.is(kept.row_counts.orders, 0);
  assert.is(await ctx.dev.stop('SIGINT'), 0, tail(ctx.dev));
  const fresh = await again('--reset');
  assert.is(fresh.schema_version, 'v2');
  assert.is(fresh.row_counts.orders, 3);
});

it.run();
