import type { KeyObject } from 'node:crypto';
import { signHead } from '../shared/audit-proof.js';
import type { Logger } from '../shared/log.js';
import type { ApprovalStore } from './store.js';

/** How often the head of the audit chain is signed while it grows. */
export const CHECKPOINT_INTERVAL_MS = 60_000;

/**
 * Signs the audit chain's head into the store at start, every minute while it grows and at
 * shutdown, so `verify-audit --verify-key` can tell a store whose tail was dropped or whose
 * chain was rewritten and relinked from the one ext-auth wrote.
 */
export async function keepCheckpoints(store: ApprovalStore, key: KeyObject, log: Logger): Promise<{ stop(): Promise<void> }> {
  let signedSeq = -1;
  const checkpoint = async () => {
    const head = await store.auditHead();
    if (!head || head.seq === signedSeq) return;
    await store.saveCheckpoint(head.seq, await signHead(key, head));
    signedSeq = head.seq;
  };
  const safely = () => checkpoint().catch((err) => log.warn({ err: (err as Error).message }, 'could not sign an audit checkpoint'));
  await checkpoint();
  const timer = setInterval(safely, CHECKPOINT_INTERVAL_MS);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await safely();
    },
  };
}
