/**
 * The orders database behind the ops tools: real SQL on PGlite or PostgreSQL, with every
 * change and its audit row committed in one transaction.
 */
import type { Sql, SqlSession } from '../../shared/sql.js';
import type { MigrationPlan, MigrationStep } from '../../contracts/migration-plan.js';
import { floorVersion, plan, versions } from './migrations.js';

/** The version a fresh database is brought to, with the seed rows. */
const SEED_VERSION = 'v2';
export const TABLES = ['orders', 'customers'] as const;
const AUDIT_ROWS_SHOWN = 50;
/** Serialises schema changes across every process sharing one PostgreSQL. */
const SCHEMA_LOCK = 72_410_001;

/** A failure the caller caused; its message is shown to the agent as a tool error. */
export class ToolError extends Error {}

/** An approval a signed token proved: its single-use id and who gave it. */
export interface ProvenApproval {
  id: string;
  approvers: string[];
}

/** Who asked for a change and who approved it, as far as signed tokens prove it. */
export interface CallContext {
  requestedBy?: string;
  /** A platform reviewer's approval. */
  approval?: ProvenApproval;
  /** The end user's own approval in the chat. */
  userApproval?: ProvenApproval;
  /** The trace of the gated call ext-auth let through, as it passed it on. */
  traceparent?: string;
}

export interface QueryLimits {
  /** Enforced by PostgreSQL; PGlite runs single-threaded and cannot interrupt a statement. */
  statementTimeoutMs: number;
  rowCap: number;
}

export interface AuditRow {
  id: number;
  at: string;
  tool: string;
  args: unknown;
  outcome: unknown;
  requested_by: string | null;
  approval_id: string | null;
  approved_by: string | null;
  user_approval_id: string | null;
  user_approved_by: string | null;
  traceparent: string | null;
}

export class OrdersDatabase {
  private constructor(
    private readonly sql: Sql,
    private readonly limits: QueryLimits,
  ) {}

  static async open(sql: Sql, limits: QueryLimits): Promise<OrdersDatabase> {
    const db = new OrdersDatabase(sql, limits);
    await db.bootstrap();
    return db;
  }

