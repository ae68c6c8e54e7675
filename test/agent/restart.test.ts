import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { approveAll, chatClient, isCompleted, isPaused } from '../helpers/a2a.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { startBinary } from '../helpers/process.js';
import { startStack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';

test('a task paused for approval survives a killed agent and runs the paused call exactly once', async () => {
  const stack = await startStack();
  const dir = tempDir('agent-restart');
  const agentArgs = ['agent', '--port', '0', '--host', '127.0.0.1', '--gateway-url', stack.gatewayUrl, '--data-dir', dir.path];
  const listening = (line: Record<string, unknown>) => line.msg === 'agent listening';
  try {
    const first = startBinary(agentArgs);
    const firstUrl = String((await first.waitForLog(listening)).url);
    const paused = await (await chatClient(firstUrl, '1.0')).send('Truncate the orders table.');
    assert.ok(isPaused(paused));
    assert.is(await first.stop('SIGKILL'), null, 'killed, not shut down');

    const second = startBinary(agentArgs);
    try {
      const client = await chatClient(String((await second.waitForLog(listening)).url), '1.0');
      assert.ok(isPaused(await client.getTask(paused.id)), 'the task is still waiting after the restart');
      const done = await approveAll(client, paused, true);
      assert.ok(isCompleted(done));
      const state = await (await fetch(`${stack.mcp.url}/state`)).json();
      assert.is(state.row_counts.orders, 0);
      const truncations = state.audit.filter((row: { tool: string; args: { table: string } }) => row.tool === 'truncate_table' && row.args.table === 'orders');
      assert.is(truncations.length, 1, 'the paused call ran once');
      assert.is(truncations[0].requested_by, 'erin');
    } finally {
      await second.stop();
    }
  } finally {
    await stack.close();
    dir.remove();
  }
});

onPostgres(test)('on PostgreSQL, a second agent process resumes the task the first one paused', async () => {
  const db = await freshDatabase('hitl_agent');
  const stack = await startStack();
  const agentArgs = ['agent', '--port', '0', '--host', '127.0.0.1', '--gateway-url', stack.gatewayUrl, '--database-url', db.url];
  const listening = (line: Record<string, unknown>) => line.msg === 'agent listening';
  const first = startBinary(agentArgs);
  const second = startBinary(agentArgs);
  try {
    const [firstUrl, secondUrl] = await Promise.all([first, second].map(async (p) => String((await p.waitForLog(listening)).url)));
    const paused = await (await chatClient(firstUrl, '0.3')).send('Truncate the orders table.');
    assert.ok(isPaused(paused), JSON.stringify(paused.status));
    const done = await approveAll(await chatClient(secondUrl, '0.3'), paused, true);
    assert.ok(isCompleted(done), `answered on the other replica: ${JSON.stringify(done.status)}`);
    assert.is((await (await fetch(`${stack.mcp.url}/state`)).json()).row_counts.orders, 0);
  } finally {
    await Promise.all([first.stop(), second.stop()]);
    await stack.close();
    await db.drop();
  }
});

test.run();
