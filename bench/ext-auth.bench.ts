/**
 * The gate's costs: a pass-through Check against a bare gRPC server doing nothing (each server
 * and the client in a process of its own, as a gateway sees them), the time from a reviewer's
 * decision to the held Check returning, and many calls parked at once.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once as onceEvent } from 'node:events';
import { readFileSync } from 'node:fs';
import { admin, checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, writeTokensFile } from '../test/helpers/ext-auth.js';
import { startBinary } from '../test/helpers/process.js';
import { tempDir } from '../test/helpers/temp.js';
import type { ClientCommand, ClientReport } from './check-client.js';
import { drive, ms, rate, summarise, type LatencySummary } from './stats.js';
import type { BenchSection } from './run.js';

const PASS_REQUESTS = 5000;
const PASS_CONCURRENCY = 16;
const DECISIONS = 200;
const PARKED_AT_ONCE = 10_000;

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
  const { grpcPort } = (await startedLine(ext)) as { grpcPort: number };
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

/** Decision → release, with the gate in this process: park one call, decide it, time until the Check returns. */
async function releases() {
  const dir = tempDir('bench-ext-auth');
  const ext = await startGate(extAuthConfig(dir.path));
  const gateClient = grpcClient(ext.grpcPort);
  const durations: number[] = [];
  for (let i = 0; i < DECISIONS; i++) {
    const parked = nextChange(ext.gate, (c) => c.type === 'parked');
    const call = gateClient.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i) }));
    const { id } = await parked;
    const started = performance.now();
    const decided = admin(ext.adminUrl, 'bob').decide(id, true);
    await call.result;
    durations.push(performance.now() - started);
    await decided;
  }
  gateClient.close();
  await ext.close();
  dir.remove();
  return summarise(durations, durations.reduce((a, b) => a + b, 0));
}

/** Resident memory is coarse: a change under 1 KiB a call is below what it can show. */
function perCall({ before, after }: { before: number; after: number }): string {
  const kib = ((after - before) * 1024) / PARKED_AT_ONCE;
  return kib >= 1 ? `${kib.toFixed(1)} KiB a parked call` : 'no growth measurable in resident memory';
}

function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return kb / 1024;
}

async function manyParked() {
  const dir = tempDir('bench-ext-auth-many');
  const child = startBinary([
    'ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--data-dir', `${dir.path}/data`,
    '--tokens-file', writeTokensFile(dir.path), '--max-pending', String(PARKED_AT_ONCE), '--max-pending-per-requester', String(PARKED_AT_ONCE), '--log-level', 'info',
  ]);
  const { url, grpcPort } = (await startedLine(child)) as { url: string; grpcPort: number };
  const client = grpcClient(grpcPort);
  const parkAndApprove = async (count: number) => {
    const calls = Array.from({ length: count }, (_, i) => client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i) })).result);
    const parkStarted = performance.now();
    let pending: { id: string }[] = [];
    // Wait on the server's own count of parked calls: the queue is full when /pending says so.
    while (pending.length < count) pending = (await (await admin(url, 'bob').get('/pending')).json()).pending;
    const parkSeconds = (performance.now() - parkStarted) / 1000;
    const rss = rssMiB(child.child.pid!);
    const approveStarted = performance.now();
    const ids = pending.map((p) => p.id);
    await drive(16, ids.length, async () => {
      const res = await admin(url, 'bob').decide(ids.pop()!, true);
      if (res.status !== 204) throw new Error(`decision refused: ${res.status}`);
    });
    await Promise.all(calls);
    return { rss, parkSeconds, drainSeconds: (performance.now() - approveStarted) / 1000 };
  };
  // A first round grows the embedded engine's memory to its working size, so the baseline
  // below is what an idle, warmed-up server holds.
  await parkAndApprove(500);
  const before = rssMiB(child.child.pid!);
  const { rss: after, parkSeconds, drainSeconds } = await parkAndApprove(PARKED_AT_ONCE);
  client.close();
  await child.stop();
  dir.remove();
  return { before, after, parkSeconds, drainSeconds };
}

function startedLine(child: ReturnType<typeof startBinary>) {
  return child.waitForLog((l) => l.msg === 'ext-auth listening');
}

export async function run(): Promise<BenchSection> {
  const { gate, baseline } = await passThrough();
  const release = await releases();
  const many = await manyParked();
  const markdown = [
    `Pass-through: ${PASS_REQUESTS} \`ping\` Checks, ${PASS_CONCURRENCY} in flight, over loopback gRPC, as a gateway sees them: the gRPC client, \`hitl ext-auth\` and the baseline (a bare @grpc/grpc-js server on the same proto answering OK at once) each run in a process of their own, in the same run.`,
    '',
    '| server | Checks/s | p50 | p99 |',
    '| --- | ---: | ---: | ---: |',
    `| hitl ext-auth (classify, pass) | ${rate(gate.perSecond)} | ${ms(gate.p50)} | ${ms(gate.p99)} |`,
    `| bare grpc-js unary server | ${rate(baseline.perSecond)} | ${ms(baseline.p50)} | ${ms(baseline.p99)} |`,
    `| ratio (ext-auth / bare) | ${(gate.perSecond / baseline.perSecond).toFixed(2)} | ${(gate.p50 / baseline.p50).toFixed(2)} | ${(gate.p99 / baseline.p99).toFixed(2)} |`,
    '',
    `Decision → Check returns (embedded store, ${DECISIONS} calls, one at a time): p50 ${ms(release.p50)}, p99 ${ms(release.p99)}, measured from sending \`POST /decide\` to the held Check's answer.`,
    '',
    `${PARKED_AT_ONCE.toLocaleString('en')} Checks parked at once on one \`hitl ext-auth\` process (embedded store): resident memory ${many.before.toFixed(0)} MiB → ${many.after.toFixed(0)} MiB ` +
      `(${perCall(many)}, after a warm-up round of 500); parking all took ${many.parkSeconds.toFixed(1)} s; ` +
      `approving all (16 reviewers' requests in flight) until every call returned took ${many.drainSeconds.toFixed(1)} s.`,
  ].join('\n');
  return {
    title: 'ext-auth: Check overhead, release latency, many parked calls',
    markdown,
    summary: [
      ['ext-auth pass-through Check, 16 in flight (client, gate and baseline in processes of their own)', `${rate(gate.perSecond)}, p50 ${ms(gate.p50)}`, `bare grpc-js server: ${rate(baseline.perSecond)}, p50 ${ms(baseline.p50)} (${(gate.perSecond / baseline.perSecond).toFixed(2)}× its rate)`],
      ['reviewer decision → held Check returns (embedded)', `p50 ${ms(release.p50)}, p99 ${ms(release.p99)}`, 'see the replicas row for PostgreSQL'],
      [`${PARKED_AT_ONCE.toLocaleString('en')} calls parked at once`, `${many.after.toFixed(0)} MiB resident, parked in ${many.parkSeconds.toFixed(0)} s`, `${many.before.toFixed(0)} MiB idle after a warm-up`],
    ],
  };
}
