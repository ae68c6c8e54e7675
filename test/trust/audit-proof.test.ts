/**
 * An audit that proves itself: `hitl ext-auth verify-audit --verify-key` against exports and
 * stores that were edited the ways an insider would, each naming the first bad line.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chainHash, GENESIS } from '../../app/shared/audit-chain.js';
import { openDatabase } from '../../app/shared/sql.js';
import { checkRequest, grpcClient, TOKENS, writeTokensFile } from '../helpers/ext-auth.js';
import { writeApprovalKeys } from '../helpers/keys.js';
import { runBinary, startBinary } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';
import { rpcCall } from './helpers.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  keys: { privateKey: string; publicKey: string };
  exported: string[];
}

const it = suite<Ctx>('verify-audit with signed trailers and checkpoints');

it.before(async (ctx) => {
  ctx.dir = tempDir('audit-proof');
  ctx.keys = writeApprovalKeys(ctx.dir.path);
  const ext = startBinary([
    'ext-auth', '--host', '127.0.0.1', '--grpc-port', '0', '--admin-port', '0',
    '--data-dir', join(ctx.dir.path, 'store'), '--tokens-file', writeTokensFile(ctx.dir.path), '--approval-key', ctx.keys.privateKey,
  ]);
  const { url, grpcPort } = (await ext.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
  const grpc = grpcClient(grpcPort);
  const auth = { authorization: `Bearer ${TOKENS.bob}`, 'content-type': 'application/json' };
  for (const version of ['v3', 'v4', 'v1']) {
    const call = grpc.check(checkRequest({ body: JSON.stringify(rpcCall('run_migration', { version })) }));
    const parked = await ext.waitForLog((l) => l.msg === 'parked' && (l as { tool?: string }).tool === 'run_migration' && !ctxSeen.has(l.id as string));
    ctxSeen.add(parked.id as string);
    await fetch(`${url}/decide/${parked.id}`, { method: 'POST', headers: auth, body: JSON.stringify({ approved: version !== 'v1', reason: `decided ${version}` }) });
    await call.result;
  }
  grpc.close();
  ctx.exported = (await (await fetch(`${url}/audit.jsonl`, { headers: auth })).text()).trim().split('\n');
  assert.is(await ext.stop(), 0);
});
it.after((ctx) => ctx.dir.remove());

const ctxSeen = new Set<string>();

async function verify(ctx: Ctx, lines: string[] | null, withKey = true) {
  const args = ['ext-auth', 'verify-audit'];
  if (lines) {
    const file = join(ctx.dir.path, `audit-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(file, lines.join('\n') + '\n');
    args.push('--file', file);
  } else {
    args.push('--data-dir', join(ctx.dir.path, 'store'));
  }
  if (withKey) args.push('--verify-key', ctx.keys.publicKey);
  return runBinary(args);
}

const edit = (line: string, change: (o: any) => void) => {
  const parsed = JSON.parse(line);
  change(parsed);
  return JSON.stringify(parsed);
};

/** Rewrites entry `index`'s actor and recomputes every hash after it, as someone without the key could. */
function relinked(lines: string[], index: number): string[] {
  const entries = lines.filter((l) => !l.startsWith('{"trailer"')).map((l) => JSON.parse(l));
  let prev = GENESIS;
  return [
    ...entries.map((e, i) => {
      if (i === index) {
        const inner = JSON.parse(e.entry);
        inner.actor = 'mallory';
        e.entry = JSON.stringify(inner);
        e.actor = 'mallory';
      }
      e.prevHash = prev;
      e.hash = chainHash(prev, e.entry);
      prev = e.hash;
      return JSON.stringify(e);
    }),
    lines.at(-1)!,
  ];
}

it('the untouched export and store verify, signed', async (ctx) => {
  assert.match(ctx.exported.at(-1)!, /^\{"trailer":"/);
  const file = await verify(ctx, ctx.exported);
  assert.is(file.code, 0, file.stderr);
  assert.match(file.stdout, new RegExp(`audit chain intact and signed: ${ctx.exported.length - 1} entries`));
  const store = await verify(ctx, null);
  assert.is(store.code, 0, store.stderr);
  assert.match(store.stdout, new RegExp(`signed up to entry ${ctx.exported.length - 1}`));

  // After a rotation the old public key still vouches for what it signed; a stranger's never does.
  const rotated = writeApprovalKeys(ctx.dir.path, 'rotated');
  const storeArgs = ['ext-auth', 'verify-audit', '--data-dir', join(ctx.dir.path, 'store')];
  const newOnly = await runBinary([...storeArgs, '--verify-key', rotated.publicKey]);
  assert.is(newOnly.code, 1);
  assert.match(newOnly.stderr, /a checkpoint cannot be trusted: its signature does not verify/);
  const both = await runBinary([...storeArgs, '--verify-key', rotated.publicKey, '--verify-key', ctx.keys.publicKey]);
  assert.is(both.code, 0, both.stderr);
});

it('an edited readable field is named by its line, though the hashed entry is intact', async (ctx) => {
  const lines = [...ctx.exported];
  lines[1] = edit(lines[1], (o) => (o.actor = 'someone-else'));
  const run = await verify(ctx, lines, false);
  assert.is(run.code, 1);
  assert.match(run.stderr, /audit chain broken at line 2: field "actor" differs from the hashed entry/);
  lines[1] = edit(ctx.exported[1], (o) => (o.event = 'an-edited-event'));
  assert.match((await verify(ctx, lines, false)).stderr, /line 2: field "event" differs/);
});

it('a dropped trailer, an edited trailer and a dropped tail fail with the key', async (ctx) => {
  const count = ctx.exported.length;
  const dropped = await verify(ctx, ctx.exported.slice(0, -1));
  assert.is(dropped.code, 1);
  assert.match(dropped.stderr, new RegExp(`line ${count}: the signed trailer is missing`));

  const trailer = JSON.parse(ctx.exported.at(-1)!).trailer as string;
  const [header, payload] = trailer.split('.');
  const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), count: 2 })).toString('base64url');
  const edited = await verify(ctx, [...ctx.exported.slice(0, -1), JSON.stringify({ trailer: `${header}.${forgedPayload}.${trailer.split('.')[2]}` })]);
  assert.match(edited.stderr, new RegExp(`line ${count}: the trailer cannot be trusted: its signature does not verify`));

  const tail = await verify(ctx, [...ctx.exported.slice(0, -2), ctx.exported.at(-1)!]);
  assert.is(tail.code, 1);
  assert.match(tail.stderr, new RegExp(`line ${count - 1}: the signed trailer names ${count - 1} entries .* the file holds ${count - 2}`));
});

