import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startAgent } from '../../app/agent/command.js';
import { createLogger } from '../../app/shared/log.js';
import { launchBrowser, watchForScriptAbuse } from '../helpers/browser.js';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { startStack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';
import { screenshotPath } from '../helpers/screenshots.js';
import { agentConfig } from '../helpers/agent.js';

test('the chat page draws query rows as a table, renders an approval card, approves it, and shows a gated call executing until the reviewer decides', async () => {
  const stack = await startStack();
  const dir = tempDir('chat');
  const agent = await startAgent(
    agentConfig(stack.gatewayUrl, dir.path),
    createLogger('agent', 'silent'),
  );
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const abuse = watchForScriptAbuse(page);
    await page.goto(`${agent.url}/`);
    await page.fill('#user', 'erin');

    // A query's rows arrive as a table: a header of the columns, one row each, text only.
    await page.fill('#prompt', "What's in the orders table?");
    await page.keyboard.press('Enter');
    const result = page.locator('.bubble.agent table.result');
    await result.waitFor();
    assert.equal(await result.locator('thead th').allTextContents(), ['id', 'customer', 'amount', 'status', 'created_at']);
    const rows = await result.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    assert.equal(rows.map((cells) => cells.slice(0, 4)), [['1', 'acme', '199.00', 'paid'], ['2', 'globex', '42.50', 'paid'], ['3', 'initech', '1800.00', 'pending']]);
    assert.is(await page.locator('.bubble.agent p').first().textContent(), 'Schema v2: 3 rows.');
    assert.is(await result.evaluate((table) => table.closest('[role=region]')?.getAttribute('aria-label')), 'Query result');

    await page.fill('#prompt', 'Truncate the orders table.');
    await page.keyboard.press('Enter');
    const card = page.locator('.card');
    await card.waitFor();
    assert.is(await card.locator('.tool').textContent(), 'truncate_table');
    assert.equal(JSON.parse((await card.locator('.args').textContent())!), { table: 'orders' });
    await page.screenshot({ path: screenshotPath('chat.png'), fullPage: true });
    await card.locator('button.approve').click();
    await page.locator('.bubble.agent >> text=Truncated orders: 3 rows deleted.').waitFor();
    assert.is((await (await fetch(`${stack.mcp.url}/state`)).json()).row_counts.orders, 0);

    const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
    await page.fill('#prompt', 'Apply migration v3.');
    await page.keyboard.press('Enter');
    const { id } = await parked;
    await page.locator('#working >> text=executing run_migration…').waitFor();
    const request = await (await admin(stack.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
    assert.is(request.requester, 'erin', 'the chat user reaches the gate');
    await admin(stack.ext.adminUrl, 'bob').decide(id, true, 'ok');
    await page.locator('.bubble.agent >> text=migrated v2 → v3').waitFor();
    assert.ok(await page.locator('#working').isHidden());
    assert.equal(abuse, { dialogs: [], errors: [] });
  } finally {
    await browser.close();
    await agent.close();
    await stack.close();
    dir.remove();
  }
});

test.run();
