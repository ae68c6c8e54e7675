/**
 * The gate's audit entries, appended to the shared tamper-evident chain (shared/audit-chain.ts).
 */
export { GENESIS, chainHash, exportLine, verifyChain, type ChainedEntry } from '../shared/audit-chain.js';

export interface AuditEntry {
  at: string;
  event: string;
  requestId: string | null;
  actor: string | null;
  detail: Record<string, unknown>;
  /** The traceparent of the call the entry is about, when the gateway sent a valid one. */
  traceparent?: string;
}
