// The admin API's route rules, asked of the app in-process with `app.request()`: no socket in
// front of the API, a real ext-auth behind it (embedded store, calls parked through real gRPC).
// Each case states one thing the API promises, down to the exact answer, so that a change to
// that promise fails here.
import type { KeyObject } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { pino } from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { readVerifyKey } from '../../app/contracts/approval-token.js';
import { MAX_PENDING_PAGE, type ApprovalRequest, type PendingPage } from '../../app/contracts/admin-api.js';
import { gatePolicyExtensions } from '../../app/contracts/gate-policy.js';
import { SLACK_USER_HEADER } from '../../app/contracts/slack-bridge.js';
import { GENESIS, verifyChain } from '../../app/ext-auth/audit.js';
import type { RunningExtAuth } from '../../app/ext-auth/command.js';
import { verifyHead, type ChainHead } from '../../app/shared/audit-proof.js';
import { checkRequest, extAuthConfig, grpcClient, nextChange, startGate, toolCall, TOKENS, type CheckResult, type Who } from '../helpers/ext-auth.js';
import { logSink } from '../helpers/log-sink.js';
import { writeApprovalKeys } from '../helpers/keys.js';
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

it('a decision body that cannot be read at all is 400 saying what a body must be', async (ctx) => {
  const broken = new ReadableStream({
    pull(controller) {
      controller.error(new Error('the client hung up mid-body'));
    },
  });
  const response = await ask(ctx, `/decide/${ctx.platformId}`, { who: 'bob' }, { method: 'POST', body: broken, duplex: 'half' } as RequestInit);
  assert.is(await refusal(response, 400), 'body must be JSON: {"approved": true|false, "reason": "…"}');
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

it('/metrics is open to a scraper without a credential, in the registry\'s text format', async (ctx) => {
  const response = await ask(ctx, '/metrics');
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(await response.text(), /^hitl_pending_requests 2$/m);
});

it('/whoami names the reviewer the credential belongs to and their groups', async (ctx) => {
  const response = await ask(ctx, '/whoami', { who: 'bob' });
  assert.is(response.status, 200);
  assert.equal(await response.json(), { name: 'bob', groups: ['platform'] });
});

it('/pending without a page query is the whole queue, oldest first; a request whose caller still waits has no deferral', async (ctx) => {
  const body = (await (await ask(ctx, '/pending', { who: 'bob' })).json()) as { pending: (ApprovalRequest & { deferral?: unknown })[] };
  assert.equal(Object.keys(body), ['pending']);
  assert.equal(body.pending.map((r) => [r.id, r.waiting, 'deferral' in r]), [[ctx.platformId, 1, false], [ctx.financeId, 1, false]]);
  const one = (await (await ask(ctx, `/requests/${ctx.platformId}`, { who: 'bob' })).json()) as ApprovalRequest;
  assert.equal([one.id, one.requester, 'deferral' in one], [ctx.platformId, 'alice', false]);
});

it('/events says ready, then streams each queue change, and lets go of the gate when the client leaves', async (ctx) => {
  const listening = ctx.ext.gate.listenerCount('change');
  const response = await ask(ctx, '/events', { who: 'bob' });
  assert.is(response.headers.get('content-type'), 'text/event-stream');
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let received = '';
  const readUntil = async (text: string) => {
    while (!received.includes(text)) received += (await reader.read()).value ?? '';
  };
  await readUntil('\n\n');
  assert.is(received, 'event: ready\ndata: {}\n\n');
  assert.is(ctx.ext.gate.listenerCount('change'), listening + 1);

  const id = await park(ctx, 'grace', {});
  received = '';
  await readUntil('\n\n');
  assert.is(received, `event: change\ndata: ${JSON.stringify({ type: 'parked', id })}\n\n`);
  await ctx.ext.gate.decide(id, { name: 'bob', groups: ['platform'] }, false, 'not part of this test');

  const released = new Promise<void>((resolve) =>
    (ctx.ext.gate as EventEmitter).on('removeListener', (event: string) => event === 'change' && resolve()),
  );
  await reader.cancel();
  await released;
  assert.is(ctx.ext.gate.listenerCount('change'), listening);
});

it('the audit export is the hash chain as JSON lines, each ending in a newline, with no trailer without a key', async (ctx) => {
  const response = await ask(ctx, '/audit.jsonl', { who: 'bob' });
  assert.is(response.status, 200);
  assert.is(response.headers.get('content-type'), 'application/x-ndjson');
  assert.is(response.headers.get('content-disposition'), 'attachment; filename="hitl-audit.jsonl"');
  const text = await response.text();
  assert.ok(text.endsWith('}\n'), JSON.stringify(text.slice(-20)));
  const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
  assert.is(verifyChain(lines), null);
  assert.equal(lines.map((l) => l.seq), lines.map((_, i) => i + 1));
  assert.equal(lines.filter((l) => l.event === 'parked').map((l) => l.requestId).slice(0, 2), [ctx.platformId, ctx.financeId]);
  assert.not.ok(lines.some((l) => 'trailer' in l));
});

it('a well-formed decision is 204 with no body; a reason may be up to 2000 characters or left out', async (ctx) => {
  const longest = 'r'.repeat(2000);
  const erin = await park(ctx, 'erin', {});
  const frank = await park(ctx, 'frank', {});
  for (const [id, body] of [[erin, JSON.stringify({ approved: false, reason: longest })], [frank, '{"approved": false}']]) {
    const response = await decide(ctx, id, 'bob', body);
    assert.equal([response.status, await response.text()], [204, '']);
  }
  const read = async (id: string) => (await (await ask(ctx, `/requests/${id}`, { who: 'bob' })).json()) as ApprovalRequest;
  assert.equal([(await read(erin)).status, (await read(erin)).reason], ['rejected', longest]);
  assert.equal([(await read(frank)).status, (await read(frank)).reason], ['rejected', '']);
});

it('/history filters by ended status, requester and tool, newest first, and clamps limit and offset', async (ctx) => {
  const history = async (query: string) => {
    const response = await ask(ctx, `/history${query}`, { who: 'bob' });
    assert.is(response.status, 200, query);
    const page = (await response.json()) as { items: ApprovalRequest[]; total: number; limit: number; offset: number };
    return { requesters: page.items.map((r) => r.requester), total: page.total, limit: page.limit, offset: page.offset };
  };
  // Ended so far: grace's call from the events case, then erin's and frank's, all rejected.
  assert.equal(await history(''), { requesters: ['frank', 'erin', 'grace'], total: 3, limit: 50, offset: 0 });
  assert.equal(await history('?status=rejected&requester=frank'), { requesters: ['frank'], total: 1, limit: 50, offset: 0 });
  assert.equal(await history('?status=approved'), { requesters: [], total: 0, limit: 50, offset: 0 });
  assert.equal(await history('?tool=run_migration&requester=erin'), { requesters: ['erin'], total: 1, limit: 50, offset: 0 });
  assert.equal(await history('?tool=truncate_table'), { requesters: [], total: 0, limit: 50, offset: 0 });
  assert.equal(await history('?limit=1&offset=1'), { requesters: ['erin'], total: 3, limit: 1, offset: 1 });
  assert.equal(await history('?limit=0&offset=-4'), { requesters: ['frank'], total: 3, limit: 1, offset: 0 });
  assert.equal(await history('?limit=501&offset=5'), { requesters: [], total: 3, limit: 500, offset: 5 });
  assert.equal(await history('?limit=many&offset=some'), { requesters: ['frank', 'erin', 'grace'], total: 3, limit: 50, offset: 0 });
});

it('/history takes only an ended status', async (ctx) => {
  assert.is(await refusal(await ask(ctx, '/history?status=pending', { who: 'bob' }), 400), 'status must be one of approved, rejected, timed_out, abandoned');
});

it.run();

interface SignedCtx {
  dir: ReturnType<typeof tempDir>;
  ext: RunningExtAuth;
  grpc: ReturnType<typeof grpcClient>;
  verifyKey: KeyObject;
}

// A gate with an approval key, which signs its audit export, and a hold short enough that a
// caller is told to come back while its request stays queued (deferred).
const signed = suite<SignedCtx>('admin API of a gate with an approval key and a short hold, in-process');

signed.before(async (ctx) => {
  ctx.dir = tempDir('admin-routes-signed');
  const keys = writeApprovalKeys(ctx.dir.path);
  ctx.verifyKey = readVerifyKey(keys.publicKey);
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path, { approvalKey: keys.privateKey, hold: 1500, grantTtl: 900_000 }));
  ctx.grpc = grpcClient(ctx.ext.grpcPort);
});

