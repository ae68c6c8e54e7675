/**
 * The gate under load, against the built binary with the gRPC client in a process of its own:
 * how fast calls park and are released, what a parked call costs in memory, and whether one
 * requester's flood delays another requester's call. Every figure has its comparison from the
 * same run. HITL_BENCH_PARKS sets how many calls park at once (10,000); HITL_BENCH_BINARY runs
 * another build of the binary, to compare two versions on one machine.
 *
 * Memory is read from inside the server after a forced collection (heap-probe.mjs), so a figure
 * per parked call counts what the calls keep, not garbage the collector has not reached yet.
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { admin, writeTokensFile } from '../test/helpers/ext-auth.js';
import { BINARY, startBinary } from '../test/helpers/process.js';
import { tempDir } from '../test/helpers/temp.js';
import { monotonicMs, type ClientCommand, type ClientReport } from './check-client.js';
import { resent } from './resent.js';
import { drive, ms, summarise } from './stats.js';
import type { BenchSection } from './run.js';

const PARKS = Number(process.env.HITL_BENCH_PARKS ?? 10_000);
const COMPARED = Math.min(2000, PARKS);
const RELEASES = 200;
const FLOOD = 2000;
const PER_REQUESTER = 20;
/** Each flood figure is the median of this many floods. */
const FLOOD_ROUNDS = 3;
const HEAP_PROBE = new URL('./heap-probe.mjs', import.meta.url).pathname;
const binary = process.env.HITL_BENCH_BINARY ?? BINARY;

