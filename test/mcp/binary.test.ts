import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:net';
import { connectClient, toolJson } from '../helpers/mcp.js';
import { runBinary, startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

test('--help lists every subcommand; a subcommand lists its flags with their environment names', async () => {
  const top = await runBinary(['--help']);
  assert.is(top.code, 0);
  assert.match(top.stdout, /^\s+mcp\s+the ops-tools MCP server/m);
  const mcp = await runBinary(['mcp', '--help']);
  assert.is(mcp.code, 0);
  for (const flag of ['--port PORT', '--data-dir DIR', '--database-url URL', '--allowed-hosts HOST', '--log-level LEVEL']) {
    assert.ok(mcp.stdout.includes(flag), flag);
  }
  assert.match(mcp.stdout, /\[HITL_DATA_DIR\]/);
});

test('a bad value exits 2 with one line naming the flag, whether from a flag or the environment', async () => {
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['mcp', '--port', '99999'], {}, /^hitl mcp: --port: "99999" is above 65535$/],
    [['mcp', '--database-url', 'mysql://x'], {}, /--database-url: "mysql:\/\/x" must use postgres: or postgresql:/],
    [['mcp', '--query-timeout', 'soon'], {}, /--query-timeout: "soon" is not a duration/],
    [['mcp', '--nope', '1'], {}, /--nope: unknown flag/],
    [['mcp'], { HITL_ROW_CAP: '0' }, /--row-cap: "0" is below 1/],
    [['mcp'], { HITL_LOG_LEVEL: 'loud' }, /--log-level: "loud" is not one of/],
  ];
  for (const [args, env, expected] of cases) {
    const run = await runBinary(args, env);
    assert.is(run.code, 2, args.join(' '));
    const lines = run.stderr.trim().split('\n');
    assert.is(lines.length, 1, run.stderr);
    assert.match(lines[0], expected);
  }
  const unknown = await runBinary(['fly']);
  assert.is(unknown.code, 2);
});

test('the flag wins over the environment', async () => {
  const run = await runBinary(['mcp', '--row-cap', 'x'], { HITL_ROW_CAP: '5' });
  assert.match(run.stderr, /--row-cap: "x"/);
});

test('a port in use is named in a clear message', async () => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  const dir = tempDir('mcp-port');
  const run = await runBinary(['mcp', '--port', String(port), '--host', '127.0.0.1', '--data-dir', dir.path, '--no-approval-check']);
  blocker.close();
  dir.remove();
  assert.is(run.code, 1);
  assert.is(run.stderr.trim(), `hitl mcp: port ${port} on 127.0.0.1 is in use; choose another with --port`);
});

test('probes, graceful SIGTERM, and a restart keeps data and schema version', async () => {
  const dir = tempDir('mcp-restart');
  const args = ['mcp', '--port', '0', '--host', '127.0.0.1', '--data-dir', dir.path, '--no-approval-check'];
  const first = startBinary(args);
  const { url } = (await first.waitForLog((l) => l.msg === 'mcp listening')) as { url: string };
  assert.equal(await (await fetch(`${url}/healthz`)).json(), { status: 'ok' });
  assert.equal(await (await fetch(`${url}/readyz`)).json(), { status: 'ready' });

  const client = await connectClient(`${url}/privileged/mcp`);
  const migrated = toolJson(await client.callTool({ name: 'run_migration', arguments: { version: 'v3' } }));
  await client.close();
  assert.is(migrated.to, 'v3');
  assert.is(await first.stop('SIGTERM'), 0);
  assert.ok(first.logs.some((l) => l.msg === 'request' && l.path === '/privileged/mcp' && l.status === 200), 'one log line per request');

  const second = startBinary(args);
  const restarted = (await second.waitForLog((l) => l.msg === 'mcp listening')) as { url: string; schema_version: string };
  assert.is(restarted.schema_version, 'v3');
  const state = await (await fetch(`${restarted.url}/state`)).json();
  assert.is(state.row_counts.orders, 3);
  assert.is(state.audit[0].tool, 'run_migration');
  assert.is(await second.stop('SIGINT'), 0);
  dir.remove();
});

test.run();
