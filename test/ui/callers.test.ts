/**
 * What a card says about the callers behind it, live in a real browser: identical calls
 * waiting on one decision, and a caller the gate stopped holding, for whom an approval lets
 * the same call through once.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser } from '../helpers/browser.js';
import { checkRequest, grpcClient, nextChange, TOKENS, toolCall } from '../helpers/ext-auth.js';
import { screenshotPath } from '../helpers/screenshots.js';
import { startUiStack } from '../helpers/ui.js';

const HOLD_MS = 8_000;

const it = suite('the queue shows who waits on a card');

it('two identical calls: one card saying two wait; past the hold it says the caller stopped waiting and what an approval does', async () => {
  const stack = await startUiStack({}, { hold: HOLD_MS });
  const browser = await launchBrowser();
  const grpc = grpcClient(stack.ext.grpcPort);
  try {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(`${stack.uiUrl}/`);
    await page.fill('#token', TOKENS.bob);
    await page.click('form.sign-in button');
    await page.waitForSelector('body[data-live=connected]');

    const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
    const send = (id: number) => grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }, id) })).result;
    const calls = [send(1)];
    const { id } = await parked;
    const joined = nextChange(stack.ext.gate, (c) => c.type === 'joined' && c.id === id);
    calls.push(send(2));
    await joined;
    const card = page.locator(`#card-${id}`);
    await card.locator('.joined >> text=2 identical calls wait on this one decision').waitFor();
    assert.is(await page.locator('article.card').count(), 1, 'one card for both');

    const answers = await Promise.all(calls);
    assert.ok(answers.every((a) => a.toolError?.details.status === 'waiting'), 'both callers were told it waits');
    const deferred = card.locator('.deferred');
    await deferred.waitFor();
    const text = (await deferred.textContent())!.replace(/\s+/g, ' ');
    assert.match(text, /^stopped waiting at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC and was told to try again\./);
    assert.match(text, /Approving lets the same call from the same requester through once, within 15m of the approval \(until .* UTC if approved now\)\./);
    await page.screenshot({ path: screenshotPath('queue-deferred.png'), fullPage: true });
  } finally {
    grpc.close();
    await browser.close();
    await stack.close();
  }
});

it.run();