function startClient() {
  const child = fork(new URL('./check-client.ts', import.meta.url).pathname, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const waiters: { predicate: (r: ClientReport) => boolean; resolve: (r: ClientReport) => void }[] = [];
  child.on('message', (report: ClientReport) => {
    if (report.op === 'failed') console.error(`a Check failed: ${report.message}`);
    for (const waiter of [...waiters]) {
      if (waiter.predicate(report)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(report);
      }
    }
  });
  const next = <R,>(predicate: (r: ClientReport) => boolean) => new Promise<R>((resolve) => waiters.push({ predicate, resolve: resolve as (r: ClientReport) => void }));
  return {
    send: (command: ClientCommand) => child.send(command),
    next,
    /** Resolves when `count` calls of `tag` have been answered, with the time of the last. */
    answered(tag: string, count: number, status?: string): Promise<number> {
      let seen = 0;
      return new Promise((resolve) =>
        waiters.push({
          predicate: (r) => r.op === 'answered' && r.tag === tag && (!status || r.status === status) && ++seen === count,
          resolve: (r) => resolve((r as { at: number }).at),
        }),
      );
    },
    stop: () => child.disconnect(),
  };
}

/** What the server holds after a forced collection, in bytes (heap-probe.mjs). */
interface HeapProbe {
  heapUsed: number;
  external: number;
  rss: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * CPU time the process has used, in ms: what a call costs the gate whatever else the machine
 * runs, where wall-clock times stretch with the machine's load.
 */
function cpuMs(pid: number): number {
  // Fields after the command name, which is in parentheses: utime and stime are the 12th and 13th.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}
const CLOCK_TICKS_PER_SECOND = 100;

/** Transactions the store's writer committed so far, and the changes they held. */
async function batches(url: string): Promise<{ count: number; changes: number }> {
  const metrics = await (await resent(() => fetch(`${url}/metrics`))).text();
  const figure = (name: string) => Number(new RegExp(`^hitl_store_batch_size_${name} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0);
  return { count: figure('count'), changes: figure('sum') };
}

/** Waits until the server holds `count` parked calls, each acknowledged after its commit. */
async function heldAtLeast(url: string, count: number): Promise<void> {
  for (;;) {
    const metrics = await (await resent(() => fetch(`${url}/metrics`))).text();
    if (Number(/^hitl_pending_requests (\d+)/m.exec(metrics)?.[1] ?? 0) >= count) return;
    await delay(20);
  }
}

export async function run(): Promise<BenchSection> {
  const dir = tempDir('bench-gate-load');
  const server = startBinary(
    [
      'ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--data-dir', `${dir.path}/data`, '--tokens-file', writeTokensFile(dir.path),
      '--max-pending', String(PARKS + 1000), '--max-pending-per-requester', String(PER_REQUESTER),
    ],
    { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --expose-gc --import ${HEAP_PROBE}`.trim() },
    { binary },
  );
  const { url, grpcPort: port } = (await server.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
  const client = startClient();
  // A second gateway pod: its own process, so its own connection to the gate.
  const otherGateway = startClient();
  const reviewer = admin(url, 'bob');
  const pid = server.child.pid!;
  let probes = 0;
  const probe = async (): Promise<HeapProbe> => {
    const n = ++probes;
    server.child.kill('SIGUSR2');
    return (await server.waitForLog((l) => l.msg === 'heap probe' && l.n === n)) as unknown as HeapProbe;
  };

  /** Parks `count` calls of distinct requesters; seconds until all are held, and until all are approved and returned. */
  const parkAndApprove = async (tag: string, count: number, beforeApproving?: () => Promise<void>) => {
    const sent = client.next<{ op: 'sent'; tag: string; at: number }>((r) => r.op === 'sent' && r.tag === tag);
    client.send({ op: 'calls', port, tag, count });
    const allAnswered = client.answered(tag, count);
    const before = await batches(url);
    const cpuBefore = cpuMs(pid);
    const started = (await sent).at;
    await heldAtLeast(url, count);
    const parkSeconds = (monotonicMs() - started) / 1000;
    const cpuParked = cpuMs(pid);
    const after = await batches(url);
    const parkBatch = (after.changes - before.changes) / Math.max(1, after.count - before.count);
    await beforeApproving?.();
    const ids: string[] = (await (await resent(() => reviewer.get('/pending'))).json()).pending.map((p: { id: string }) => p.id);
    const approving = monotonicMs();
    await drive(16, ids.length, async () => {
      const id = ids.pop()!;
      const res = await resent(() => reviewer.decide(id, true));
      if (res.status !== 204) throw new Error(`decision refused: ${res.status}`);
    });
    const approveSeconds = ((await allAnswered) - approving) / 1000;
    const cpuApproved = cpuMs(pid);
    const approved = await batches(url);
    const approveBatch = (approved.changes - after.changes) / Math.max(1, approved.count - after.count);
    return { parkSeconds, approveSeconds, parkBatch, approveBatch, parkCpu: (cpuParked - cpuBefore) / count, approveCpu: (cpuApproved - cpuParked) / count };
  };

  // Warm-up: the embedded engine grows to its working size; the idle baseline is taken after.
  await parkAndApprove('warm', 500);

  const passed = client.next<{ op: 'passed'; seconds: number }>((r) => r.op === 'passed');
  const cpuBeforePass = cpuMs(pid);
  client.send({ op: 'pass', port, total: COMPARED, concurrency: COMPARED });
  const passSeconds = (await passed).seconds;
  const passCpu = (cpuMs(pid) - cpuBeforePass) / COMPARED;
  const compared = await parkAndApprove('compared', COMPARED);

  const idle = await probe();
  let full = idle;
  const many = await parkAndApprove('many', PARKS, async () => {
    full = await probe();
  });

  const releases: number[] = [];
  for (let i = 0; i < RELEASES; i++) {
    const tag = `release-${i}`;
    const answered = client.answered(tag, 1);
    client.send({ op: 'calls', port, tag, count: 1 });
    const { id } = (await server.waitForLog((l) => l.msg === 'parked' && l.requester === `${tag}-0`)) as { id: string };
    const decided = monotonicMs();
    const res = await resent(() => reviewer.decide(id, true));
    if (res.status !== 204) throw new Error(`decision refused: ${res.status}`);
    releases.push((await answered) - decided);
  }
  const release = summarise(releases, 1);

  /** From sending one call of `requester` through `gateway` to the server logging it parked. */
  const parkDelay = async (gateway: typeof client, tag: string, requester: string) => {
    const sent = gateway.next<{ op: 'sent'; at: number }>((r) => r.op === 'sent' && r.tag === tag);
    gateway.send({ op: 'calls', port, tag, count: 1, requester });
    const parked = server.waitForLog((l) => l.msg === 'parked' && l.requester === requester);
    const started = (await sent).at;
    await parked;
    return monotonicMs() - started;
  };
  /** Sends a flood of one requester through the first gateway; resolves when it is sent, and when its refusals are all answered. */
  const flood = async (tag: string) => {
    const refused = client.answered(tag, FLOOD - PER_REQUESTER, 'flood_denied');
    const sent = client.next<{ op: 'sent'; at: number }>((r) => r.op === 'sent' && r.tag === tag);
    client.send({ op: 'calls', port, tag, count: FLOOD, requester: `${tag}-flooder` });
    return { sentAt: (await sent).at, refused };
  };
  // The other gateway's connection is opened before anything is timed on it.
  await parkDelay(otherGateway, 'other-gateway-warm-up', 'other-gateway-warm-up');
  const rounds: { alone: number; otherConnection: number; floor: number; sharedConnection: number; refusalSeconds: number; floodCpu: number }[] = [];
  for (let round = 0; round < FLOOD_ROUNDS; round++) {
    // (a) Another gateway's call, on its own connection, sent while the flood is in flight.
    const alone = await parkDelay(otherGateway, `alone-${round}`, `alone-${round}`);
    const cpuBeforeFlood = cpuMs(pid);
    const first = await flood(`flood-a-${round}`);
    const otherConnection = await parkDelay(otherGateway, `during-${round}`, `during-${round}`);
    const refusalSeconds = ((await first.refused) - first.sentAt) / 1000;
    // Includes the twenty calls of the flood that park and the other requester's.
    const floodCpu = (cpuMs(pid) - cpuBeforeFlood) / FLOOD;
    // (b) The call right behind 2,000 others on the same connection: its floor is the same call
    // behind 2,000 pass-through Checks, which the gate reads and answers as fast as it can.
    const passed = client.next<{ op: 'passed' }>((r) => r.op === 'passed');
    client.send({ op: 'pass', port, total: FLOOD, concurrency: FLOOD });
    const floor = await parkDelay(client, `after-pass-${round}`, `after-pass-${round}`);
    await passed;
    const second = await flood(`flood-b-${round}`);
    const sharedConnection = await parkDelay(client, `after-flood-${round}`, `after-flood-${round}`);
    await second.refused;
    rounds.push({ alone, otherConnection, floor, sharedConnection, refusalSeconds, floodCpu });
  }
  const of = (key: keyof (typeof rounds)[number]) => median(rounds.map((r) => r[key]));
  const [alone, otherConnection, floor, sharedConnection, refusalSeconds, floodCpu] = (['alone', 'otherConnection', 'floor', 'sharedConnection', 'refusalSeconds', 'floodCpu'] as const).map(of);

  client.stop();
  otherGateway.stop();
  await server.stop();
  dir.remove();

  const perCall = (key: keyof HeapProbe) => (full[key] - idle[key]) / 1024 / PARKS;
  const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const n = (x: number) => x.toLocaleString('en');
  const markdown = [
    `One \`hitl ext-auth\` process on the embedded store; the gRPC client runs in a process of its own. Calls come from distinct requesters unless said otherwise.`,
    '',
    '| figure | measured | compared with (same run) |',
    '| --- | --- | --- |',
    `| ${n(COMPARED)} calls parked at once | ${compared.parkSeconds.toFixed(2)} s | ${n(COMPARED)} pass-through Checks at once: ${passSeconds.toFixed(2)} s (${(compared.parkSeconds / passSeconds).toFixed(1)}×) |`,
    `| ${n(PARKS)} calls parked at once | ${many.parkSeconds.toFixed(1)} s (${n(Math.round(PARKS / many.parkSeconds))} parks/s) | ${n(COMPARED)} parked: ${compared.parkSeconds.toFixed(2)} s |`,
    `| approving ${n(PARKS)} (16 reviewer requests in flight) until every held call returned | ${many.approveSeconds.toFixed(1)} s | ${n(COMPARED)}: ${compared.approveSeconds.toFixed(1)} s |`,
    `| server CPU per call: parking, approving (${n(PARKS)}) | ${ms(many.parkCpu)}, ${ms(many.approveCpu)} | a pass-through Check: ${ms(passCpu)}; ${n(COMPARED)} parked: ${ms(compared.parkCpu)}, ${ms(compared.approveCpu)} |`,
    `| server CPU per call of the ${n(FLOOD)}-call flood | ${ms(floodCpu)} | a pass-through Check: ${ms(passCpu)} |`,
    `| changes per transaction of the store's writer, parking and approving ${n(PARKS)} | ${many.parkBatch.toFixed(1)} and ${many.approveBatch.toFixed(1)} | ${n(COMPARED)}: ${compared.parkBatch.toFixed(1)} and ${compared.approveBatch.toFixed(1)} |`,
    `| decision → held Check returns (${RELEASES} calls, one at a time) | p50 ${ms(release.p50)}, p99 ${ms(release.p99)} | |`,
    `| memory per parked call, after a forced collection: JavaScript heap | ${perCall('heapUsed').toFixed(1)} KiB (${mib(idle.heapUsed)} → ${mib(full.heapUsed)} MiB for ${n(PARKS)}) | idle, after a warm-up of 500 and ${n(COMPARED)} parked and approved |`,
    `| memory per parked call: outside the heap (buffers, the embedded store's WebAssembly memory) | ${perCall('external').toFixed(1)} KiB (${mib(idle.external)} → ${mib(full.external)} MiB) | |`,
    `| memory per parked call: resident | ${perCall('rss').toFixed(1)} KiB (${mib(idle.rss)} → ${mib(full.rss)} MiB) | |`,
    `| the flood's ${n(FLOOD - PER_REQUESTER)} refusals, from sending the flood until the last is answered | ${refusalSeconds.toFixed(2)} s | ${n(COMPARED)} pass-through Checks at once: ${passSeconds.toFixed(2)} s |`,
    `| one requester floods ${n(FLOOD)} calls (${PER_REQUESTER} park, ${n(FLOOD - PER_REQUESTER)} refused); another gateway's call, on its own connection, sent while the flood is in flight, is parked after | ${ms(otherConnection)} | the same call with no flood: ${ms(alone)} (${(otherConnection / alone).toFixed(1)}×) |`,
    `| the same flood; another requester's call sent right after it on the same connection is parked after | ${ms(sharedConnection)} | the same call right after ${n(FLOOD)} pass-through Checks on that connection: ${ms(floor)} (${(sharedConnection / floor).toFixed(1)}×) |`,
  ].join('\n');
  return {
    title: 'ext-auth under load: parking, releasing, memory, a flood',
    markdown,
    summary: [
      [`${n(PARKS)} calls parked at once (embedded)`, `${many.parkSeconds.toFixed(1)} s; approving all ${many.approveSeconds.toFixed(1)} s`, `${n(COMPARED)} parked ${compared.parkSeconds.toFixed(2)} s vs ${n(COMPARED)} pass-through ${passSeconds.toFixed(2)} s`],
      ['decision → held Check returns (client in its own process)', `p50 ${ms(release.p50)}, p99 ${ms(release.p99)}`, ''],
      ['memory per parked call (after a forced collection)', `JavaScript heap ${perCall('heapUsed').toFixed(1)} KiB; resident ${perCall('rss').toFixed(1)} KiB`, `${mib(idle.rss)} MiB resident idle`],
      [`another gateway's call during a ${n(FLOOD)}-call flood`, `${ms(otherConnection)} (${(otherConnection / alone).toFixed(1)}×)`, `no flood: ${ms(alone)}`],
      [`another requester's call right after a ${n(FLOOD)}-call flood on the same connection`, `${ms(sharedConnection)} (${(sharedConnection / floor).toFixed(1)}×)`, `right after ${n(FLOOD)} pass-through Checks: ${ms(floor)}`],
    ],
  };
}
