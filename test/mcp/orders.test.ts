/**
 * The orders database on its own, on PostgreSQL: what a fresh database holds, what a read-only
 * query may see, and how every change is audited with the approvals that allowed it, each
 * approval running one change once.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { OrdersDatabase, ToolError, type CallContext } from '../../app/mcp/db/orders.js';
import { openDatabase, type Sql } from '../../app/shared/sql.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';

interface Ctx {
  sql: Sql;
  db: OrdersDatabase;
  drop: () => Promise<void>;
}

const it = onPostgres(suite<Ctx>('the orders database on PostgreSQL'));

it.before(async (ctx) => {
  const database = await freshDatabase('hitl_orders');
  ctx.sql = await openDatabase({ dataDir: '', databaseUrl: database.url });
  ctx.drop = database.drop;
});
// Each case starts from an empty schema, opened as a fresh database would be.
it.before.each(async (ctx) => {
  await ctx.sql.query('DROP SCHEMA public CASCADE');
  await ctx.sql.query('CREATE SCHEMA public');
  ctx.db = await OrdersDatabase.open(ctx.sql, { statementTimeoutMs: 300, rowCap: 3 });
});
it.after(async (ctx) => {
  await ctx.sql.close();
  await ctx.drop();
});

/** Asserts `work` fails with a ToolError whose message matches `expected`. */
async function refused(work: Promise<unknown>, expected: RegExp) {
  try {
    await work;
  } catch (err) {
    assert.instance(err, ToolError);
    assert.match((err as Error).message, expected);
    return;
  }
  assert.unreachable(`should have been refused with ${expected}`);
}

const approved: CallContext = {
  requestedBy: 'erin',
  approval: { id: 'approval-1', approvers: ['bob', 'carol'] },
  userApproval: { id: 'user-approval-1', approvers: ['erin'] },
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
};

it('a fresh database is at v2 with three customers and three orders, and opening it again adds nothing', async (ctx) => {
  assert.equal(await ctx.db.state(), { schema_version: 'v2', row_counts: { orders: 3, customers: 3 }, audit: [] });
  await OrdersDatabase.open(ctx.sql, { statementTimeoutMs: 300, rowCap: 3 });
  assert.equal((await ctx.db.state()).row_counts, { orders: 3, customers: 3 });
  assert.is(await ctx.db.schemaVersion(), 'v2');
});

it('a query returns at most the row cap, says whether rows were left out, and names the schema version', async (ctx) => {
  assert.equal(await ctx.db.query('SELECT id FROM orders ORDER BY id'), { rows: [{ id: 1 }, { id: 2 }, { id: 3 }], truncated: false, schema_version: 'v2' });
  assert.equal(await ctx.db.query('SELECT g FROM generate_series(1, 4) AS g'), { rows: [{ g: 1 }, { g: 2 }, { g: 3 }], truncated: true, schema_version: 'v2' });
});

it('values leave as JSON: big integers as strings, times as ISO text, bytes as base64, arrays element by element', async (ctx) => {
  const { rows } = await ctx.db.query(
    `SELECT 42::int8 AS small, 9007199254740993::int8 AS big, ARRAY['2026-01-02T03:04:05.678Z'::timestamptz] AS list,
            '2026-01-02T03:04:05.678Z'::timestamptz AS at, '\\x01ff'::bytea AS bytes, 'plain' AS text`,
  );
  assert.equal(rows, [{ small: 42, big: '9007199254740993', list: ['2026-01-02T03:04:05.678Z'], at: '2026-01-02T03:04:05.678Z', bytes: 'Af8=', text: 'plain' }]);
});

it('a query runs read-only: what the cursor lets through, the transaction still refuses', async (ctx) => {
  await refused(ctx.db.query(`SELECT nextval('audit_log_id_seq')`), /^query refused: .*read-only transaction/);
  await refused(ctx.db.query('DELETE FROM orders'), /^query refused: /);
});