it('a rewritten and relinked chain passes the links alone but fails the signed trailer', async (ctx) => {
  const rewritten = relinked(ctx.exported, 0);
  assert.is((await verify(ctx, rewritten, false)).code, 0, 'the links alone cannot tell');
  const run = await verify(ctx, rewritten);
  assert.is(run.code, 1);
  assert.match(run.stderr, /the signed trailer names \d+ entries ending in/);
});

it('the store: a relinked rewrite, then a dropped tail, each fail against the signed checkpoints', async (ctx) => {
  const sql = await openDatabase({ dataDir: join(ctx.dir.path, 'store') });
  const rows = (await sql.query<{ seq: number; entry: string }>(`SELECT seq::int AS seq, entry FROM hitl_audit ORDER BY seq`)).rows;
  let prev = GENESIS;
  for (const row of rows) {
    const entry = row.seq === 1 ? row.entry.replace(/"actor":"[^"]*"/, '"actor":"mallory"') : row.entry;
    const hash = chainHash(prev, entry);
    await sql.query(`UPDATE hitl_audit SET entry = $2, prev_hash = $3, hash = $4 WHERE seq = $1`, [row.seq, entry, prev, hash]);
    prev = hash;
  }
  await sql.close();
  const rewritten = await verify(ctx, null);
  assert.is(rewritten.code, 1);
  assert.match(rewritten.stderr, new RegExp(`entry ${rows.length}: its hash is not the one a signed checkpoint names`));
  assert.is((await verify(ctx, null, false)).code, 0, 'the links alone cannot tell');

  const again = await openDatabase({ dataDir: join(ctx.dir.path, 'store') });
  await again.query(`DELETE FROM hitl_audit WHERE seq = $1`, [rows.length]);
  await again.close();
  const cut = await verify(ctx, null);
  assert.is(cut.code, 1);
  assert.match(cut.stderr, new RegExp(`entry ${rows.length}: a signed checkpoint names it, but the chain ends at ${rows.length - 1}`));
});

it('a deleted line, two swapped lines, a forged entry with its own hash redone, and a line cut short are each named', async (ctx) => {
  const entries = ctx.exported.slice(0, -1);
  const cases: [string, string[], RegExp][] = [
    ['deleted', [entries[0], ...entries.slice(2)], /audit chain broken at line 2 \(entry 3\): does not follow the entry before it/],
    ['swapped', [entries[0], entries[2], entries[1], ...entries.slice(3)], /audit chain broken at line 2 \(entry 3\): does not follow the entry before it/],
    [
      'forged with its own hash redone',
      [
        entries[0],
        edit(entries[1], (o) => {
          o.entry = o.entry.replace(/"actor":"[^"]*"/, '"actor":"mallory"');
          o.actor = 'mallory';
          o.hash = chainHash(o.prevHash, o.entry);
        }),
        ...entries.slice(2),
      ],
      /audit chain broken at line 3 \(entry 3\): does not follow the entry before it/,
    ],
    ['cut short', [...entries.slice(0, -1), entries.at(-1)!.slice(0, 40)], new RegExp(`audit chain broken at line ${entries.length}: is not JSON`)],
  ];
  for (const [what, lines, problem] of cases) {
    const run = await verify(ctx, lines, false);
    assert.is(run.code, 1, what);
    assert.match(run.stderr, problem, what);
  }
});

it('a gap in the sequence numbers is named even where the links were recomputed', async (ctx) => {
  const entries = ctx.exported.slice(0, -1).map((l) => JSON.parse(l));
  entries.splice(1, 1);
  let prev = GENESIS;
  const lines = entries.map((e) => {
    e.prevHash = prev;
    e.hash = chainHash(prev, e.entry);
    prev = e.hash;
    return JSON.stringify(e);
  });
  const run = await verify(ctx, lines, false);
  assert.is(run.code, 1);
  assert.match(run.stderr, /line 2 \(entry 3\): sequence number 3 where 2 was due/);
});

it.run();

