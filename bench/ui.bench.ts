/**
 * The reviewer queue's freshness and weight: park → card visible in a real browser over the
 * live stream, against the lab's page that reloaded every 8 s; and, with 1,000 and then 10,000
 * requests waiting, the queue page's size, its server render against the same page of the
 * queue as JSON from the admin API, and its first screen in Chromium: from navigation start
 * until the page is live.
 */
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { admin, checkRequest, grpcClient, nextChange, TOKENS, toolCall } from '../test/helpers/ext-auth.js';
import { startUiStack, type UiStack } from '../test/helpers/ui.js';
import { resent } from './resent.js';
import { ms, summarise } from './stats.js';
import type { BenchSection } from './run.js';

const LIVE_SAMPLES = 50;
const POLLING_SAMPLES = 10;
const LAB_POLL_MS = 8_000;
const QUEUE_DEPTHS = [1_000, 10_000];
const RENDERS = 20;
const FIRST_SCREENS = 5;

type Grpc = ReturnType<typeof grpcClient>;

async function signIn(page: Page, stack: UiStack): Promise<void> {
  await page.goto(`${stack.uiUrl}/sign-in`);
  await page.fill('#token', TOKENS.bob);
  await page.click('form.sign-in button');
  await page.waitForURL(`${stack.uiUrl}/`);
}

/** Parks one call, waits for its card on `page`, approves it; returns park → visible in ms. */
async function parkUntilVisible(stack: UiStack, grpc: Grpc, page: Page, i: number): Promise<number> {
  const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
  const started = performance.now();
  const call = grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i) }));
  const { id } = await parked;
  await page.waitForSelector(`#card-${id}`, { timeout: LAB_POLL_MS * 3 });
  const visibleMs = performance.now() - started;
  await resent(() => admin(stack.ext.adminUrl, 'carol').decide(id, true));
  await call.result;
  return visibleMs;
}

async function freshness(stack: UiStack, grpc: Grpc) {
  const browser = await launchBrowser();
  const live = await browser.newPage();
  await signIn(live, stack);
  await live.waitForSelector('body[data-live=connected]');
  const liveMs: number[] = [];
  for (let i = 0; i < LIVE_SAMPLES; i++) liveMs.push(await parkUntilVisible(stack, grpc, live, i));

  // The lab's queue: no live stream, the whole page fetched again every 8 seconds.
  const polling = await (await browser.newContext({ javaScriptEnabled: false })).newPage();
  await signIn(polling, stack);
  const poller = setInterval(() => void polling.reload().catch(() => undefined), LAB_POLL_MS);
  const pollingMs: number[] = [];
  for (let i = 0; i < POLLING_SAMPLES; i++) {
    // Spread the calls evenly over the polling period, as real arrivals would fall.
    await new Promise((resolve) => setTimeout(resolve, (LAB_POLL_MS / POLLING_SAMPLES) * i));
    pollingMs.push(await parkUntilVisible(stack, grpc, polling, i));
  }
  clearInterval(poller);
  await browser.close();
  const total = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { live: summarise(liveMs, total(liveMs)), polling: summarise(pollingMs, total(pollingMs)) };
}

/** Parks calls until `depth` wait (half of them `run_migration` cards with their SQL preview). */
async function fillQueue(stack: UiStack, grpc: Grpc, depth: number): Promise<void> {
  const reviewer = admin(stack.ext.adminUrl, 'bob');
  const waiting = async () => (await (await resent(() => reviewer.get('/pending?limit=1'))).json()).counts.total as number;
  for (let i = await waiting(); i < depth; i++) {
    const call = grpc.check(checkRequest({ body: toolCall('run_migration', { version: i % 2 ? 'v3' : 'v4', ticket: i }, i), headers: { 'x-user-id': `user-${i % 50}` } }));
    call.result.catch(() => undefined);
  }
  while ((await waiting()) < depth) await new Promise((resolve) => setTimeout(resolve, 200));
}

/**
 * Navigation start until the page is live (its event stream connected and the list brought up
 * to date), as the page's own clock saw it, and until `load`.
 */
