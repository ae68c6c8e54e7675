/**
 * `tools/call cluster_db_query` over real HTTP at 1, 16 and 64 concurrent clients, on the
 * embedded engine and on PostgreSQL; the same server's /healthz is the HTTP floor.
 */
import { OrdersDatabase } from '../app/mcp/db/orders.js';
import { mcpApp } from '../app/mcp/server.js';
import { listen, withOps } from '../app/shared/http.js';
import { createLogger } from '../app/shared/log.js';
import { openDatabase } from '../app/shared/sql.js';
import { freshDatabase, postgresReachable } from '../test/helpers/postgres.js';
import { tempDir } from '../test/helpers/temp.js';
import { drive, ms, rate, type LatencySummary } from './stats.js';
import type { BenchSection } from './run.js';

const LEVELS = [1, 16, 64];
const REQUESTS_PER_LEVEL = 2000;
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: { name: 'cluster_db_query', arguments: { sql: 'SELECT * FROM orders' } },
});

async function measure(databaseUrl: string | undefined): Promise<{ level: number; call: LatencySummary; floor: LatencySummary }[]> {
  const dir = tempDir('bench-mcp');
  const sql = await openDatabase({ dataDir: dir.path, databaseUrl });
  const db = await OrdersDatabase.open(sql, { statementTimeoutMs: 5000, rowCap: 500 });
  const server = await listen(withOps(mcpApp({ db, allowedHosts: [] }), { log: createLogger('mcp', 'silent'), ready: () => sql.ping() }), 0, '127.0.0.1');
  const callOnce = async () => {
    const res = await fetch(`${server.url}/public/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: BODY,
    });
    const body = await res.json();
    if (!body.result || body.result.isError) throw new Error(`unexpected answer: ${JSON.stringify(body)}`);
  };
  const floorOnce = async () => {
    await (await fetch(`${server.url}/healthz`)).arrayBuffer();
  };
  await drive(4, 200, callOnce); // warm up the JIT and the connection pool
  const rows = [];
  for (const level of LEVELS) {
    rows.push({ level, call: await drive(level, REQUESTS_PER_LEVEL, callOnce), floor: await drive(level, REQUESTS_PER_LEVEL, floorOnce) });
  }
  await server.close();
  await sql.close();
  dir.remove();
  return rows;
}

export async function run(): Promise<BenchSection> {
  const pg = postgresReachable ? await freshDatabase('hitl_bench_mcp') : null;
  const engines: [string, string | undefined][] = [['embedded (PGlite)', undefined]];
  if (pg) engines.push(['PostgreSQL 127.0.0.1', pg.url]);
  const lines = [
    `${REQUESTS_PER_LEVEL} \`tools/call cluster_db_query\` ("SELECT * FROM orders", 3 rows) per level over loopback HTTP, ` +
      'one stateless MCP exchange each. Compared with `GET /healthz` on the same server in the same run (the HTTP floor).',
    '',
    '| engine | clients | calls/s | p50 | p99 | /healthz/s | /healthz p50 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const summary: BenchSection['summary'] = [];
  for (const [name, url] of engines) {
    for (const { level, call, floor } of await measure(url)) {
      if (level === 16) summary.push([`cluster_db_query on ${name}, 16 clients`, `${rate(call.perSecond)}, p50 ${ms(call.p50)}`, `/healthz on the same server: ${rate(floor.perSecond)}`]);
      lines.push(`| ${name} | ${level} | ${rate(call.perSecond)} | ${ms(call.p50)} | ${ms(call.p99)} | ${rate(floor.perSecond)} | ${ms(floor.p50)} |`);
    }
  }
  await pg?.drop();
  if (!pg) lines.push('', 'PostgreSQL was unreachable; its rows are missing from this run.');
  return { title: 'MCP server: `cluster_db_query` throughput and latency', markdown: lines.join('\n'), summary };
}
