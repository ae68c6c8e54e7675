import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { connectClient, startMcp, toolJson, type McpUnderTest } from '../helpers/mcp.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { tempDir } from '../helpers/temp.js';

interface Context {
  mcp: McpUnderTest;
  publicClient: Client;
  privilegedClient: Client;
  cleanup: () => Promise<void>;
}

/** The same behaviour is required of both engines, so one suite runs against each. */
for (const engine of ['embedded', 'postgres'] as const) {
  const it = engine === 'postgres' ? onPostgres(suite<Context>(`mcp tools on ${engine}`)) : suite<Context>(`mcp tools on ${engine}`);

  it.before(async (ctx) => {
    const dir = tempDir('mcp-tools');
    const pgdb = engine === 'postgres' ? await freshDatabase('hitl_mcp') : undefined;
    // A short statement timeout: the runaway-query case then ends as soon as the server cancels it.
    ctx.mcp = await startMcp({ dataDir: dir.path, databaseUrl: pgdb?.url, rowCap: 100, statementTimeoutMs: 500 });
    ctx.publicClient = await connectClient(`${ctx.mcp.url}/public/mcp`);
    ctx.privilegedClient = await connectClient(`${ctx.mcp.url}/privileged/mcp`);
    ctx.cleanup = async () => {
      await ctx.publicClient.close();
      await ctx.privilegedClient.close();
      await ctx.mcp.close();
      await pgdb?.drop();
      dir.remove();
    };
  });
  it.after(async (ctx) => ctx.cleanup());

  const call = (client: Client, name: string, args: Record<string, unknown>) =>
    client.callTool({ name, arguments: args }).then(toolJson);
  const query = (ctx: Context, sql: string) => call(ctx.publicClient, 'cluster_db_query', { sql });
  const state = async (ctx: Context) => (await fetch(`${ctx.mcp.url}/state`)).json();

  it('each endpoint lists exactly its tools, with annotations', async (ctx) => {
    const pub = (await ctx.publicClient.listTools()).tools;
    const priv = (await ctx.privilegedClient.listTools()).tools;
    assert.equal(pub.map((t) => t.name), ['cluster_db_query', 'truncate_table']);
    assert.equal(priv.map((t) => t.name), ['run_migration']);
    assert.is(pub[0].annotations?.readOnlyHint, true);
    assert.is(pub[1].annotations?.destructiveHint, true);
    assert.is(priv[0].annotations?.destructiveHint, true);
  });

  it('scene 1: reading the orders table shows three rows at schema v2', async (ctx) => {
    const result = await query(ctx, 'SELECT id, customer, amount, status FROM orders ORDER BY id');
    assert.is(result.schema_version, 'v2');
    assert.equal(result.rows, [
      { id: 1, customer: 'acme', amount: '199.00', status: 'paid' },
      { id: 2, customer: 'globex', amount: '42.50', status: 'paid' },
      { id: 3, customer: 'initech', amount: '1800.00', status: 'pending' },
    ]);
    const customers = await query(ctx, 'SELECT name, tier FROM customers ORDER BY name');
    assert.equal(customers.rows.map((r: any) => r.tier), ['gold', 'silver', 'bronze']);
  });

  it('values read the same on both engines', async (ctx) => {
    const result = await query(ctx, `SELECT (SELECT count(*) FROM orders) AS n, 9007199254740993::int8 AS big, 1.50::numeric(4, 2) AS price, '{"a": [1]}'::jsonb AS doc`);
    assert.equal(result.rows, [{ n: 3, big: '9007199254740993', price: '1.50', doc: { a: [1] } }]);
  });

  it('the row cap truncates and says so', async (ctx) => {
    const result = await query(ctx, 'SELECT g FROM generate_series(1, 1000) AS g');
    assert.is(result.rows.length, 100);
    assert.is(result.truncated, true);
  });

  it('writes, DDL and multi-statement tricks are refused and change nothing', async (ctx) => {
    const attempts = [
      `INSERT INTO orders (id, customer, amount, status) VALUES (9, 'acme', 1, 'paid')`,
      `UPDATE orders SET amount = 0`,
      `DELETE FROM orders`,
      `DROP TABLE orders`,
      `TRUNCATE orders`,
      `SELECT 1; DROP TABLE orders`,
      `SELECT 1; DELETE FROM orders`,
      `WITH gone AS (DELETE FROM orders RETURNING *) SELECT * FROM gone`,
      `WITH changed AS (UPDATE orders SET status = 'x' RETURNING *) SELECT count(*) FROM changed`,
      `SELECT * FROM orders FOR UPDATE`,
      `SELECT nextval('audit_log_id_seq')`,
      `CREATE TABLE evil (x int)`,
      `COMMIT; DROP TABLE orders`,
      `SET TRANSACTION READ WRITE`,
      `SELECT 1) ; DROP TABLE orders; --`,
    ];
    for (const sql of attempts) {
      const result = await query(ctx, sql);
      assert.ok(result.error?.startsWith('query refused:'), `${sql} → ${JSON.stringify(result)}`);
    }
    const after = await state(ctx);
    assert.equal(after.row_counts, { orders: 3, customers: 3 });
    assert.is(after.schema_version, 'v2');
    assert.is(after.audit.length, 0);
  });

  it('bad input gets protocol errors and the server stays up', async (ctx) => {
    const post = (body: string) =>
      fetch(`${ctx.mcp.url}/public/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body,
      });
    const malformed = await post('{"jsonrpc": "2.0", "id": 1, "method": ');
    assert.is(malformed.status, 400);
    assert.is((await malformed.json()).error.code, -32700);

    const unknown = await call(ctx.publicClient, 'run_migration', { version: 'v3' });
    assert.match(unknown.error, /run_migration/);
    const wrongType = await call(ctx.publicClient, 'cluster_db_query', { sql: 42 });
    assert.ok(wrongType.error, 'a number for sql is refused');
    const huge = await call(ctx.publicClient, 'cluster_db_query', { sql: `SELECT '${'x'.repeat(20_000)}'` });
    assert.ok(huge.error, 'oversized SQL is refused');
    const oversizedBody = await post(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'ping', params: { pad: 'x'.repeat(2 * 1024 * 1024) } }));
    assert.is(oversizedBody.status, 413);

    assert.is((await query(ctx, 'SELECT 1 AS one')).rows[0].one, 1);
    assert.equal((await state(ctx)).row_counts, { orders: 3, customers: 3 });
  });

  // PGlite runs statements on the one thread that would have to interrupt them: PostgreSQL
  // only, and counted as skipped on the embedded engine rather than left out unseen.
  (engine === 'postgres' ? it : it.skip)('a runaway query is stopped by the statement timeout', async (ctx) => {
    const result = await query(ctx, 'SELECT pg_sleep(30)');
    assert.match(result.error, /statement timeout/);
  });

  it('a foreign Host or Origin is refused (DNS rebinding)', async (ctx) => {
    const port = new URL(ctx.mcp.url).port;
    const byHost = await rawGet(port, '/state', { host: 'attacker.example' });
    assert.is(byHost, 403);
    const byOrigin = await rawGet(port, '/state', { host: `localhost:${port}`, origin: 'http://attacker.example' });
    assert.is(byOrigin, 403);
    assert.is(await rawGet(port, '/state', { host: `localhost:${port}` }), 200);
  });

  it('migrations: plan previews exactly what run_migration applies, round trip v2→v4→v1→v2', async (ctx) => {
    const plan = await (await fetch(`${ctx.mcp.url}/migrations/plan?to=v4`)).json();
    assert.equal(plan.steps.map((s: any) => `${s.version}:${s.direction}`), ['v3:up', 'v4:up']);
    assert.match(plan.steps[0].sql[0], /ADD COLUMN currency/);

    const up = await call(ctx.privilegedClient, 'run_migration', { version: 'v4' });
    assert.equal([up.migrated, up.from, up.to], [true, 'v2', 'v4']);
    const columns = await query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`);
    assert.equal(columns.rows.map((r: any) => r.column_name), ['id', 'customer', 'amount', 'status', 'created_at', 'currency']);
    const indexes = await query(ctx, `SELECT indexname FROM pg_indexes WHERE tablename = 'orders' AND indexname = 'orders_status_idx'`);
    assert.is(indexes.rows.length, 1);
    const emptyPlan = await (await fetch(`${ctx.mcp.url}/migrations/plan?to=v4`)).json();
    assert.equal(emptyPlan.steps, []);

    const again = await call(ctx.privilegedClient, 'run_migration', { version: 'v4' });
    assert.is(again.migrated, false);
    assert.match(again.message, /already at v4/);

    const downPlan = await (await fetch(`${ctx.mcp.url}/migrations/plan?to=v1`)).json();
    assert.equal(downPlan.steps.map((s: any) => `${s.version}:${s.direction}`), ['v4:down', 'v3:down', 'v2:down']);
    const down = await call(ctx.privilegedClient, 'run_migration', { version: 'v1' });
    assert.equal([down.from, down.to], ['v4', 'v1']);
    const v1Columns = await query(ctx, `SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY ordinal_position`);
    assert.equal(v1Columns.rows.map((r: any) => r.column_name), ['id', 'customer', 'amount', 'status']);

    const back = await call(ctx.privilegedClient, 'run_migration', { version: 'v2' });
    assert.equal([back.from, back.to], ['v1', 'v2']);
    const final = await state(ctx);
    assert.is(final.schema_version, 'v2');
    assert.is(final.row_counts.orders, 3, 'rows survive the round trip');
  });

  it('unknown migration versions and tables are errors naming the valid ones', async (ctx) => {
    const badVersion = await call(ctx.privilegedClient, 'run_migration', { version: 'v9' });
    assert.match(badVersion.error, /valid versions: v1, v2, v3, v4/);
    const badPlan = await fetch(`${ctx.mcp.url}/migrations/plan?to=v9`);
    assert.is(badPlan.status, 400);
    const badTable = await call(ctx.publicClient, 'truncate_table', { table: 'users; DROP TABLE orders' });
    assert.match(badTable.error, /valid tables: orders, customers/);
    assert.is((await state(ctx)).row_counts.orders, 3);
  });

  it('a delete the database refuses rolls back and leaves no audit row', async (ctx) => {
    const result = await call(ctx.publicClient, 'truncate_table', { table: 'customers' });
    assert.match(result.error, /nothing was deleted/);
    const after = await state(ctx);
    assert.equal(after.row_counts, { orders: 3, customers: 3 }, 'orders still reference every customer');
    assert.equal(after.audit.map((r: any) => r.tool), ['run_migration', 'run_migration', 'run_migration', 'run_migration']);
  });

  it('scene 2: truncate_table deletes every row; plain approval headers are not believed', async (ctx) => {
    const approved = await connectClient(`${ctx.mcp.url}/public/mcp`, {
      'x-user-id': 'alice',
      'x-hitl-approval-id': 'req-42',
      'x-hitl-approved-by': 'dba-bob',
    });
    const result = await call(approved, 'truncate_table', { table: 'orders' });
    await approved.close();
    assert.equal(result, { truncated: 'orders', rows_deleted: 3 });
    const after = await state(ctx);
    assert.is(after.row_counts.orders, 0);
    const [row] = after.audit;
    assert.equal(
      [row.tool, row.args, row.outcome.rows_deleted, row.requested_by, row.approval_id, row.approved_by],
      ['truncate_table', { table: 'orders' }, 3, 'alice', null, null],
    );
  });

  it.run();
}

async function rawGet(port: string, path: string, headers: Record<string, string>): Promise<number> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, setHost: false }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    req.on('error', reject);
    req.end();
  });
}