async function firstScreens(stack: UiStack): Promise<{ live: number[]; load: number[] }> {
  const browser = await launchBrowser();
  const tab = await browser.newPage();
  await tab.addInitScript(() => {
    new MutationObserver((_, observer) => {
      if (document.body?.dataset.live !== 'connected') return;
      (window as unknown as { liveAt: number }).liveAt = performance.now();
      observer.disconnect();
    }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-live'] });
  });
  await signIn(tab, stack);
  const live: number[] = [];
  const load: number[] = [];
  for (let i = 0; i < FIRST_SCREENS; i++) {
    await tab.reload({ waitUntil: 'load' });
    await tab.waitForSelector('body[data-live=connected]');
    const times = await tab.evaluate(() => ({
      live: (window as unknown as { liveAt: number }).liveAt,
      load: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd,
    }));
    live.push(times.live);
    load.push(times.load);
  }
  await browser.close();
  return { live, load };
}

async function deepQueue(stack: UiStack, grpc: Grpc, depth: number) {
  await fillQueue(stack, grpc, depth);
  const signedIn = await resent(() => fetch(`${stack.uiUrl}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKENS.bob }), redirect: 'manual' }));
  const cookie = signedIn.headers.get('set-cookie')!.split(';')[0];
  const timed = async (get: () => Promise<Response>) => {
    const durations: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RENDERS; i++) {
      const started = performance.now();
      bytes = (await (await resent(get)).arrayBuffer()).byteLength;
      durations.push(performance.now() - started);
    }
    return { ...summarise(durations, durations.reduce((a, b) => a + b, 0)), bytes };
  };
  const page = await timed(() => fetch(`${stack.uiUrl}/`, { headers: { cookie } }));
  const reviewer = admin(stack.ext.adminUrl, 'bob');
  const json = await timed(() => reviewer.get('/pending?limit=50'));
  const { live, load } = await firstScreens(stack);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { depth, page, json, browserLoad: summarise(load, sum(load)), browserLive: summarise(live, sum(live)) };
}

export async function run(): Promise<BenchSection> {
  const most = Math.max(...QUEUE_DEPTHS);
  const stack = await startUiStack({}, { maxPending: most * 2, maxPendingPerRequester: most * 2 });
  const grpc = grpcClient(stack.ext.grpcPort);
  const fresh = await freshness(stack, grpc);
  const deep = [];
  for (const depth of QUEUE_DEPTHS) deep.push(await deepQueue(stack, grpc, depth));
  grpc.close();
  await stack.close();
  const kib = (n: number) => `${Math.round(n / 1024).toLocaleString('en')} KiB`;
  const n = (x: number) => x.toLocaleString('en');
  return {
    title: 'Reviewer queue (hitl ui)',
    summary: [
      ['park → card visible in the reviewer queue (Chromium)', `p50 ${ms(fresh.live.p50)}, p99 ${ms(fresh.live.p99)}`, `the lab's page reloaded every 8 s: p50 ${ms(fresh.polling.p50)}, p99 ${ms(fresh.polling.p99)}`],
      ...deep.map((d): [string, string, string] => [
        `queue page with ${n(d.depth)} requests waiting: first screen in Chromium, navigation start → live`,
        `p50 ${ms(d.browserLive.p50)}; page ${kib(d.page.bytes)}`,
        `server render p50 ${ms(d.page.p50)}; the same page as JSON: p50 ${ms(d.json.p50)}`,
      ]),
    ],
    markdown: [
      `Park → card visible in Chromium (the Check sent over gRPC until the card is in the page, then approved through the admin API).`,
      '',
      '| queue page | samples | p50 | p99 |',
      '|---|---|---|---|',
      `| live (Server-Sent Events) | ${fresh.live.requests} | ${ms(fresh.live.p50)} | ${ms(fresh.live.p99)} |`,
      `| the lab's page, reloaded every 8 s | ${fresh.polling.requests} | ${ms(fresh.polling.p50)} | ${ms(fresh.polling.p99)} |`,
      '',
      `With many requests waiting (half of them \`run_migration\` cards with their SQL preview): the queue page's HTML and, as the baseline, the same first page of the queue as JSON from the admin API (\`GET /pending?limit=50\`), ${RENDERS} sequential fetches each; then ${FIRST_SCREENS} reloads in Chromium, timed by the page's own clock from navigation start.`,
      '',
      '| waiting | what | p50 | p99 | size |',
      '|---|---|---|---|---|',
      ...deep.flatMap((d) => [
        `| ${n(d.depth)} | queue page, server-rendered HTML | ${ms(d.page.p50)} | ${ms(d.page.p99)} | ${kib(d.page.bytes)} |`,
        `| ${n(d.depth)} | the same page as JSON from the admin API (baseline) | ${ms(d.json.p50)} | ${ms(d.json.p99)} | ${kib(d.json.bytes)} |`,
        `| ${n(d.depth)} | Chromium: navigation start → \`load\` | ${ms(d.browserLoad.p50)} | ${ms(d.browserLoad.p99)} | |`,
        `| ${n(d.depth)} | Chromium: navigation start → live (stream connected, list brought up to date) | ${ms(d.browserLive.p50)} | ${ms(d.browserLive.p99)} | |`,
      ]),
    ].join('\n'),
  };
}
