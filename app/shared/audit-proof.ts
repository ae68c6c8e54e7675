/**
 * What makes an audit chain prove itself, beyond its links: an export's readable fields must
 * be the hashed entry's own, and the head of the chain is signed (an export's trailer, the
 * store's checkpoints). Links alone let whoever holds the file drop its tail or rewrite it and
 * recompute every hash; a head signed with a key the editor does not hold cannot follow.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SignJWT, jwtVerify } from 'jose';
import { canonicalJson } from '../contracts/tool-call.js';
import { verifyChain, type ChainedEntry } from './audit-chain.js';

/** The head of a chain at one moment: its last entry and how many entries it holds. */
export interface ChainHead {
  seq: number;
  hash: string;
  count: number;
  at: string;
}

const HEAD_TYPE = 'hitl-audit-head+jwt';

export function signHead(key: KeyObject, head: Omit<ChainHead, 'at'>): Promise<string> {
  return new SignJWT({ seq: head.seq, hash: head.hash, count: head.count })
    .setProtectedHeader({ alg: 'EdDSA', typ: HEAD_TYPE })
    .setIssuedAt()
    .sign(key);
}

/** The signed head, or a sentence saying why it cannot be trusted; any of `keys` may have signed it (keys rotate). */
export async function verifyHead(keys: KeyObject | KeyObject[], token: string): Promise<ChainHead | string> {
  let problem = 'no key to check it with';
  for (const key of Array.isArray(keys) ? keys : [keys]) {
    const head = await verifyWith(key, token);
    if (typeof head !== 'string') return head;
    problem = head;
  }
  return problem;
}

async function verifyWith(key: KeyObject, token: string): Promise<ChainHead | string> {
  try {
    const { payload } = await jwtVerify(token, key, { algorithms: ['EdDSA'], typ: HEAD_TYPE, requiredClaims: ['iat'] });
    const { seq, hash, count, iat } = payload as Record<string, unknown>;
    if (typeof seq !== 'number' || typeof hash !== 'string' || typeof count !== 'number' || typeof iat !== 'number') return 'its signed head is incomplete';
    return { seq, hash, count, at: new Date(iat * 1000).toISOString() };
  } catch (err) {
    return `its signature does not verify (${(err as Error).message})`;
  }
}

/** The last line of a signed export. */
export function trailerLine(token: string): string {
  return JSON.stringify({ trailer: token });
}

/** Checks an exported audit.jsonl; returns what holds, or the first bad line and why. */
export async function verifyExportFile(file: string, key: KeyObject[] | undefined): Promise<{ ok: string } | { problem: string }> {
  const lines = readFileSync(file, 'utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const entries: ChainedEntry[] = [];
  const lineOf = new Map<number, number>();
  let trailer: { line: number; token: string } | null = null;
  for (const [i, text] of lines.entries()) {
    const line = i + 1;
    if (trailer) return { problem: `line ${line}: follows the signed trailer (line ${trailer.line})` };
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { problem: `line ${line}: is not JSON` };
    }
    if ('trailer' in parsed) {
      if (typeof parsed.trailer !== 'string' || Object.keys(parsed).length !== 1) return { problem: `line ${line}: the trailer is malformed` };
      trailer = { line, token: parsed.trailer };
      continue;
    }
    const differs = readableFieldDiffers(parsed);
    if (differs) return { problem: `line ${line}: ${differs}` };
    const entry = parsed as unknown as ChainedEntry;
    entries.push({ seq: entry.seq, entry: entry.entry, prevHash: entry.prevHash, hash: entry.hash });
    lineOf.set(entry.seq, line);
  }
  const broken = verifyChain(entries);
  if (broken) return { problem: `line ${lineOf.get(broken.seq)} (entry ${broken.seq}): ${broken.problem}` };
  if (!key?.length) return { ok: `audit chain intact: ${entries.length} entries (trailer not checked: no --verify-key)` };
  if (!trailer) return { problem: `line ${lines.length + 1}: the signed trailer is missing (the export was cut or its trailer removed)` };
  const head = await verifyHead(key, trailer.token);
  if (typeof head === 'string') return { problem: `line ${trailer.line}: the trailer cannot be trusted: ${head}` };
  const last = entries.at(-1);
  if (head.count !== entries.length || head.seq !== (last?.seq ?? 0) || head.hash !== (last?.hash ?? head.hash)) {
    return {
      problem: `line ${trailer.line}: the signed trailer names ${head.count} entries ending in ${head.hash.slice(0, 12)}…, the file holds ${entries.length}${last ? ` ending in ${last.hash.slice(0, 12)}…` : ''}`,
    };
  }
  return { ok: `audit chain intact and signed: ${entries.length} entries, head signed at ${head.at}` };
}

/**
 * Checks a store's chain against its signed checkpoints: every checkpoint must verify and
 * name an entry the chain holds, with that entry's hash.
 */
export async function verifyStoredChain(entries: ChainedEntry[], checkpoints: string[], key: KeyObject[] | undefined): Promise<{ ok: string } | { problem: string }> {
  const broken = verifyChain(entries);
  if (broken) return { problem: `entry ${broken.seq}: ${broken.problem}` };
  if (!key?.length) return { ok: `audit chain intact: ${entries.length} entries (checkpoints not checked: no --verify-key)` };
  if (checkpoints.length === 0) return { problem: 'the store holds no signed checkpoint to check the chain against' };
  const bySeq = new Map(entries.map((e) => [e.seq, e]));
  let latest: ChainHead | null = null;
  for (const token of checkpoints) {
    const head = await verifyHead(key, token);
    if (typeof head === 'string') return { problem: `a checkpoint cannot be trusted: ${head}` };
    const entry = bySeq.get(head.seq);
    if (!entry) return { problem: `entry ${head.seq}: a signed checkpoint names it, but the chain ends at ${entries.length} (entries were removed)` };
    if (entry.hash !== head.hash) return { problem: `entry ${head.seq}: its hash is not the one a signed checkpoint names (the chain was rewritten)` };
    if (!latest || head.seq > latest.seq) latest = head;
  }
  return { ok: `audit chain intact: ${entries.length} entries, signed up to entry ${latest!.seq} at ${latest!.at}` };
}

/** A readable field of an export line that is not the hashed entry's, or null. */
function readableFieldDiffers(line: Record<string, unknown>): string | null {
  if (typeof line.entry !== 'string') return 'has no hashed entry';
  let hashed: Record<string, unknown>;
  try {
    hashed = JSON.parse(line.entry);
  } catch {
    return 'its hashed entry is not JSON';
  }
  const chainFields = new Set(['seq', 'prevHash', 'hash', 'entry']);
  for (const name of Object.keys(line)) {
    if (chainFields.has(name)) continue;
    if (!(name in hashed)) return `field "${name}" is not in the hashed entry`;
    if (canonicalJson(line[name]) !== canonicalJson(hashed[name])) return `field "${name}" differs from the hashed entry`;
  }
  for (const name of Object.keys(hashed)) if (!(name in line)) return `field "${name}" of the hashed entry is missing`;
  return null;
}
