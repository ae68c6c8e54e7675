import { Writable } from 'node:stream';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startExtAuth, type RunningExtAuth } from '../../app/ext-auth/command.js';
import { admin, CHECK_TRACEPARENT, checkRequest, extAuthConfig, grpcClient, nextChange, toolCall } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';

interface Ctx {
  ext: RunningExtAuth;
  client: ReturnType<typeof grpcClient>;
  dir: ReturnType<typeof tempDir>;
  lines: Record<string, any>[];
}

const it = suite<Ctx>('ext-auth keeps the Check\'s traceparent with the request, in its log and audit, and passes it on');

it.before(async (ctx) => {
  ctx.dir = tempDir('trace');
  ctx.lines = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) ctx.lines.push(JSON.parse(line));
      done();
    },
  });
  ctx.ext = await startExtAuth(extAuthConfig(ctx.dir.path), pino({ level: 'info' }, sink));
  ctx.client = grpcClient(ctx.ext.grpcPort);
});
it.after(async (ctx) => {
  ctx.client.close();
  await ctx.ext.close();
  ctx.dir.remove();
});

let tickets = 0;

async function park(ctx: Ctx, id?: string) {
  const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
  const call = ctx.client.check(checkRequest({ id, body: toolCall('run_migration', { version: 'v3', ticket: `CHG-${++tickets}` }) }));
  return { id: (await parked).id, result: call.result };
}

async function auditOf(ctx: Ctx, id: string): Promise<Record<string, any>[]> {
  const text = await (await admin(ctx.ext.adminUrl, 'bob').get('/audit.jsonl')).text();
  return text.trim().split('\n').map((line) => JSON.parse(line)).filter((entry) => entry.requestId === id);
}

it('a valid traceparent is stored, shown, written in every log line and audit entry of the request, and passed on', async (ctx) => {
  const { id, result } = await park(ctx);
  const shown = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(shown.traceparent, CHECK_TRACEPARENT, 'the admin API shows it');
  assert.is((await admin(ctx.ext.adminUrl, 'bob').decide(id, true, 'fine')).status, 204);
  const answer = await result;
  assert.is(answer.code, 0);
  assert.is(answer.headers['x-hitl-traceparent'], CHECK_TRACEPARENT, 'passed on to the MCP server');
  assert.equal(answer.removeHeaders, []);

  const entries = await auditOf(ctx, id);
  assert.equal(entries.map((e) => e.event), ['parked', 'approved']);
  assert.ok(entries.every((e) => e.traceparent === CHECK_TRACEPARENT), 'every audit entry names the trace');
  const lines = ctx.lines.filter((line) => line.id === id);
  assert.ok(lines.length >= 2, 'the park and the release were logged');
  assert.ok(lines.every((line) => line.traceparent === CHECK_TRACEPARENT), 'every log line names the trace');
});

it('an invalid request id is not kept as a trace, and a client\'s own x-hitl-traceparent is removed', async (ctx) => {
  const { id, result } = await park(ctx, 'not-a-traceparent');
  const shown = await (await admin(ctx.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(shown.traceparent, null);
  await admin(ctx.ext.adminUrl, 'bob').decide(id, true, '');
  const answer = await result;
  assert.is(answer.code, 0);
  assert.is(answer.headers['x-hitl-traceparent'], undefined);
  assert.equal(answer.removeHeaders, ['x-hitl-traceparent']);
  const entries = await auditOf(ctx, id);
  assert.ok(entries.length > 0 && entries.every((e) => !('traceparent' in e)), 'no trace written rather than a guess');
});

it.run();
