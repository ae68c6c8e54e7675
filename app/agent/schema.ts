import type { Sql } from '../shared/sql.js';

/** Serialises schema creation when several agent replicas start on one PostgreSQL. */
const SCHEMA_LOCK = 72_410_101;

/** The agent's tables: A2A tasks, the decision audit chain, and LangGraph threads (checkpoints and pending writes). */
export async function createAgentTables(sql: Sql): Promise<void> {
  await sql.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS agent_tasks (id text PRIMARY KEY, task text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
    // Who each task belongs to; tasks stored before owners were recorded belong to nobody.
    await tx.query(`ALTER TABLE agent_tasks ADD COLUMN IF NOT EXISTS owner text`);
    await tx.query(`CREATE INDEX IF NOT EXISTS agent_tasks_owner ON agent_tasks (owner, updated_at)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS agent_audit (seq bigint PRIMARY KEY, entry text NOT NULL, prev_hash text NOT NULL, hash text NOT NULL)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS agent_threads (thread_id text PRIMARY KEY, state text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`);
  });
}
