import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPublicKey } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startAgent } from '../../app/agent/command.js';
import { generateApprovalKeyPair, USER_APPROVAL_TOKEN_HEADER, verifyApproval } from '../../app/contracts/approval-token.js';
import { callHash } from '../../app/contracts/tool-call.js';
import { createLogger } from '../../app/shared/log.js';
import { approveAll, chatClient, isCompleted, isPaused } from '../helpers/a2a.js';
import { BINARY } from '../helpers/process.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';
import { agentConfig } from '../helpers/agent.js';

const run = promisify(execFile);
const AUDIT_TOKEN = 'audit-token-for-tests';

interface SeenCall {
  headers: IncomingHttpHeaders;
  body: { method?: string; params?: { name: string; arguments: Record<string, unknown> } };
}

interface Ctx {
  stack: Stack;
  dir: ReturnType<typeof tempDir>;
  /** Sits between the agent and the gateway and notes every tools/call as the MCP side receives it. */
  recorder: Server;
  seen: SeenCall[];
  publicPem: string;
  agent: Awaited<ReturnType<typeof startAgent>>;
}

const it = suite<Ctx>('every chat decision is recorded in a hash chain, and an approved call carries the user\'s signed approval');

/** A plain HTTP relay to the gateway that remembers what each tools/call carried. */
async function startRecorder(ctx: Ctx): Promise<string> {
  ctx.seen = [];
  ctx.recorder = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === 'POST') {
      const parsed = JSON.parse(body.toString('utf8'));
      if (parsed.method === 'tools/call') ctx.seen.push({ headers: req.headers, body: parsed });
    }
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'content-length', 'connection'].includes(name))) as Record<string, string>;
    try {
      const upstream = await fetch(`${ctx.stack.gatewayUrl}${req.url}`, { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
      const answer = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, Object.fromEntries([...upstream.headers].filter(([name]) => !['content-length', 'transfer-encoding', 'content-encoding'].includes(name))));
      res.end(answer);
    } catch (err) {
      // The gateway hung up (the stack stopping): say so to the agent, as a gateway would.
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`relay failed: ${(err as Error).message}`);
    }
  });
  ctx.recorder.listen(0, '127.0.0.1');
  await once(ctx.recorder, 'listening');
  return `http://127.0.0.1:${(ctx.recorder.address() as AddressInfo).port}`;
}

it.before(async (ctx) => {
  ctx.stack = await startStack();
  ctx.dir = tempDir('decisions');
  const keys = generateApprovalKeyPair();
  ctx.publicPem = keys.publicPem;
  const keyFile = join(ctx.dir.path, 'agent-approval.pem');
  writeFileSync(keyFile, keys.privatePem, { mode: 0o600 });
  const config = agentConfig(await startRecorder(ctx), join(ctx.dir.path, 'agent'), { auditToken: AUDIT_TOKEN, approvalKey: keyFile });
  ctx.agent = await startAgent(config, createLogger('agent', 'silent'));
});
it.after(async (ctx) => {
  await ctx.agent?.close();
  ctx.recorder.close();
  await ctx.stack.close();
  ctx.dir.remove();
});

const exportOf = (ctx: Ctx, token?: string) => fetch(`${ctx.agent.url}/audit.jsonl`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

async function verifyAudit(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BINARY, 'agent', 'verify-audit', ...args]);
    return { code: 0, out: (stdout + stderr).trim() };
  } catch (err) {
    const failed = err as { code: number; stdout: string; stderr: string };
    return { code: failed.code, out: (failed.stdout + failed.stderr).trim() };
  }
}

