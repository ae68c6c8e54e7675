import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startDev } from '../helpers/dev.js';
import { BINARY } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

test('a service whose supervisor is gone (IPC channel closed, nobody reading its log) stops on its own', async () => {
  // Started the way `hitl dev` starts it: own process group, log on a pipe, an IPC channel.
  const service = spawn(process.execPath, [BINARY, 'gateway', '--host', '127.0.0.1', '--port', '0', '--upstream', 'http://127.0.0.1:9', '--ext-auth', '127.0.0.1:9'], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
  });
  const exited = once(service, 'exit');
  for await (const line of createInterface({ input: service.stdout! })) if (line.includes('gateway listening')) break;
  // What a supervisor killed outright leaves behind: the read end of the log pipe closed, then the channel.
  service.stdout!.destroy();
  service.stderr!.destroy();
  service.disconnect();
  const [code] = await exited;
  assert.is(code, 0, 'it stopped cleanly rather than running on, or hanging on its broken log');
});

test('Ctrl-C in a terminal reaches the whole process group; the services still stop in order', async () => {
  const dir = tempDir('dev-ctrl-c');
  try {
    const dev = await startDev(dir.path, { ownGroup: true });
    const exited = once(dev.child, 'close');
    process.kill(-dev.child.pid!, 'SIGINT');
    assert.is((await exited)[0], 0);
    const stopped = dev.logs.map((l) => /^stopped (\S+) \(\d+ ms\)$/.exec(String(l.msg))?.[1]).filter(Boolean);
    assert.equal(stopped, ['agent', 'ui', 'gateway', 'ext-auth', 'mcp'], 'each stopped by the supervisor, last started first, cleanly');
  } finally {
    dir.remove();
  }
});

test.run();
