/**
 * A review longer than the A2A proxy's timeout. kagent v0.9.12 proxies every chat turn with a
 * fixed 3-minute HTTP timeout; here a proxy in front of `hitl agent` cuts a turn after a few
 * seconds. The gate holds the call for less than that, the chat turn ends with "waiting for a
 * platform reviewer", the reviewer approves after the cut would have fallen, and the same
 * request again runs the migration exactly once. The chat page shows the same with a button.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startAgent } from '../../app/agent/command.js';
import { createLogger } from '../../app/shared/log.js';
import { chatClient, isCompleted, replyText } from '../helpers/a2a.js';
import { launchBrowser, watchForScriptAbuse } from '../helpers/browser.js';
import { screenshotPath } from '../helpers/screenshots.js';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';
import { agentConfig } from '../helpers/agent.js';

interface CuttingProxy {
  url: string;
  /** Resolves when the cut for the n-th request (from 0) falls, whether or not it was needed. */
  cutTime(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Forwards to `target`; a request not answered within `cutMs` has its connection cut, as kagent's proxy does at 3 minutes. */
async function cuttingProxy(target: string, cutMs: number): Promise<CuttingProxy> {
  const cuts: Promise<void>[] = [];
  const server: Server = createServer((req, res) => {
    const cut = new AbortController();
    cuts.push(new Promise((resolve) => setTimeout(resolve, cutMs)));
    const timer = setTimeout(() => {
      cut.abort();
      res.destroy();
    }, cutMs);
    const chunks: Buffer[] = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      try {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))) as Record<string, string>;
        const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined, signal: cut.signal });
        const body = Buffer.from(await upstream.arrayBuffer());
        clearTimeout(timer);
        res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(body);
      } catch {
        clearTimeout(timer);
        res.destroy();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cutTime: (n) => cuts[n],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Ctx {
  stack: Stack;
  dir: ReturnType<typeof tempDir>;
  agent: Awaited<ReturnType<typeof startAgent>>;
}

const CUT_MS = 6_000;
const HOLD_MS = 1_500;

const it = suite<Ctx>('a review longer than the A2A proxy timeout');
it.before(async (ctx) => {
  ctx.stack = await startStack({ extAuth: { hold: HOLD_MS } });
  ctx.dir = tempDir('agent-timeout');
  ctx.agent = await startAgent(
    agentConfig(ctx.stack.gatewayUrl, ctx.dir.path),
    createLogger('agent', 'silent'),
  );
});
it.after(async (ctx) => {
  await ctx.agent.close();
  await ctx.stack.close();
  ctx.dir.remove();
});

const state = async (ctx: Ctx) => (await fetch(`${ctx.stack.mcp.url}/state`)).json();
const migrationRuns = (db: { audit: { tool: string }[] }) => db.audit.filter((row) => row.tool === 'run_migration').length;

it('the proxy does cut a turn that outlasts it', async (ctx) => {
  const proxy = await cuttingProxy(ctx.agent.url, 300);
  const client = await chatClient(proxy.url, '0.3');
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const cut = await client.send('Apply migration v5.').then(() => 'answered', (err: Error) => `${err.message}: ${(err.cause as Error | undefined)?.message}`);
  assert.is(cut, 'fetch failed: other side closed', 'a turn held longer than the proxy timeout is cut by the proxy hanging up');
  const { id } = await parked;
  await nextChange(ctx.stack.ext.gate, (c) => c.type === 'deferred' && c.id === id);
  await admin(ctx.stack.ext.adminUrl, 'bob').decide(id, false, 'cleanup');
  await proxy.close();
});

it('kagent-style A2A 0.3 through the cutting proxy: "waiting" in the chat, approval after the cut, the retry runs once', async (ctx) => {
  const proxy = await cuttingProxy(ctx.agent.url, CUT_MS);
  const client = await chatClient(proxy.url, '0.3');
  const before = migrationRuns(await state(ctx));
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const first = await client.send('Apply migration v3.');
  const { id } = await parked;
  assert.ok(isCompleted(first), 'the turn ends before the proxy cuts it');
  assert.match(replyText(first), /^Waiting for a platform reviewer \(platform gate, request /);
  assert.match(replyText(first), /Ask me to try again once it is approved\.$/);
  assert.ok(replyText(first).includes(`request ${id}`), replyText(first));
  const card = await (await admin(ctx.stack.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.equal([card.status, card.waiting, typeof card.callerStoppedAt], ['pending', 0, 'string']);
  assert.is((await state(ctx)).schema_version, 'v2');

  // The reviewer takes longer than the proxy would have allowed the turn.
  await proxy.cutTime(0);
  assert.is((await admin(ctx.stack.ext.adminUrl, 'bob').decide(id, true, 'reviewed after the cut')).status, 204);

  const retry = await client.send('Apply migration v3.', { contextId: first.contextId });
  assert.ok(isCompleted(retry), replyText(retry));
  assert.is(replyText(retry), 'The schema migrated v2 → v3.');
  const db = await state(ctx);
  assert.is(db.schema_version, 'v3');
  assert.is(migrationRuns(db) - before, 1, 'the migration ran exactly once');
  assert.equal([db.audit[0].approval_id, db.audit[0].approved_by], [id, 'bob']);
  await proxy.close();
});

it('the chat page shows the call waiting for a platform reviewer, with a button that tries it again', async (ctx) => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const abuse = watchForScriptAbuse(page);
    await page.goto(`${ctx.agent.url}/chat`);
    await page.fill('#user', 'erin');
    const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
    await page.fill('#prompt', 'Apply migration v4.');
    await page.keyboard.press('Enter');
    const { id } = await parked;
    const waiting = page.locator('.bubble.waiting');
    await waiting.waitFor();
    assert.match((await waiting.locator('.waiting-note').textContent())!, new RegExp(`Waiting for a platform reviewer \\(request ${id}, open until `));
    await page.screenshot({ path: screenshotPath('chat-waiting.png'), fullPage: true });
    await admin(ctx.stack.ext.adminUrl, 'bob').decide(id, true, 'ok');
    await waiting.locator('button.try-again').click();
    await page.locator('.bubble.agent >> text=migrated v3 → v4').waitFor();
    assert.is((await state(ctx)).schema_version, 'v4');
    assert.equal(abuse, { dialogs: [], errors: [] });
  } finally {
    await browser.close();
  }
});

it.run();
