import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ChildSpec {
  /** The subcommand, also the label on its log lines. */
  name: string;
  args: string[];
}

export interface StartedChild {
  name: string;
  url: string;
  process: ChildProcess;
}

/**
 * Starts `hitl <subcommand>` as a child of this process, relays its log as short readable
 * lines, and resolves with its URL once it logs that it is listening.
 */
export function startChild(spec: ChildSpec, print: (line: string) => void): Promise<StartedChild> {
  const child = spawn(process.execPath, [process.argv[1], spec.name, ...spec.args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const label = `[${spec.name}]`.padEnd(11);
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
    for (const line of String(chunk).trimEnd().split('\n')) print(`${label} ${line}`);
  });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (text) => {
      const entry = parse(text);
      if (typeof entry.url === 'string' && String(entry.msg).endsWith('listening')) {
        resolve({ name: spec.name, url: entry.url, process: child });
      }
      print(`${label} ${describe(entry)}`);
    });
    child.once('exit', (code) => reject(new Error(`hitl ${spec.name} exited with code ${code} while starting${stderr ? `: ${stderr.trim()}` : ''}`)));
  });
}

/** Stops every child with SIGTERM and waits for each to exit. */
export async function stopAll(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children
      .filter((c) => c.exitCode === null && c.signalCode === null)
      .map(async (c) => {
        const exited = once(c, 'exit');
        c.kill('SIGTERM');
        await exited;
      }),
  );
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
  return `${level && level !== 'info' ? `${String(level).toUpperCase()} ` : ''}${msg ?? ''}${details ? ` ${details}` : ''}`;
}
