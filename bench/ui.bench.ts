/**
 * The reviewer queue's freshness and weight: park → card visible in a real browser over the
 * live stream, against the lab's page that reloaded every 8 s; and the queue page rendered
 * with 1,000 requests waiting, against fetching the same list as JSON from the admin API.
 */
import type { Page } from 'playwright-core';
import { launchBrowser } from '../test/helpers/browser.js';
import { admin, checkRequest, grpcClient, nextChange, TOKENS, toolCall } from '../test/helpers/ext-auth.js';
import { startUiStack, type UiStack } from '../test/helpers/ui.js';
import { ms, summarise } from './stats.js';
import type { BenchSection } from './run.js';

const LIVE_SAMPLES = 50;
const POLLING_SAMPLES = 10;
const LAB_POLL_MS = 8_000;
const QUEUE_DEPTH = 1_000;
const RENDERS = 20;

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
  await admin(stack.ext.adminUrl, 'carol').decide(id, true);
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

async function deepQueue(stack: UiStack, grpc: Grpc) {
  for (let i = 0; i < QUEUE_DEPTH; i++) {
    const call = grpc.check(checkRequest({ body: toolCall('run_migration', { version: i % 2 ? 'v3' : 'v4', ticket: i }, i), headers: { 'x-user-id': `user-${i % 50}` } }));
    call.result.catch(() => undefined);
  }
  const reviewer = admin(stack.ext.adminUrl, 'bob');
  while ((await (await reviewer.get('/pending')).json()).pending.length < QUEUE_DEPTH) await new Promise((r) => setImmediate(r));

  const signedIn = await fetch(`${stack.uiUrl}/sign-in`, { method: 'POST', body: new URLSearchParams({ token: TOKENS.bob }), redirect: 'manual' });
  const cookie = signedIn.headers.get('set-cookie')!.split(';')[0];
  const timed = async (get: () => Promise<Response>) => {
    const durations: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RENDERS; i++) {
      const started = performance.now();
      bytes = (await (await get()).arrayBuffer()).byteLength;
      durations.push(performance.now() - started);
    }
    return { ...summarise(durations, durations.reduce((a, b) => a + b, 0)), bytes };
  };
  const page = await timed(() => fetch(`${stack.uiUrl}/`, { headers: { cookie } }));
  const json = await timed(() => reviewer.get('/pending'));

  const browser = await launchBrowser();
  const tab = await browser.newPage();
  await signIn(tab, stack);
  const loads: number[] = [];
  const live: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    await tab.reload({ waitUntil: 'load' });
    loads.push(performance.now() - started);
    await tab.waitForSelector('body[data-live=connected]');
    live.push(performance.now() - started);
  }
  await browser.close();
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return { page, json, browserLoad: summarise(loads, sum(loads)), browserLive: summarise(live, sum(live)) };
}

export async function run(): Promise<BenchSection> {
  const stack = await startUiStack({}, { maxPending: QUEUE_DEPTH * 2, maxPendingPerRequester: QUEUE_DEPTH * 2 });
  const grpc = grpcClient(stack.ext.grpcPort);
  const fresh = await freshness(stack, grpc);
  const deep = await deepQueue(stack, grpc);
  grpc.close();
  await stack.close();
  const kib = (n: number) => `${Math.round(n / 1024).toLocaleString('en')} KiB`;
  return {
    title: 'Reviewer queue (hitl ui)',
    summary: [
      ['park → card visible in the reviewer queue (Chromium)', `p50 ${ms(fresh.live.p50)}, p99 ${ms(fresh.live.p99)}`, `the lab's page reloaded every 8 s: p50 ${ms(fresh.polling.p50)}, p99 ${ms(fresh.polling.p99)}`],
      [`queue page with ${QUEUE_DEPTH.toLocaleString('en')} requests waiting, server render`, `p50 ${ms(deep.page.p50)}`, `the same list as JSON: p50 ${ms(deep.json.p50)}`],
    ],
    markdown: [
      `Park → card visible in Chromium (the Check sent over gRPC until the card is in the page, then approved through the admin API).`,
      '',
      '| queue page | samples | p50 | p99 |',
      '|---|---|---|---|',
      `| live (Server-Sent Events) | ${fresh.live.requests} | ${ms(fresh.live.p50)} | ${ms(fresh.live.p99)} |`,
      `| the lab's page, reloaded every 8 s | ${fresh.polling.requests} | ${ms(fresh.polling.p50)} | ${ms(fresh.polling.p99)} |`,
      '',
      `With ${QUEUE_DEPTH.toLocaleString('en')} requests waiting (half of them \`run_migration\` cards with their SQL preview), ${RENDERS} sequential fetches each:`,
      '',
      '| what | p50 | p99 | size |',
      '|---|---|---|---|',
      `| queue page, server-rendered HTML | ${ms(deep.page.p50)} | ${ms(deep.page.p99)} | ${kib(deep.page.bytes)} |`,
      `| the same list as JSON from the admin API (baseline) | ${ms(deep.json.p50)} | ${ms(deep.json.p99)} | ${kib(deep.json.bytes)} |`,
      `| page load in Chromium (5 reloads, until \`load\`) | ${ms(deep.browserLoad.p50)} | ${ms(deep.browserLoad.p99)} | |`,
      `| … until live (stream connected and list refreshed) | ${ms(deep.browserLive.p50)} | ${ms(deep.browserLive.p99)} | |`,
    ].join('\n'),
  };
}