it('a runaway query is cancelled by the statement timeout', async (ctx) => {
  await refused(ctx.db.query('SELECT pg_sleep(30)'), /^query refused: .*statement timeout/);
});

it('a truncate deletes every row of a known table and audits who asked, who approved and the trace', async (ctx) => {
  assert.equal(await ctx.db.truncate('orders', approved), { truncated: 'orders', rows_deleted: 3 });
  const state = await ctx.db.state();
  assert.equal(state.row_counts, { orders: 0, customers: 3 });
  const [row] = state.audit;
  assert.match(row.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal({ ...row, at: undefined }, {
    id: 1,
    at: undefined,
    tool: 'truncate_table',
    args: { table: 'orders' },
    outcome: { truncated: 'orders', rows_deleted: 3 },
    requested_by: 'erin',
    approval_id: 'approval-1',
    approved_by: 'bob, carol',
    user_approval_id: 'user-approval-1',
    user_approved_by: 'erin',
    traceparent: approved.traceparent,
  });
});

it('a change without approvals is audited with empty approval fields', async (ctx) => {
  await ctx.db.truncate('orders', {});
  const [row] = (await ctx.db.state()).audit;
  assert.equal([row.requested_by, row.approval_id, row.approved_by, row.user_approval_id, row.user_approved_by, row.traceparent], [null, null, null, null, null, null]);
});

it('an unknown table is refused, naming the valid ones', async (ctx) => {
  await refused(ctx.db.truncate('audit_log', {}), /^unknown table "audit_log"; valid tables: orders, customers$/);
  assert.equal((await ctx.db.state()).audit, []);
});

it('a delete the database refuses is rolled back, says nothing was deleted, and leaves no audit row', async (ctx) => {
  await refused(ctx.db.truncate('customers', approved), /^truncate of customers failed, nothing was deleted: .*foreign key/);
  const state = await ctx.db.state();
  assert.equal(state.row_counts, { orders: 3, customers: 3 });
  assert.equal(state.audit, []);
});

it('a platform approval or an end-user approval runs one change once', async (ctx) => {
  await ctx.db.truncate('orders', approved);
  await refused(ctx.db.truncate('orders', { approval: approved.approval }), /^approval approval-1 was already used; an approval runs one call once; nothing was run$/);
  await refused(ctx.db.migrate('v3', { userApproval: approved.userApproval }), /^approval user-approval-1 was already used/);
  await refused(ctx.db.migrate('v3', { approval: { id: 'approval-2', approvers: ['bob'] }, userApproval: approved.userApproval }), /^approval user-approval-1 was already used/);
  const state = await ctx.db.state();
  assert.is(state.schema_version, 'v2');
  assert.is(state.audit.length, 1);
});

it('a migration moves the schema step by step either way, says what it did, and is audited', async (ctx) => {
  assert.equal(await ctx.db.plan('v4'), {
    from: 'v2',
    to: 'v4',
    steps: [
      { version: 'v3', direction: 'up', summary: 'orders.currency', sql: [`ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'USD'`] },
      { version: 'v4', direction: 'up', summary: 'index on orders.status', sql: ['CREATE INDEX orders_status_idx ON orders (status)'] },
    ],
  });
  assert.equal(await ctx.db.migrate('v4', approved), { migrated: true, from: 'v2', to: 'v4', message: 'migrated v2 → v4 in 2 step(s)' });
  assert.is(await ctx.db.schemaVersion(), 'v4');
  assert.equal(await ctx.db.migrate('v4', {}), { migrated: false, from: 'v4', to: 'v4', message: 'already at v4; nothing to do' });
  assert.equal(await ctx.db.migrate('v1', {}), { migrated: true, from: 'v4', to: 'v1', message: 'migrated v4 → v1 in 3 step(s)' });
  assert.equal((await ctx.db.query('SELECT * FROM orders WHERE id = 1')).rows, [{ id: 1, customer: 'acme', amount: '199.00', status: 'paid' }]);
  const { audit } = await ctx.db.state();
  assert.equal(audit.map((a) => [a.id, a.tool, a.args]), [[3, 'run_migration', { version: 'v1' }], [2, 'run_migration', { version: 'v4' }], [1, 'run_migration', { version: 'v4' }]]);
  assert.equal(audit[2].outcome, { migrated: true, from: 'v2', to: 'v4', message: 'migrated v2 → v4 in 2 step(s)' });
});

it('an unknown version is refused, naming the valid ones, before anything runs', async (ctx) => {
  await refused(ctx.db.migrate('v9', approved), /^unknown version "v9"; valid versions: v1, v2, v3, v4$/);
  await refused(ctx.db.plan('v0'), /^unknown version "v0"/);
  assert.equal((await ctx.db.state()).audit, []);
});

it('the state shows the newest fifty audit rows, newest first', async (ctx) => {
  await ctx.sql.query(`INSERT INTO audit_log (tool, args, outcome) SELECT 'query', '{}', '{}' FROM generate_series(1, 51)`);
  const { audit } = await ctx.db.state();
  assert.is(audit.length, 50);
  assert.is(audit[0].id, 51);
  assert.is(audit[49].id, 2);
});

it('the database itself refuses a second audit row under one approval, whatever got past the look before it', async (ctx) => {
  await ctx.db.truncate('orders', approved);
  for (const column of ['approval_id', 'user_approval_id']) {
    const id = column === 'approval_id' ? 'approval-1' : 'user-approval-1';
    await ctx.sql.query(`INSERT INTO audit_log (tool, args, outcome, ${column}) VALUES ('truncate_table', '{}', '{}', $1)`, [id]).then(
      () => assert.unreachable(`a second row under ${column} ${id} was stored`),
      (err: Error) => assert.match(err.message, /duplicate key value violates unique constraint/),
    );
  }
});

it('a database without a recorded version says so: none', async (ctx) => {
  await ctx.sql.query('DELETE FROM schema_migrations');
  assert.is(await ctx.db.schemaVersion(), 'none');
  assert.is((await ctx.db.query('SELECT 1 AS one')).schema_version, 'none');
  await ctx.sql.query('DROP TABLE schema_migrations');
  assert.is(await ctx.db.schemaVersion(), 'none');
  assert.is((await ctx.db.plan('v1')).from, 'none');
});

it('a database that lost its version record and its tables is migrated from none, every step up', async (ctx) => {
  await ctx.sql.query('DELETE FROM schema_migrations');
  await ctx.sql.query('DROP TABLE orders, customers');
  assert.equal(await ctx.db.migrate('v2', {}), { migrated: true, from: 'none', to: 'v2', message: 'migrated none → v2 in 2 step(s)' });
  assert.is(await ctx.db.schemaVersion(), 'v2');
});

it('an approval given by several people names each of them, in order, in the audit', async (ctx) => {
  await ctx.db.migrate('v3', { approval: { id: 'approval-9', approvers: ['bob', 'carol'] }, userApproval: { id: 'user-approval-9', approvers: ['erin', 'frank'] } });
  const [row] = (await ctx.db.state()).audit;
  assert.equal([row.approved_by, row.user_approved_by], ['bob, carol', 'erin, frank']);
});

it('a migration the database refuses is rolled back whole, says so, and leaves no audit row', async (ctx) => {
  await ctx.sql.query('ALTER TABLE orders ADD COLUMN currency text');
  await refused(ctx.db.migrate('v4', approved), /^migration to v4 failed and was rolled back: .*"currency" .*already exists/);
  const state = await ctx.db.state();
  assert.is(state.schema_version, 'v2');
  assert.equal(state.audit, []);
  await ctx.db.truncate('orders', approved);
  assert.is((await ctx.db.state()).audit.length, 1, 'the approval was not used up by the failed migration');
});

it.run();
