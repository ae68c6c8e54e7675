// The admin API's route rules, asked of the app in-process with `app.request()`: no socket in
// front of the API, a real ext-auth behind it (embedded store, calls parked through real gRPC).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_PENDING_PAGE, type ApprovalRequest, type PendingPage } from '../../app/contracts/admin-api.js';
import { gatePolicyExtensions } from '../../app/contracts/gate-policy.js';
import { SLACK_USER_HEADER } from '../../app/contracts/slack-bridge.js';
import type { RunningExtAuth } from '../../app/ext-auth/command.js';
import { checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, TOKENS, type CheckResult, type Who } from '../helpers/ext-auth.js';
import { tempDir } from '../helpers/temp.js';

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  ext: RunningExtAuth;
  grpc: ReturnType<typeof grpcClient>;
  /** alice's migration, for the platform gate; carol's, for a finance gate only finance decides. */
  platformId: string;
  financeId: string;
  held: Promise<CheckResult>[];
}

const it = suite<Ctx>('admin API route rules, in-process');

async function park(ctx: Ctx, requester: string, context: Record<string, string>): Promise<string> {
  const parked = nextChange(ctx.ext.gate, (c) => c.type === 'parked');
  const body = toolCall('run_migration', { version: 'v7', ticket: `CHG-${requester}` });
  ctx.held.push(ctx.grpc.check(checkRequest({ body, headers: { 'x-user-id': requester }, context })).result);
  return (await parked).id;
}

it.before(async (ctx) => {
  ctx.dir = tempDir('admin-routes');
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path));
  ctx.grpc = grpcClient(ctx.ext.grpcPort);
  ctx.held = [];
  ctx.platformId = await park(ctx, 'alice', {});
  ctx.financeId = await park(ctx, 'carol', gatePolicyExtensions({ gate: 'finance', approvals: 1, reviewerGroup: 'finance' }));
});

it.after(async (ctx) => {
  for (const id of [ctx.platformId, ctx.financeId]) await ctx.ext.gate.decide(id, { name: 'cleanup', groups: ['platform', 'finance'] }, false, 'end of suite');
  await Promise.all(ctx.held);
  ctx.grpc.close();
  await ctx.ext.close();
  ctx.dir.remove();
});

/** One request to the admin API as `who` (bearer token), or with the given authorization, or none. */
function ask(ctx: Ctx, path: string, as: { who?: Who; authorization?: string; headers?: Record<string, string> } = {}, init: RequestInit = {}) {
  const authorization = as.who ? `Bearer ${TOKENS[as.who]}` : as.authorization;
  return ctx.ext.adminApi.request(path, { ...init, headers: { ...(authorization ? { authorization } : {}), ...as.headers } });
}

const decide = (ctx: Ctx, id: string, who: Who, body: string) =>
  ask(ctx, `/decide/${id}`, { who, headers: { 'content-type': 'application/json' } }, { method: 'POST', body });

async function refusal(response: Response, status: number): Promise<string> {
  assert.is(response.status, status);
  return ((await response.json()) as { error: string }).error;
}

it('no reviewer credential, or one nobody holds, is 401 with a Bearer challenge', async (ctx) => {
  for (const as of [{}, { authorization: 'Bearer not-a-token' }, { authorization: `Basic ${TOKENS.bob}` }]) {
    const response = await ask(ctx, '/pending', as);
    assert.is(response.headers.get('www-authenticate'), 'Bearer realm="hitl"');
    assert.is(await refusal(response, 401), 'a reviewer credential is required');
  }
  assert.is((await ask(ctx, '/whoami', { who: 'bob' })).status, 200, 'the same route answers a listed token');
});

it('a Slack user header is refused unless the Slack bridge sends it', async (ctx) => {
  const response = await ask(ctx, '/pending', { who: 'bob', headers: { [SLACK_USER_HEADER]: 'U123' } });
  assert.is(await refusal(response, 403), `only the Slack bridge's token may send ${SLACK_USER_HEADER}`);
});

