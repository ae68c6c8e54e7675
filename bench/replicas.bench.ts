/**
 * Decision → Check returns when the call is held by one replica and decided on another, over
 * PostgreSQL, against the embedded store on a single replica, in the same run.
 */
import { join } from 'node:path';
import { admin, checkRequest, grpcClient, toolCall, writeTokensFile } from '../test/helpers/ext-auth.js';
import { freshDatabase, postgresReachable } from '../test/helpers/postgres.js';
import { startBinary } from '../test/helpers/process.js';
import { tempDir } from '../test/helpers/temp.js';
import { ms, summarise, type LatencySummary } from './stats.js';
import type { BenchSection } from './run.js';

const CALLS = 200;

async function measure(storage: string[], replicas: number): Promise<LatencySummary> {
  const dir = tempDir('bench-replicas');
  const tokens = writeTokensFile(dir.path);
  const running = [];
  for (let i = 0; i < replicas; i++) {
    const process = startBinary([
      'ext-auth', '--grpc-port', '0', '--admin-port', '0', '--host', '127.0.0.1', '--tokens-file', tokens, '--data-dir', join(dir.path, 'data'), ...storage,
    ]);
    const { url, grpcPort } = (await process.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
    running.push({ process, url, client: grpcClient(grpcPort) });
  }
  const holder = running[0];
  const decider = running[running.length - 1];
  const durations: number[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < CALLS; i++) {
    const call = holder.client.check(checkRequest({ body: toolCall('run_migration', { version: 'v3', ticket: i }, i) }));
    // A call answered before it parks (refused, say) would otherwise leave the bench waiting for a park that never comes.
    const answeredFirst = call.result.then((answer) => {
      throw new Error(`call ${i} was answered without parking: ${answer.toolError?.text ?? `code ${answer.code}`}`);
    });
    const { id } = (await Promise.race([holder.process.waitForLog((l) => l.msg === 'parked' && !seen.has(String(l.id))), answeredFirst])) as { id: string };
    answeredFirst.catch(() => {});
    seen.add(id);
    const started = performance.now();
    const decided = admin(decider.url, 'bob').decide(id, true);
    await call.result;
    durations.push(performance.now() - started);
    await decided;
  }
  for (const r of running) {
    r.client.close();
    await r.process.stop();
  }
  dir.remove();
  return summarise(durations, durations.reduce((a, b) => a + b, 0));
}

export async function run(): Promise<BenchSection> {
  const embedded = await measure([], 1);
  const db = postgresReachable ? await freshDatabase('hitl_bench_replicas') : null;
  const lines = [
    `${CALLS} calls one at a time, each parked and then approved; timed from sending \`POST /decide\` to the held Check's answer. Each server is a \`hitl ext-auth\` process.`,
    '',
    '| store | replicas | held on → decided on | p50 | p99 |',
    '| --- | ---: | --- | ---: | ---: |',
    `| embedded (PGlite) | 1 | the same replica | ${ms(embedded.p50)} | ${ms(embedded.p99)} |`,
  ];
  const summary: BenchSection['summary'] = [];
  if (db) {
    const shared = await measure(['--database-url', db.url], 3);
    summary.push(['decision → release across 3 replicas on PostgreSQL', `p50 ${ms(shared.p50)}, p99 ${ms(shared.p99)}`, `one replica, embedded store: p50 ${ms(embedded.p50)}`]);
    lines.push(`| PostgreSQL (LISTEN/NOTIFY) | 3 | replica 1 → replica 3 | ${ms(shared.p50)} | ${ms(shared.p99)} |`);
    await db.drop();
  } else {
    lines.push('', 'PostgreSQL was unreachable; the replica row is missing from this run.');
  }
  return { title: 'ext-auth replicas: decision → release across replicas', markdown: lines.join('\n'), summary };
}
