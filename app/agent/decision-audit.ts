/**
 * The record of every decision taken in the chat (tier 1): who decided, approve or reject,
 * the reason, the tool and its arguments, and the task, appended to a hash chain in the
 * agent's store (shared/audit-chain.ts) so an edit, a deletion or a reordering shows.
 */
import { GENESIS, chainHash, type ChainedEntry } from '../shared/audit-chain.js';
import type { Sql } from '../shared/sql.js';
import { verdictFor, type ActionRequest, type ApprovalDecision } from './approval-wire.js';

/** Serialises appends, so several agent replicas on one PostgreSQL keep one chain. */
const AUDIT_LOCK = 72_410_102;

export interface DecisionEntry {
  at: string;
  event: 'approved' | 'rejected';
  /** The user who answered the pause (only a task's own user can). */
  decidedBy: string;
  reason: string | null;
  tool: string;
  args: Record<string, unknown>;
  /** The model's id for the call, which the pause showed. */
  callId: string;
  taskId: string;
  contextId: string;
  /** The approval wire the answer came in: hitl/v1 (A2A 1.0) or adk_request_confirmation (0.3). */
  wire: 'extension' | 'legacy';
}

export class DecisionAudit {
  constructor(private readonly sql: Sql) {}

  /** Records the answer to one pause: one entry per paused call, in one transaction. */
  async record(answer: { decision: ApprovalDecision; pending: ActionRequest[]; decidedBy: string; taskId: string; contextId: string; wire: DecisionEntry['wire'] }): Promise<void> {
    const at = new Date().toISOString();
    const entries: DecisionEntry[] = answer.pending.map((call) => {
      const verdict = verdictFor(answer.decision, call.id);
      return {
        at,
        event: verdict.approved ? 'approved' : 'rejected',
        decidedBy: answer.decidedBy,
        reason: verdict.reason ?? null,
        tool: call.name,
        args: call.args,
        callId: call.id,
        taskId: answer.taskId,
        contextId: answer.contextId,
        wire: answer.wire,
      };
    });
    await this.sql.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [AUDIT_LOCK]);
      // Ordered by the table's column: ordering by the `seq::int` output column sorts the whole chain instead of reading one index entry.
      const tip = await tx.query<{ seq: number; hash: string }>(`SELECT seq::int AS seq, hash FROM agent_audit ORDER BY agent_audit.seq DESC LIMIT 1`);
      let prevHash = tip.rows[0]?.hash ?? GENESIS;
      let seq = tip.rows[0]?.seq ?? 0;
      for (const fields of entries) {
        const entry = JSON.stringify(fields);
        const hash = chainHash(prevHash, entry);
        await tx.query(`INSERT INTO agent_audit (seq, entry, prev_hash, hash) VALUES ($1, $2, $3, $4)`, [++seq, entry, prevHash, hash]);
        prevHash = hash;
      }
    });
  }

  async chain(): Promise<ChainedEntry[]> {
    const { rows } = await this.sql.query<{ seq: number; entry: string; prev_hash: string; hash: string }>(
      `SELECT seq::int AS seq, entry, prev_hash, hash FROM agent_audit ORDER BY agent_audit.seq`,
    );
    return rows.map((r) => ({ seq: r.seq, entry: r.entry, prevHash: r.prev_hash, hash: r.hash }));
  }
}
