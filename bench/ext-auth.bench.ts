/**
 * A pass-through Check against a bare gRPC server doing nothing, each server and the client in a
 * process of its own, as a gateway sees them. Parking, releasing and memory under load are
 * gate-load.bench.ts's, with its client in a process of its own too.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once as onceEvent } from 'node:events';
import { writeTokensFile } from '../test/helpers/ext-auth.js';
import { startBinary } from '../test/helpers/process.js';
import { tempDir } from '../test/helpers/temp.js';
import type { ClientCommand, ClientReport } from './check-client.js';
import { ms, rate, type LatencySummary } from './stats.js';
import type { BenchSection } from './run.js';

const PASS_REQUESTS = 5000;
const PASS_CONCURRENCY = 16;

const forkTs = (file: string) => fork(new URL(file, import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });

async function bareServer(): Promise<{ port: number; close(): void }> {
  const child = forkTs('./bare-server.ts');
  const [{ port }] = (await onceEvent(child, 'message')) as [{ port: number }];
  return { port, close: () => child.disconnect() };
}

/** `total` pings, `concurrency` in flight, sent by the client process to `port`. */
async function passed(client: ChildProcess, port: number, total: number, concurrency: number): Promise<LatencySummary> {
  const answer = onceEvent(client, 'message') as Promise<[ClientReport]>;
  client.send({ op: 'pass', port, total, concurrency } satisfies ClientCommand);
  const [report] = await answer;
  if (report.op !== 'passed') throw new Error(`the client reported ${report.op}`);
  return { requests: total, ...report };
}

/** The gate and a bare grpc-js server, each in a process of its own, driven by a client in a third. */
async function passThrough() {
  const dir = tempDir('bench-ext-auth-pass');
  const ext = startBinary(['ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--data-dir', `${dir.path}/data`, '--tokens-file', writeTokensFile(dir.path)]);
  const { grpcPort } = (await ext.waitForLog((l) => l.msg === 'ext-auth listening')) as { grpcPort: number };
  const bare = await bareServer();
  const client = forkTs('./check-client.ts');
  await passed(client, grpcPort, 500, 8);
  await passed(client, bare.port, 500, 8);
  const gate = await passed(client, grpcPort, PASS_REQUESTS, PASS_CONCURRENCY);
  const baseline = await passed(client, bare.port, PASS_REQUESTS, PASS_CONCURRENCY);
  client.disconnect();
  bare.close();
  await ext.stop();
  dir.remove();
  return { gate, baseline };
}

export async function run(): Promise<BenchSection> {
  const { gate, baseline } = await passThrough();
  const markdown = [
    `Pass-through: ${PASS_REQUESTS} \`ping\` Checks, ${PASS_CONCURRENCY} in flight, over loopback gRPC, as a gateway sees them: the gRPC client, \`hitl ext-auth\` and the baseline (a bare @grpc/grpc-js server on the same proto answering OK at once) each run in a process of their own, in the same run.`,
    '',
    '| server | Checks/s | p50 | p99 |',
    '| --- | ---: | ---: | ---: |',
    `| hitl ext-auth (classify, pass) | ${rate(gate.perSecond)} | ${ms(gate.p50)} | ${ms(gate.p99)} |`,
    `| bare grpc-js unary server | ${rate(baseline.perSecond)} | ${ms(baseline.p50)} | ${ms(baseline.p99)} |`,
    `| ratio (ext-auth / bare) | ${(gate.perSecond / baseline.perSecond).toFixed(2)} | ${(gate.p50 / baseline.p50).toFixed(2)} | ${(gate.p99 / baseline.p99).toFixed(2)} |`,
  ].join('\n');
  return {
    title: 'ext-auth: Check overhead',
    markdown,
    summary: [
      ['ext-auth pass-through Check, 16 in flight (client, gate and baseline in processes of their own)', `${rate(gate.perSecond)}, p50 ${ms(gate.p50)}`, `bare grpc-js server: ${rate(baseline.perSecond)}, p50 ${ms(baseline.p50)} (${(gate.perSecond / baseline.perSecond).toFixed(2)}× its rate)`],
    ],
  };
}