it('a decision body that is not {"approved": boolean, "reason"?: string} is 400 with what is wrong', async (ctx) => {
  const shape = 'body must be JSON: {"approved": true|false, "reason": "…"}';
  const cases: [string, string][] = [
    ['approve', `${shape}: unexpected character at offset 0`],
    ['{"approved": true, "approved": false}', `${shape}: duplicate key "approved" at offset 29`],
    ['{}', '"approved" must be true or false'],
    ['{"approved": "yes"}', '"approved" must be true or false'],
    ['{"approved": true, "reason": 7}', '"reason" must be a string of at most 2000 characters'],
    [JSON.stringify({ approved: true, reason: 'x'.repeat(2001) }), '"reason" must be a string of at most 2000 characters'],
  ];
  for (const [body, error] of cases) assert.is(await refusal(await decide(ctx, ctx.platformId, 'bob', body), 400), error, body.slice(0, 40));
  const request = (await (await ask(ctx, `/requests/${ctx.platformId}`, { who: 'bob' })).json()) as ApprovalRequest;
  assert.is(request.status, 'pending', 'a refused body decides nothing');
});

it('the requester cannot decide their own request, nor a reviewer outside its group: 403', async (ctx) => {
  assert.is(await refusal(await decide(ctx, ctx.platformId, 'alice', '{"approved": true}'), 403), 'a requester cannot decide their own request');
  assert.is(await refusal(await decide(ctx, ctx.platformId, 'dave', '{"approved": true}'), 403), 'dave is not in reviewer group platform');
  assert.is(await refusal(await decide(ctx, ctx.financeId, 'bob', '{"approved": false}'), 403), 'bob is not in reviewer group finance');
  const request = (await (await ask(ctx, `/requests/${ctx.platformId}`, { who: 'bob' })).json()) as ApprovalRequest;
  assert.equal([request.status, request.approvals], ['pending', []]);
});

it('an unknown request id is 404, to read and to decide', async (ctx) => {
  assert.is(await refusal(await ask(ctx, '/requests/no-such-id', { who: 'bob' }), 404), 'no request no-such-id');
  assert.is(await refusal(await decide(ctx, 'no-such-id', 'bob', '{"approved": true}'), 404), 'no request no-such-id');
});

it('a /pending page query is checked: limit a whole number in range, after an earlier page\'s next', async (ctx) => {
  const limitError = `"limit" must be a whole number from 1 to ${MAX_PENDING_PAGE}`;
  for (const query of ['limit=0', 'limit=abc', 'limit=1.5', 'limit=-1', `limit=${MAX_PENDING_PAGE + 1}`, 'limit=', 'gate=platform', 'after=x']) {
    assert.is(await refusal(await ask(ctx, `/pending?${query}`, { who: 'bob' }), 400), limitError, query);
  }
  const afterError = '"after" must be the "next" of an earlier page';
  const forged = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  for (const after of ['not-base64-json', forged(['yesterday', 'id']), forged([new Date().toISOString()]), forged({ receivedAt: new Date().toISOString(), id: 'x' })]) {
    assert.is(await refusal(await ask(ctx, `/pending?limit=1&after=${after}`, { who: 'bob' }), 400), afterError, after);
  }
});

it('a /pending page filters by gate and tool, pages with next, and counts the whole queue', async (ctx) => {
  const page = async (query: string) => {
    const response = await ask(ctx, `/pending?${query}`, { who: 'bob' });
    assert.is(response.status, 200, query);
    return (await response.json()) as PendingPage;
  };
  const whole = { total: 2, gates: { platform: 1, finance: 1 }, tools: { run_migration: 2 } };

  const finance = await page('limit=10&gate=finance');
  assert.equal([finance.pending.map((r) => r.id), finance.next, finance.counts], [[ctx.financeId], null, whole]);
  const noSuchTool = await page('limit=10&tool=truncate_table');
  assert.equal([noSuchTool.pending, noSuchTool.counts], [[], whole]);
  assert.is((await page('limit=10&tool=run_migration&gate=platform')).pending[0].id, ctx.platformId);

  const first = await page('limit=1');
  assert.equal(first.pending.map((r) => r.id), [ctx.platformId], 'oldest first');
  assert.type(first.next, 'string');
  const second = await page(`limit=1&after=${first.next}`);
  assert.equal([second.pending.map((r) => r.id), second.next], [[ctx.financeId], null]);
});

it('/history takes only an ended status', async (ctx) => {
  assert.is(await refusal(await ask(ctx, '/history?status=pending', { who: 'bob' }), 400), 'status must be one of approved, rejected, timed_out, abandoned');
});

it.run();
