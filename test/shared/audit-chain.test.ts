/**
 * The audit chain on its own: which link a tampered chain breaks at and why, the hash it is
 * built on, and the JSONL export `verify-audit` reads.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainHash, exportLine, GENESIS, readExport, reportChain, verifyChain, type ChainedEntry } from '../../app/shared/audit-chain.js';
import { tempDir } from '../helpers/temp.js';

/** A chain as the gate writes it: sequence numbers from 1, each entry linked to the one before. */
function chainOf(events: string[]): ChainedEntry[] {
  let prevHash = GENESIS;
  return events.map((event, i) => {
    const entry = JSON.stringify({ event });
    const hash = chainHash(prevHash, entry);
    const linked = { seq: i + 1, entry, prevHash, hash };
    prevHash = hash;
    return linked;
  });
}

/** Links the entries again in their new order, as someone without a signing key could. */
function relink(entries: ChainedEntry[]): ChainedEntry[] {
  let prevHash = GENESIS;
  return entries.map((e) => {
    const hash = chainHash(prevHash, e.entry);
    const linked = { ...e, prevHash, hash };
    prevHash = hash;
    return linked;
  });
}

const chain = chainOf(['parked', 'approved', 'released', 'parked']);

test('the first link starts from sixty-four zeros', () => {
  assert.is(GENESIS, '0000000000000000000000000000000000000000000000000000000000000000');
});

test('a link is the SHA-256 of the previous hash, a newline and the entry text', () => {
  // printf '%s\n%s' <64 zeros> '{"event":"parked"}' | sha256sum
  assert.is(chainHash(GENESIS, '{"event":"parked"}'), '00a8036dcef1300aa0119b2f8c6d63694cc07ef1c814b5ce0fbe60589f926391');
});

test('an intact chain, and an empty one, verify', () => {
  assert.is(verifyChain(chain), null);
  assert.is(verifyChain([]), null);
});

test('an edited entry breaks at that entry: its content does not match its hash', () => {
  const edited = chain.map((e) => (e.seq === 2 ? { ...e, entry: JSON.stringify({ event: 'denied' }) } : e));
  assert.equal(verifyChain(edited), { seq: 2, problem: 'its content does not match its hash' });
});

test('a deleted entry breaks the link of the entry after it', () => {
  assert.equal(verifyChain(chain.filter((e) => e.seq !== 2)), { seq: 3, problem: 'does not follow the entry before it' });
});

test('a deleted entry still shows when every link after it was recomputed: a sequence number is missing', () => {
  assert.equal(verifyChain(relink(chain.filter((e) => e.seq !== 2))), { seq: 3, problem: 'sequence number 3 where 2 was due' });
});

test('reordered entries break at the first entry out of place', () => {
  assert.equal(verifyChain([chain[0], chain[2], chain[1], chain[3]]), { seq: 3, problem: 'does not follow the entry before it' });
  assert.equal(verifyChain(relink([chain[1], chain[0], ...chain.slice(2)])), { seq: 2, problem: 'sequence number 2 where 1 was due' });
});

test('a chain whose first entry is removed breaks at once: the new first entry does not start from the genesis hash', () => {
  assert.equal(verifyChain(chain.slice(1)), { seq: 2, problem: 'does not follow the entry before it' });
});

test('a truncated tail leaves a chain that verifies: only the signed trailer shows what is missing', () => {
  assert.is(verifyChain(chain.slice(0, 2)), null);
});

test('an export line holds the place in the chain, the entry fields and the hashed entry text', () => {
  assert.is(
    exportLine(chain[0]),
    JSON.stringify({ seq: 1, event: 'parked', prevHash: GENESIS, hash: chain[0].hash, entry: '{"event":"parked"}' }),
  );
});

test('an export read back is the chain it was written from, blank lines ignored', () => {
  const dir = tempDir('audit-chain');
  try {
    const file = join(dir.path, 'audit.jsonl');
    writeFileSync(file, `${chain.map(exportLine).join('\n')}\n\n`);
    const read = readExport(file);
    assert.equal(read.map((e) => e.seq), [1, 2, 3, 4]);
    assert.is(verifyChain(read), null);
  } finally {
    dir.remove();
  }
});

test('the verify report prints the entry count when the chain holds, and where it breaks with exit code 1 when not', () => {
  const printed: string[] = [];
  const { log, error } = console;
  const exitCode = process.exitCode;
  console.log = (line: string) => printed.push(`out: ${line}`);
  console.error = (line: string) => printed.push(`err: ${line}`);
  try {
    reportChain(chain);
    assert.is(process.exitCode, exitCode);
    reportChain(chain.filter((e) => e.seq !== 3));
    assert.is(process.exitCode, 1);
  } finally {
    console.log = log;
    console.error = error;
    process.exitCode = exitCode;
  }
  assert.equal(printed, ['out: audit chain intact: 4 entries', 'err: audit chain broken at entry 4: does not follow the entry before it']);
});

test.run();
