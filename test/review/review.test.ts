// `hitl review` as a reviewer's terminal uses it: the built binary against a real ext-auth (and
// the MCP server, for a migration's SQL), with tool calls parked through the real gRPC Check.
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { reviewConnectionFlags, reviewShowFlags } from '../../app/review/flags.js';
import { argv } from '../../app/shared/invocation.js';
import { CANNOT_DECIDE } from '../../app/shared/review-format.js';
import { admin, checkRequest, extAuthConfig, grpcClient, nextChange, startGate, TOKENS, toolCall, type Who } from '../helpers/ext-auth.js';
import { runBinary, startBinary } from '../helpers/process.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';

interface Ctx {
  stack: Stack;
  grpc: ReturnType<typeof grpcClient>;
  dir: { path: string; remove(): void };
}

const it = suite<Ctx>('hitl review: the terminal client of the admin API');

it.before(async (ctx) => {
  ctx.dir = tempDir('review');
  ctx.stack = await startStack();
  ctx.grpc = grpcClient(ctx.stack.ext.grpcPort);
});
it.after(async (ctx) => {
  ctx.grpc.close();
  await ctx.stack.close();
  ctx.dir.remove();
});

/** `hitl review <args>` as `who` (HITL_TOKEN), pointed at this suite's ext-auth and MCP server. */
function review(ctx: Ctx, who: Who | null, args: string[]) {
  const [sub, ...rest] = args;
  const adminUrl = ctx.stack.ext.adminUrl;
  const connection = sub === 'show' ? argv(reviewShowFlags, { adminUrl, mcpUrl: ctx.stack.mcp.url }) : argv(reviewConnectionFlags, { adminUrl });
  return runBinary(['review', sub, ...rest, ...connection], { HITL_TOKEN: who ? TOKENS[who] : '', HITL_TOKEN_FILE: '' });
}

let tickets = 0;

/**
 * Parks a migration from alice (approvals: how many reviewers its rule needs); resolves once
 * queued. Each carries its own ticket: an identical call would join or replay an earlier one.
 */
async function park(ctx: Ctx, version = 'v3', approvals = '1') {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const args = { version, ticket: `CHG-${++tickets}` };
  const call = ctx.grpc.check(checkRequest({ body: toolCall('run_migration', args), context: { approvals } }));
  call.result.catch(() => undefined);
  return { id: (await parked).id, result: call.result };
}

it('pending: an empty queue says so; a parked call is a row with id, tool, requester, gate, waiting and approvals', async (ctx) => {
  const empty = await review(ctx, 'bob', ['pending']);
  assert.is(empty.code, 0, empty.stderr);
  assert.is(empty.stdout.trim(), 'Nothing is waiting for a decision.');

  const { id } = await park(ctx);
  const table = await review(ctx, 'bob', ['pending']);
  assert.is(table.code, 0, table.stderr);
  const [header, row, ...more] = table.stdout.trimEnd().split('\n');
  assert.equal(header.split(/\s{2,}/), ['ID', 'TOOL', 'REQUESTER', 'GATE', 'WAITING', 'APPROVALS']);
  const cells = row.split(/\s{2,}/);
  assert.equal([cells[0], cells[1], cells[2], cells[3], cells[5]], [id, 'run_migration', 'alice', 'platform', '0 of 1']);
  assert.match(cells[4], /^\d+s$/);
  assert.equal(more, []);
  assert.is(header.indexOf('TOOL'), row.indexOf('run_migration'), 'columns line up');

  const json = await review(ctx, 'bob', ['pending', '--json']);
  assert.is(json.code, 0);
  const pending = JSON.parse(json.stdout);
  assert.equal(pending.map((r: any) => [r.id, r.toolName, r.requester, r.approvalsRequired]), [[id, 'run_migration', 'alice', 1]]);
  await review(ctx, 'bob', ['reject', id, '--reason', 'cleaning up']);
});

