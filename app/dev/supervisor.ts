import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { SHUTDOWN_DEADLINE_MS } from '../shared/command.js';

export interface ChildSpec {
  /** The subcommand, also the label on its log lines. */
  name: string;
  args: string[];
  /** Secrets go here rather than in args, which every local user can read in `ps`. */
  env?: Record<string, string>;
}

export interface StartedChild {
  name: string;
  url: string;
  /** The child's "listening" log line (ext-auth adds its gRPC port there). */
  listening: Record<string, unknown>;
  process: ChildProcess;
}

const SHOWN_LEVELS = new Set(['warn', 'error', 'fatal']);

/**
 * Starts `hitl <subcommand>` as a child of this process and resolves once it logs that it is
 * listening. Its full log goes to `<logDir>/<name>.log`; warnings and errors are also shown.
 */
export function startChild(spec: ChildSpec, logDir: string, print: (line: string) => void): Promise<StartedChild> {
  // Its own process group, so a Ctrl-C in the terminal reaches only this supervisor, which then
  // stops the services in order; the IPC channel lets the child notice if the supervisor dies.
  const child = spawn(process.execPath, [process.argv[1], spec.name, ...spec.args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    detached: true,
    env: { ...process.env, ...spec.env },
  });
  const label = `[${spec.name}]`.padEnd(11);
  const logFile = createWriteStream(join(logDir, `${spec.name}.log`), { flags: 'a' });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    logFile.write(chunk);
    for (const line of String(chunk).trimEnd().split('\n')) print(`${label} ${line}`);
  });
  child.once('exit', () => logFile.end());
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      logFile.write(`${text}\n`);
      const entry = parse(text);
      if (typeof entry.url === 'string' && String(entry.msg).endsWith('listening')) {
        resolve({ name: spec.name, url: entry.url, listening: entry, process: child });
      } else if (SHOWN_LEVELS.has(String(entry.level))) {
        print(`${label} ${describe(entry)}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`hitl ${spec.name} exited with code ${code} while starting${stderr ? `: ${stderr.trim()}` : ''}`)));
  });
}

/** A child gets its own shutdown deadline and this much more before it is killed. */
const KILL_AFTER_MS = SHUTDOWN_DEADLINE_MS + 2_000;

/** The longest `stopAll` can take for `count` children. */
export const stopAllDeadline = (count: number) => count * KILL_AFTER_MS + 1_000;

/**
 * Stops the children one at a time, last started first, so none is left waiting on a service
 * that already went away (the agent on the gateway, the gateway on ext-auth). A child that
 * does not stop in time is killed, so one stuck service cannot keep the others running.
 */
export async function stopAll(children: StartedChild[], print: (line: string) => void): Promise<{ clean: boolean }> {
  let clean = true;
  for (const { name, process: child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const started = performance.now();
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
    const [code, signal] = await exited;
    clearTimeout(kill);
    const ms = Math.round(performance.now() - started);
    if (code !== 0) clean = false;
    print(code === 0 ? `stopped ${name} (${ms} ms)` : `stopped ${name} (${ms} ms, ${signal === 'SIGKILL' ? 'killed: it did not stop in time' : `exit ${code ?? signal}`})`);
  }
  return { clean };
}

function parse(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text);
  } catch {
    return { msg: text };
  }
}

function describe(entry: Record<string, unknown>): string {
  const { level, time, service, msg, ...rest } = entry;
  const details = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${level ? `${String(level).toUpperCase()} ` : ''}${msg ?? ''}${details ? ` ${details}` : ''}`;
}