it('approve on 1.0 and reject on 0.3: both decisions recorded, the approved call carries a token the MCP side verifies', async (ctx) => {
  const victim = await chatClient(ctx.agent.url, '1.0', 'victim');
  const paused = await victim.send('Truncate the orders table.');
  assert.ok(isPaused(paused));
  assert.ok(isCompleted(await approveAll(victim, paused, true)));

  const erin = await chatClient(ctx.agent.url, '0.3', 'erin');
  const second = await erin.send('Truncate the orders table.');
  assert.ok(isPaused(second));
  assert.ok(isCompleted(await approveAll(erin, second, false, 'keep the rows')));

  const query = await victim.send("What's in the orders table?");
  assert.ok(isCompleted(query));

  const truncations = ctx.seen.filter((c) => c.body.params?.name === 'truncate_table');
  assert.is(truncations.length, 1, 'only the approved truncation reached the MCP server');
  const [approved] = truncations;
  const token = approved.headers[USER_APPROVAL_TOKEN_HEADER] as string;
  assert.type(token, 'string', 'the approved call carries the user approval token');
  const claims = await verifyApproval(createPublicKey(ctx.publicPem), 'user', token, callHash({ name: 'truncate_table', args: approved.body.params!.arguments }));
  assert.equal({ ...claims, approvalId: typeof claims.approvalId }, {
    approvalId: 'string',
    kind: 'user',
    gate: 'chat',
    requester: 'victim',
    approvers: ['victim'],
    callHash: callHash({ name: 'truncate_table', args: { table: 'orders' } }),
  });
  assert.is(approved.headers['x-user-id'], 'victim');
  const open = ctx.seen.find((c) => c.body.params?.name === 'cluster_db_query')!;
  assert.is(open.headers[USER_APPROVAL_TOKEN_HEADER], undefined, 'a call nobody approved carries no approval');
  const anotherCall = callHash({ name: 'truncate_table', args: { table: 'customers' } });
  try {
    await verifyApproval(createPublicKey(ctx.publicPem), 'user', token, anotherCall);
    assert.unreachable('the token approves only the call it was minted for');
  } catch (err) {
    assert.is((err as Error).message, 'approval token was issued for a different call');
  }

  assert.is((await exportOf(ctx)).status, 401, 'the export needs the audit token');
  assert.is((await exportOf(ctx, 'wrong')).status, 401);
  const exported = await exportOf(ctx, AUDIT_TOKEN);
  assert.is(exported.status, 200);
  const text = await exported.text();
  const lines = text.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(
    lines.map(({ seq, event, decidedBy, reason, tool, args, taskId, wire }) => ({ seq, event, decidedBy, reason, tool, args, taskId, wire })),
    [
      { seq: 1, event: 'approved', decidedBy: 'victim', reason: null, tool: 'truncate_table', args: { table: 'orders' }, taskId: paused.id, wire: 'extension' },
      { seq: 2, event: 'rejected', decidedBy: 'erin', reason: 'keep the rows', tool: 'truncate_table', args: { table: 'orders' }, taskId: second.id, wire: 'legacy' },
    ],
  );

  const file = join(ctx.dir.path, 'audit.jsonl');
  writeFileSync(file, text);
  assert.equal(await verifyAudit(['--file', file]), { code: 0, out: 'audit chain intact: 2 entries' });

  const edited = text.replace('\\"decidedBy\\":\\"erin\\"', '\\"decidedBy\\":\\"victim\\"');
  assert.is.not(edited, text);
  writeFileSync(file, edited);
  assert.equal(await verifyAudit(['--file', file]), { code: 1, out: 'audit chain broken at entry 2: its content does not match its hash' });
  writeFileSync(file, text.split('\n').slice(1).join('\n'));
  assert.equal(await verifyAudit(['--file', file]), { code: 1, out: 'audit chain broken at entry 2: does not follow the entry before it' });

  // And the store itself, once the agent has let go of its embedded database.
  await ctx.agent.close();
  ctx.agent = undefined as never;
  assert.equal(await verifyAudit(['--data-dir', join(ctx.dir.path, 'agent')]), { code: 0, out: 'audit chain intact: 2 entries' });
});

it.run();