it('show: the card with the exact SQL the migration would run, and what this reviewer may do', async (ctx) => {
  const { id } = await park(ctx, 'v3');
  const card = await review(ctx, 'bob', ['show', id]);
  assert.is(card.code, 0, card.stderr);
  assert.match(card.stdout, /^run_migration · ○ Waiting for a decision · 0 of 1 approvals/);
  assert.match(card.stdout, /Requested by\s+alice/);
  assert.match(card.stdout, /Gate · route\s+platform · POST \/privileged\/mcp/);
  assert.match(card.stdout, /Migration: schema v2 → v3\n {2}Apply v3: orders\.currency\n {4}ALTER TABLE orders ADD COLUMN currency char\(3\) NOT NULL DEFAULT 'USD'/);
  assert.match(card.stdout, new RegExp(`Decide with: hitl review approve ${id}`));

  const own = await review(ctx, 'alice', ['show', id]);
  assert.ok(own.stdout.trimEnd().endsWith(CANNOT_DECIDE.ownRequest), own.stdout);

  const json = JSON.parse((await review(ctx, 'alice', ['show', id, '--json'])).stdout);
  assert.is(json.id, id);
  assert.equal(json.migration.plan.steps.map((s: any) => s.sql), [["ALTER TABLE orders ADD COLUMN currency char(3) NOT NULL DEFAULT 'USD'"]]);
  assert.is(json.cannotDecide, CANNOT_DECIDE.ownRequest);

  const missing = await review(ctx, 'bob', ['show', 'no-such-id']);
  assert.is(missing.code, 1);
  assert.is(missing.stderr.trim(), 'hitl review: refused: no request no-such-id');
  await review(ctx, 'bob', ['reject', id, '--reason', 'cleaning up']);
});

it('approve: the held call goes through; deciding again is refused and explained as the web queue explains it', async (ctx) => {
  const { id, result } = await park(ctx);
  const own = await review(ctx, 'alice', ['approve', id]);
  assert.is(own.code, 1);
  assert.equal(own.stderr.trim().split('\n'), ['hitl review: refused: a requester cannot decide their own request', CANNOT_DECIDE.ownRequest]);
  const ownJson = await review(ctx, 'alice', ['approve', id, '--json']);
  assert.is(ownJson.code, 1);
  assert.equal(JSON.parse(ownJson.stdout), { error: 'a requester cannot decide their own request', status: 403, explanation: CANNOT_DECIDE.ownRequest });

  const outsider = await review(ctx, 'dave', ['approve', id]);
  assert.is(outsider.code, 1);
  assert.is(outsider.stderr.trim(), 'hitl review: refused: dave is not in reviewer group platform');

  const approved = await review(ctx, 'bob', ['approve', id, '--reason', 'planned change']);
  assert.is(approved.code, 0, approved.stderr);
  assert.is(approved.stdout.trim(), `Approved ${id} (run_migration): 1 of 1 approvals, the call may go through.`);
  assert.is((await result).code, 0, 'the parked Check is let through');

  const late = await review(ctx, 'carol', ['approve', id]);
  assert.is(late.code, 1);
  assert.equal(late.stderr.trim().split('\n'), [`hitl review: refused: request ${id} was already approved`, 'This request is no longer waiting: approved by bob.']);
});

it('approve under a two-reviewer rule: the first counts once, a second approval by the same reviewer is refused, another completes it', async (ctx) => {
  const { id, result } = await park(ctx, 'v4', '2');
  const first = await review(ctx, 'bob', ['approve', id]);
  assert.is(first.code, 0, first.stderr);
  assert.is(first.stdout.trim(), `Approval recorded for ${id} (run_migration): 1 of 2; it needs another reviewer.`);

  const again = await review(ctx, 'bob', ['approve', id]);
  assert.is(again.code, 1);
  assert.equal(again.stderr.trim().split('\n'), [`hitl review: refused: bob already approved ${id}`, CANNOT_DECIDE.alreadyApproved]);

  const second = await review(ctx, 'carol', ['approve', id, '--json']);
  assert.is(second.code, 0, second.stderr);
  assert.equal(JSON.parse(second.stdout), { id, decision: 'approve', status: 'approved', approvals: 2, approvalsRequired: 2 });
  assert.is((await result).code, 0);
});

it('reject: needs a reason, which the agent is shown', async (ctx) => {
  const { id, result } = await park(ctx);
  const bare = await review(ctx, 'bob', ['reject', id]);
  assert.is(bare.code, 2);
  assert.match(bare.stderr, /hitl review reject: --reason: is required/);

  const rejected = await review(ctx, 'bob', ['reject', id, '--reason', 'not in the change window', '--json']);
  assert.is(rejected.code, 0, rejected.stderr);
  assert.equal(JSON.parse(rejected.stdout), { id, decision: 'reject', status: 'rejected', approvals: 0, approvalsRequired: 1 });
  const denied = await result;
  assert.is.not(denied.code, 0);
  assert.match(denied.toolError!.text, /not in the change window/);
});

it('bad usage exits 2 and says what is wrong', async (ctx) => {
  const noId = await review(ctx, 'bob', ['show']);
  assert.is(noId.code, 2);
  assert.match(noId.stderr, /hitl review show: expected hitl review show ID \[flags\], got no arguments/);
  const unknown = await review(ctx, 'bob', ['pending', '--colour']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, /--colour: unknown flag/);
  const noToken = await review(ctx, null, ['pending']);
  assert.is(noToken.code, 2);
  assert.match(noToken.stderr, /--token-file: is needed, or the token in HITL_TOKEN/);
  const group = await runBinary(['review']);
  assert.is(group.code, 2);
  assert.match(group.stderr, /review pending .*\n.*review show/);
});

