/**
 * The MCP server's migration plan, as the approval UI shows it on a `run_migration` card: the
 * exact statements the tool would run, so a reviewer approves SQL, not a description of it.
 */

/** `GET /migrations/plan?to=<version>` on the MCP server. */
export const MIGRATION_PLAN_PATH = '/migrations/plan';

export interface MigrationStep {
  version: string;
  direction: 'up' | 'down';
  summary: string;
  sql: string[];
}

/** The answer: from the applied version to `to`, in order (400 with an `error` for an unknown version). */
export interface MigrationPlan {
  from: string;
  to: string;
  steps: MigrationStep[];
}
