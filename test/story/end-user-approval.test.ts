import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { approveAll, chatClient, isCompleted, isPaused } from '../helpers/a2a.js';
import { printedUrl, startDev } from '../helpers/dev.js';
import { BINARY } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);

const it = suite('hitl dev: the end user who approved in the chat is the approver in the MCP server\'s audit');

it('approve truncate_table on 1.0, reject on 0.3: the MCP audit names the approving user; the agent\'s record holds both decisions', async () => {
  const dir = tempDir('end-user-approval');
  const dev = await startDev(dir.path);
  try {
    const agentUrl = printedUrl(dev, 'end-user chat').replace(/\/chat$/, '');
    const mcpUrl = printedUrl(dev, 'Database state:').replace(/\/state$/, '');

    const erin = await chatClient(agentUrl, '1.0', 'erin');
    const paused = await erin.send('Truncate the orders table.');
    assert.ok(isPaused(paused));
    assert.ok(isCompleted(await approveAll(erin, paused, true)));
    const frank = await chatClient(agentUrl, '0.3', 'frank');
    const second = await frank.send('Truncate the orders table.');
    assert.ok(isCompleted(await approveAll(frank, second, false, 'not today')));

    const audit = (await (await fetch(`${mcpUrl}/state`)).json()).audit as Record<string, unknown>[];
    const truncations = audit.filter((r) => r.tool === 'truncate_table');
    assert.is(truncations.length, 1, 'only the approved call ran');
    assert.is(truncations[0].requested_by, 'erin');
    assert.is(truncations[0].user_approved_by, 'erin', 'the MCP server names the end user who approved, from the signed token');
    assert.type(truncations[0].user_approval_id, 'string');
  } finally {
    assert.is(await dev.stop('SIGINT'), 0);
  }
  // Once the agent has let go of its store, its decision record checks out.
  const { stdout } = await run(process.execPath, [BINARY, 'agent', 'verify-audit', '--data-dir', join(dir.path, 'agent')]);
  assert.is(stdout.trim(), 'audit chain intact: 2 entries');
  dir.remove();
});

it.run();
