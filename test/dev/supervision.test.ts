import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

const ports = ['--mcp-port', '--gateway-port', '--grpc-port', '--admin-port', '--ui-port', '--agent-port'].flatMap((flag) => [flag, '0']);

/** The processes whose parent is `pid`, read from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .flatMap((entry) => {
      try {
        // After the command name, which sits in parentheses, come the state and the parent's pid.
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid ? [Number(entry)] : [];
      } catch {
        return [];
      }
    });
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * The processes of `pids` still running once all have exited or `ms` has passed. They are not
 * this process's children, so there is no exit event to wait on; their liveness is checked.
 */
async function survivorsAfter(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = pids.filter(running);
    if (!left.length || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('hitl dev killed outright: every service it started stops on its own', async () => {
  const dir = tempDir('dev-supervision');
  const dev = startBinary(['dev', '--data-dir', dir.path, ...ports], { ANTHROPIC_API_KEY: '' });
  let services: number[] = [];
  try {
    await dev.waitForLog((l) => String(l.msg).startsWith('Ctrl-C stops everything'));
    services = childrenOf(dev.child.pid!);
    assert.is(services.length, 5, 'mcp, ext-auth, gateway, ui and agent');
    await dev.stop('SIGKILL');
    assert.equal(await survivorsAfter(services, 20_000), [], 'no service outlives its supervisor');
  } finally {
    for (const pid of services.filter(running)) process.kill(pid, 'SIGKILL');
    dir.remove();
  }
});

test('Ctrl-C in a terminal reaches the whole process group; the services still stop in order', async () => {
  const dir = tempDir('dev-ctrl-c');
  const dev = startBinary(['dev', '--data-dir', dir.path, ...ports], { ANTHROPIC_API_KEY: '' }, { ownGroup: true });
  try {
    await dev.waitForLog((l) => String(l.msg).startsWith('Ctrl-C stops everything'));
    const exited = new Promise((resolve) => dev.child.once('close', resolve));
    process.kill(-dev.child.pid!, 'SIGINT');
    assert.is(await exited, 0);
    const stopped = dev.logs.map((l) => /^stopped (\S+) \(\d+ ms\)$/.exec(String(l.msg))?.[1]).filter(Boolean);
    assert.equal(stopped, ['agent', 'ui', 'gateway', 'ext-auth', 'mcp'], 'each stopped by the supervisor, last started first, cleanly');
  } finally {
    dir.remove();
  }
});

test.run();