  /** Creates the bookkeeping tables and, on an empty database, the schema at v2 with seed rows. */
  private async bootstrap(): Promise<void> {
    await this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
      await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
        version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`);
      await tx.query(`CREATE TABLE IF NOT EXISTS audit_log (
        id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), tool text NOT NULL,
        args jsonb NOT NULL, outcome jsonb NOT NULL, requested_by text, approval_id text, approved_by text)`);
      await tx.query(`ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS user_approval_id text`);
      await tx.query(`ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS user_approved_by text`);
      await tx.query(`ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS traceparent text`);
      // An approval runs one call once: a second change under the same id cannot commit.
      await tx.query(`CREATE UNIQUE INDEX IF NOT EXISTS audit_log_approval_once ON audit_log (approval_id)`);
      await tx.query(`CREATE UNIQUE INDEX IF NOT EXISTS audit_log_user_approval_once ON audit_log (user_approval_id)`);
      if ((await currentVersion(tx)) !== null) return;
      await applySteps(tx, plan(null, SEED_VERSION));
      await tx.query(`INSERT INTO customers (name, tier) VALUES ('acme', 'gold'), ('globex', 'silver'), ('initech', 'bronze')`);
      await tx.query(`INSERT INTO orders (id, customer, amount, status) VALUES
        (1, 'acme', 199.00, 'paid'), (2, 'globex', 42.50, 'paid'), (3, 'initech', 1800.00, 'pending')`);
    });
  }

  async schemaVersion(): Promise<string> {
    return (await currentVersion(this.sql)) ?? 'none';
  }

  /**
   * Runs one read-only query. Three layers refuse writes: the extended protocol takes one
   * statement only, a cursor accepts only SELECT/VALUES without data-modifying CTEs, and the
   * transaction is READ ONLY, so the database itself rejects anything that would write.
   */
  async query(text: string): Promise<{ rows: Record<string, unknown>[]; truncated: boolean; schema_version: string }> {
    try {
      return await this.sql.transaction(async (tx) => {
        await tx.query('SET TRANSACTION READ ONLY');
        // Stryker disable next-line ConditionalExpression: PGlite accepts the setting but, single-threaded, never interrupts a statement, so setting it there too changes nothing
        if (this.sql.engine === 'postgres') {
          await tx.query(`SELECT set_config('statement_timeout', $1, true)`, [String(this.limits.statementTimeoutMs)]);
        }
        await tx.query(`DECLARE hitl_query NO SCROLL CURSOR FOR ${text}`);
        const fetched = await tx.query(`FETCH FORWARD ${this.limits.rowCap + 1} FROM hitl_query`);
        const truncated = fetched.rows.length > this.limits.rowCap;
        const rows = fetched.rows.slice(0, this.limits.rowCap).map(jsonRow);
        return { rows, truncated, schema_version: (await currentVersion(tx)) ?? 'none' };
      });
    } catch (err) {
      throw new ToolError(`query refused: ${(err as Error).message}`);
    }
  }

  async truncate(table: string, call: CallContext): Promise<{ truncated: string; rows_deleted: number }> {
    if (!(TABLES as readonly string[]).includes(table)) {
      throw new ToolError(`unknown table ${JSON.stringify(table)}; valid tables: ${TABLES.join(', ')}`);
    }
    try {
      return await this.sql.transaction(async (tx) => {
        await claimApprovals(tx, call);
        const deleted = await tx.query(`DELETE FROM ${table}`);
        const result = { truncated: table, rows_deleted: deleted.rowCount };
        await audit(tx, 'truncate_table', { table }, result, call);
        return result;
      });
    } catch (err) {
      if (err instanceof ToolError) throw err;
      throw new ToolError(`truncate of ${table} failed, nothing was deleted: ${(err as Error).message}`);
    }
  }

  async migrate(to: string, call: CallContext): Promise<{ migrated: boolean; from: string; to: string; message: string }> {
    checkTarget(to);
    try {
      return await this.sql.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
        await claimApprovals(tx, call);
        const from = (await currentVersion(tx)) ?? 'none';
        const steps = plan(from, to);
        await applySteps(tx, steps);
        const result = {
          migrated: steps.length > 0,
          from,
          to,
          message: steps.length ? `migrated ${from} → ${to} in ${steps.length} step(s)` : `already at ${to}; nothing to do`,
        };
        await audit(tx, 'run_migration', { version: to }, result, call);
        return result;
      });
    } catch (err) {
      if (err instanceof ToolError) throw err;
      throw new ToolError(`migration to ${to} failed and was rolled back: ${(err as Error).message}`);
    }
  }

  /** What `migrate(to)` would run from the current version, without running it. */
  async plan(to: string): Promise<MigrationPlan> {
    checkTarget(to);
    const from = (await currentVersion(this.sql)) ?? 'none';
    return { from, to, steps: plan(from, to) };
  }

  async state(): Promise<{ schema_version: string; row_counts: Record<string, number>; audit: AuditRow[] }> {
    const row_counts: Record<string, number> = {};
    for (const table of TABLES) {
      const { rows } = await this.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
      row_counts[table] = rows[0].n;
    }
    // Ordered by the table's column, so the primary key serves it; the `id::int` output column would need a sort of every row.
    const { rows } = await this.sql.query<AuditRow>(
      `SELECT id::int AS id, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at, tool, args, outcome,
              requested_by, approval_id, approved_by, user_approval_id, user_approved_by, traceparent
         FROM audit_log ORDER BY audit_log.id DESC LIMIT $1`,
      [AUDIT_ROWS_SHOWN],
    );
    return { schema_version: await this.schemaVersion(), row_counts, audit: rows };
  }
}

function checkTarget(to: string): void {
  if (!versions.includes(to)) {
    throw new ToolError(`unknown version ${JSON.stringify(to)}; valid versions: ${versions.join(', ')}`);
  }
  // Stryker disable next-line ConditionalExpression,StringLiteral: the floor is the first version, so no known version lies below it yet; the check keeps a later floor from being forgotten
  if (versions.indexOf(to) < versions.indexOf(floorVersion)) throw new ToolError(`cannot migrate below ${floorVersion}`);
}

async function currentVersion(db: SqlSession): Promise<string | null> {
  const exists = await db.query<{ present: boolean }>(`SELECT to_regclass('schema_migrations') IS NOT NULL AS present`);
  if (!exists.rows[0].present) return null;
  const { rows } = await db.query<{ version: string }>(
    `SELECT version FROM schema_migrations ORDER BY substring(version FROM 2)::int DESC LIMIT 1`,
  );
  return rows[0]?.version ?? null;
}

async function applySteps(tx: SqlSession, steps: MigrationStep[]): Promise<void> {
  for (const step of steps) {
    for (const statement of step.sql) await tx.query(statement);
    if (step.direction === 'up') await tx.query('INSERT INTO schema_migrations (version) VALUES ($1)', [step.version]);
    else await tx.query('DELETE FROM schema_migrations WHERE version = $1', [step.version]);
  }
}

/**
 * Refuses an approval that already ran a change, inside the change's own transaction. Two
 * concurrent uses can both pass this look; the unique indexes then fail the second commit.
 */
async function claimApprovals(tx: SqlSession, call: CallContext): Promise<void> {
  const uses: [string, ProvenApproval | undefined][] = [['approval_id', call.approval], ['user_approval_id', call.userApproval]];
  for (const [column, approval] of uses) {
    if (!approval) continue;
    const { rows } = await tx.query(`SELECT 1 FROM audit_log WHERE ${column} = $1`, [approval.id]);
    if (rows.length) throw new ToolError(`approval ${approval.id} was already used; an approval runs one call once; nothing was run`);
  }
}

async function audit(tx: SqlSession, tool: string, args: unknown, outcome: unknown, call: CallContext): Promise<void> {
  await tx.query(
    `INSERT INTO audit_log (tool, args, outcome, requested_by, approval_id, approved_by, user_approval_id, user_approved_by, traceparent)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      tool,
      JSON.stringify(args),
      JSON.stringify(outcome),
      call.requestedBy ?? null,
      call.approval?.id ?? null,
      call.approval?.approvers.join(', ') ?? null,
      call.userApproval?.id ?? null,
      call.userApproval?.approvers.join(', ') ?? null,
      call.traceparent ?? null,
    ],
  );
}

/** Rows leave as JSON: big integers and decimals as strings when a number would lose precision. */
function jsonRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) out[key] = jsonValue(value);
  return out;
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(jsonValue);
  return value;
}
