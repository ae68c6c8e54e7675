/**
 * A tamper-evident audit chain: every entry is stored as the exact JSON text that was hashed,
 * with the hash of the entry before it, so changing, removing or reordering any entry breaks
 * every hash after it. The gate's audit and the agent's decision record both use it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export const GENESIS = '0'.repeat(64);

export interface ChainedEntry {
  seq: number;
  entry: string;
  prevHash: string;
  hash: string;
}

export function chainHash(prevHash: string, entry: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(entry).digest('hex');
}

/**
 * Checks a chain in order; returns the first broken link, or null when every link holds.
 * Sequence numbers run from 1 without a gap, so a removed entry shows even where the
 * links around it were recomputed.
 */
export function verifyChain(entries: Iterable<ChainedEntry>): { seq: number; problem: string } | null {
  let prev = GENESIS;
  let expectedSeq = 1;
  for (const e of entries) {
    if (e.prevHash !== prev) return { seq: e.seq, problem: 'does not follow the entry before it' };
    if (chainHash(e.prevHash, e.entry) !== e.hash) return { seq: e.seq, problem: 'its content does not match its hash' };
    if (e.seq !== expectedSeq) return { seq: e.seq, problem: `sequence number ${e.seq} where ${expectedSeq} was due` };
    expectedSeq += 1;
    prev = e.hash;
  }
  return null;
}

/** One line of the JSONL export: the entry's fields with its place in the chain. */
export function exportLine(e: ChainedEntry): string {
  return JSON.stringify({ seq: e.seq, ...(JSON.parse(e.entry) as object), prevHash: e.prevHash, hash: e.hash, entry: e.entry });
}

/** The chain an exported JSONL file holds, in its order. */
export function readExport(file: string): ChainedEntry[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ChainedEntry);
}

/** What `verify-audit` prints and its exit code: one line saying the chain holds, or where it breaks. */
export function reportChain(entries: ChainedEntry[]): void {
  const broken = verifyChain(entries);
  if (broken) {
    console.error(`audit chain broken at entry ${broken.seq}: ${broken.problem}`);
    process.exitCode = 1;
    return;
  }
  console.log(`audit chain intact: ${entries.length} entries`);
}
