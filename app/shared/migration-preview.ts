/**
 * What a `run_migration` request would do, read from the MCP server's own plan endpoint so
 * the reviewer sees the exact SQL the tool will run, not a description of it.
 */
import { toolsPreviewing } from '../catalogue.js';
import { MIGRATION_PLAN_PATH, type MigrationPlan } from '../contracts/migration-plan.js';

/** The tools whose cards show the SQL they would run: the catalogue says which. */
const PLANNED_TOOLS = new Set(toolsPreviewing('migration-plan'));

/** Whether a request for `toolName` shows a migration plan (of its `version` argument), wherever its card is drawn. */
export const showsMigrationPlan = (toolName: string): boolean => PLANNED_TOOLS.has(toolName);

export type PreviewResult = { ok: true; plan: MigrationPlan } | { ok: false; problem: string };

const TIMEOUT_MS = 2_000;

export class MigrationPreviews {
  constructor(private readonly mcpUrl: string | undefined) {}

  /** Never throws: an unavailable preview is shown as such on the card. */
  async preview(target: unknown): Promise<PreviewResult> {
    if (!this.mcpUrl) return { ok: false, problem: 'no --mcp-url configured, so the SQL cannot be shown' };
    if (typeof target !== 'string') return { ok: false, problem: 'the request names no target version' };
    try {
      const response = await fetch(`${this.mcpUrl}${MIGRATION_PLAN_PATH}?to=${encodeURIComponent(target)}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
      const body = (await response.json()) as MigrationPlan & { error?: string };
      return response.ok ? { ok: true, plan: body } : { ok: false, problem: body.error ?? `the MCP server answered ${response.status}` };
    } catch (err) {
      return { ok: false, problem: `the MCP server could not be asked: ${(err as Error).message}` };
    }
  }

  /** One lookup per distinct target, for rendering a whole queue. */
  async previewsFor(targets: unknown[]): Promise<Map<unknown, PreviewResult>> {
    const distinct = [...new Set(targets)];
    const results = await Promise.all(distinct.map((t) => this.preview(t)));
    return new Map(distinct.map((t, i) => [t, results[i]]));
  }
}