it('the token comes from --token-file too; a token ext-auth does not know is refused with its reason (1)', async (ctx) => {
  const file = join(ctx.dir.path, 'bob-token');
  writeFileSync(file, `${TOKENS.bob}\n`);
  const fromFile = await runBinary(['review', 'pending', '--admin-url', ctx.stack.ext.adminUrl, '--token-file', file], { HITL_TOKEN: '' });
  assert.is(fromFile.code, 0, fromFile.stderr);

  writeFileSync(file, 'not-a-token');
  const unknown = await runBinary(['review', 'pending', '--admin-url', ctx.stack.ext.adminUrl, '--token-file', file, '--json'], { HITL_TOKEN: '' });
  assert.is(unknown.code, 1);
  assert.is(JSON.parse(unknown.stdout).status, 401);
});

it('an unreachable ext-auth exits 3, naming where it looked', async () => {
  const closed = await closedPort();
  const down = await runBinary(['review', 'pending', '--admin-url', `http://127.0.0.1:${closed}`], { HITL_TOKEN: TOKENS.bob });
  assert.is(down.code, 3);
  assert.is(down.stderr.trim(), `hitl review: ext-auth at http://127.0.0.1:${closed} cannot be reached: ECONNREFUSED`);
  const json = await runBinary(['review', 'approve', 'some-id', '--admin-url', `http://127.0.0.1:${closed}`, '--json'], { HITL_TOKEN: TOKENS.bob });
  assert.is(json.code, 3);
  assert.equal(JSON.parse(json.stdout), { error: `ext-auth at http://127.0.0.1:${closed} cannot be reached: ECONNREFUSED` });
});

it('watch: one line per change, live, until interrupted (0)', async (ctx) => {
  const watch = startBinary(['review', 'watch', '--admin-url', ctx.stack.ext.adminUrl], { HITL_TOKEN: TOKENS.carol });
  try {
    await watch.waitForLog((l) => String(l.msg).startsWith('Watching the queue at'));
    const { id } = await park(ctx);
    const waiting = await watch.waitForLog((l) => String(l.msg).includes(id));
    assert.match(String(waiting.msg), new RegExp(`^\\d\\d:\\d\\d:\\d\\d  waiting {4}${id}  run_migration from alice: platform, needs 1 from platform$`));
    await review(ctx, 'bob', ['reject', id, '--reason', 'not today']);
    const rejected = await watch.waitForLog((l) => String(l.msg).includes(`rejected   ${id}`));
    assert.match(String(rejected.msg), /run_migration from alice: by bob: “not today”$/);
    assert.is(await watch.stop('SIGINT'), 0);
  } finally {
    await watch.stop('SIGKILL');
  }
});

it('watch --json: one object per change; when ext-auth goes away it says so and exits 3', async (ctx) => {
  const lone = join(ctx.dir.path, 'lone');
  mkdirSync(lone);
  const own = await startGate(extAuthConfig(lone));
  let ownRunning = true;
  const grpc = grpcClient(own.grpcPort);
  const watch = startBinary(['review', 'watch', '--json', '--admin-url', own.adminUrl], { HITL_TOKEN: TOKENS.bob });
  const exited = once(watch.child, 'exit');
  try {
    await watch.waitForLog((l) => l.type === 'ready');
    const parked = nextChange(own.gate, (c) => c.type === 'parked');
    const call = grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v3' }) }));
    const { id } = await parked;
    const change = await watch.waitForLog((l) => l.id === id);
    assert.is(change.type, 'parked');
    assert.is((change.request as any).toolName, 'run_migration');
    assert.type(change.at, 'string');
    // Decided, so that stopping ext-auth need not wait for a held call.
    assert.is((await admin(own.adminUrl, 'carol').decide(id, false, 'done')).status, 204);
    assert.is.not((await call.result).code, 0);
    const rejected = await watch.waitForLog((l) => l.id === id && l.type === 'rejected');
    assert.is((rejected.request as any).reason, 'done');

    grpc.close();
    await own.close();
    ownRunning = false;
    const [code] = await exited;
    assert.is(code, 3);
    const lost = watch.logs.find((l) => typeof l.error === 'string');
    assert.ok(String(lost?.error).startsWith(`lost the queue at ${own.adminUrl}: `), JSON.stringify(watch.logs));
  } finally {
    await watch.stop('SIGKILL');
    if (ownRunning) await own.close();
  }
});

it.run();

/** A loopback port nothing listens on: bound, then let go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