signed.after(async (ctx) => {
  ctx.grpc.close();
  await ctx.ext.close();
  ctx.dir.remove();
});

const asBob = { headers: { authorization: `Bearer ${TOKENS.bob}` } };

/** The export's entries and the head its trailer vouches for. */
async function signedExport(ctx: SignedCtx) {
  const text = await (await ctx.ext.adminApi.request('/audit.jsonl', asBob)).text();
  assert.ok(text.endsWith('}\n'), JSON.stringify(text.slice(-20)));
  const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line));
  const trailer = lines.pop();
  assert.equal(Object.keys(trailer), ['trailer']);
  const head = await verifyHead(ctx.verifyKey, trailer.trailer);
  assert.type(head, 'object', String(head));
  return { entries: lines, head: head as ChainHead };
}

signed('a signed export of an empty chain is its trailer alone, vouching for no entries', async (ctx) => {
  const { entries, head } = await signedExport(ctx);
  assert.equal([entries, head.seq, head.hash, head.count], [[], 0, GENESIS, 0]);
});

signed('an unsigned export of an empty chain is empty', async () => {
  const dir = tempDir('admin-routes-empty');
  const bare = await startGate(extAuthConfig(dir.path));
  try {
    const response = await bare.adminApi.request('/audit.jsonl', asBob);
    assert.equal([response.status, await response.text()], [200, '']);
  } finally {
    await bare.close();
    dir.remove();
  }
});

signed('a request whose caller was told to come back says when, and what an approval does, while nobody waits on it', async (ctx) => {
  const read = async (id: string) => (await (await ctx.ext.adminApi.request(`/requests/${id}`, asBob)).json()) as ApprovalRequest & { deferral?: object };
  const call = () => ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v9' }) })).result;
  const first = await call();
  assert.is(first.toolError?.details.status, 'waiting', JSON.stringify(first.body));
  const id = first.toolError!.details.requestId!;
  const deferred = await read(id);
  const deferral = { callerStoppedAt: deferred.callerStoppedAt, onApproval: 'lets the same call from the same requester through once, within 15m of the approval' };
  assert.equal([deferred.status, deferred.waiting, typeof deferred.callerStoppedAt, deferred.deferral], ['pending', 0, 'string', deferral]);
  const queue = (await (await ctx.ext.adminApi.request('/pending', asBob)).json()) as { pending: { id: string; deferral?: object }[] };
  assert.equal(queue.pending.map((r) => [r.id, r.deferral]), [[id, deferral]]);

  // The same call again waits on the same request: while it does, nothing is deferred.
  const joined = nextChange(ctx.ext.gate, (c) => c.type === 'joined' && c.id === id);
  const again = call();
  await joined;
  const waitedOn = await read(id);
  assert.equal([waitedOn.waiting, 'deferral' in waitedOn], [1, false]);

  assert.is((await ctx.ext.adminApi.request(`/decide/${id}`, { method: 'POST', body: '{"approved": true}', ...asBob })).status, 204);
  assert.is((await again).code, 0, 'the waiting call is let through');
  const approved = await read(id);
  assert.equal([approved.status, 'deferral' in approved], ['approved', false]);
});

signed('a deferred request that is then decided no longer says its callers were told to come back', async (ctx) => {
  const first = await ctx.grpc.check(checkRequest({ body: toolCall('run_migration', { version: 'v10' }) })).result;
  assert.is(first.toolError?.details.status, 'waiting', JSON.stringify(first.body));
  const id = first.toolError!.details.requestId!;
  assert.is((await ctx.ext.adminApi.request(`/decide/${id}`, { method: 'POST', body: '{"approved": false, "reason": "no"}', ...asBob })).status, 204);
  const rejected = (await (await ctx.ext.adminApi.request(`/requests/${id}`, asBob)).json()) as ApprovalRequest;
  assert.equal([rejected.status, rejected.waiting, typeof rejected.callerStoppedAt, 'deferral' in rejected], ['rejected', 0, 'string', false]);
});

signed('a signed export\'s trailer vouches for the last entry and the number of entries', async (ctx) => {
  const { entries, head } = await signedExport(ctx);
  assert.ok(entries.length > 3);
  assert.is(verifyChain(entries), null);
  const last = entries.at(-1);
  assert.equal([head.seq, head.hash, head.count], [last.seq, last.hash, entries.length]);
});

signed.run();

interface StoppingCtx {
  dir: ReturnType<typeof tempDir>;
  ext: RunningExtAuth;
  logs: Record<string, any>[];
  closed: boolean;
}

// Its own gate, stopped by the last case, with its log kept for the cases to read.
const stopping = suite<StoppingCtx>('admin API event streams that fail, and of a gate that is stopping, in-process');

stopping.before(async (ctx) => {
  ctx.dir = tempDir('admin-routes-stopping');
  ctx.logs = [];
  const sink = logSink(ctx.logs);
  ctx.ext = await startGate(extAuthConfig(ctx.dir.path), pino({ level: 'trace' }, sink));
});

stopping.after(async (ctx) => {
  if (!ctx.closed) await ctx.ext.close();
  ctx.dir.remove();
});

stopping('an event stream whose own work fails ends, and the failure is logged with its cause', async (ctx) => {
  // The gate refusing the stream's listener stands in for any failure of the stream's work.
  const gate = ctx.ext.gate as EventEmitter;
  const listen = gate.on;
  gate.on = () => {
    throw new Error('no more listeners');
  };
  try {
    const response = await ctx.ext.adminApi.request('/events', asBob);
    assert.is(response.headers.get('content-type'), 'text/event-stream');
    assert.is(await response.text(), 'event: error\ndata: no more listeners\n\n', 'ended before it said ready');
  } finally {
    gate.on = listen;
  }
  assert.equal(ctx.logs.filter((l) => l.msg === 'event stream failed').map((l) => [l.level, l.err]), [[40, 'no more listeners']]);
});

stopping('an event stream asked for once the gate is stopping is refused with 503, closing the connection', async (ctx) => {
  ctx.closed = true;
  await ctx.ext.close();
  const response = await ctx.ext.adminApi.request('/events', asBob);
  assert.equal([response.status, response.headers.get('connection'), await response.json()], [503, 'close', { error: 'shutting down' }]);
});

stopping.run();
