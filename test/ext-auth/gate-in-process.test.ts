/**
 * The gate itself, driven in-process on the embedded store: every way a Check ends (pass,
 * deny, flood refusal, approval, rejection, replayed rejection, used grant, deferral, timeout,
 * a caller going away, a store that fails) and what each leaves in the store, the audit, the
 * metrics and the log. One store serves every case, so the suite runs in seconds; gates with
 * other options share it, as replicas share one database. The gRPC and admin-API faces are
 * tested in gate.test.ts and admin-routes.test.ts.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { once } from 'node:events';
import { pino } from 'pino';
import { APPROVAL_TOKEN_HEADER, readSigningKey, readVerifyKey, verifyApproval } from '../../app/contracts/approval-token.js';
import type { ApprovalRequest } from '../../app/contracts/admin-api.js';
import { GATE_META_KEY, type GateDetails } from '../../app/contracts/denial.js';
import { callHash } from '../../app/contracts/tool-call.js';
import { callKey } from '../../app/ext-auth/call-key.js';
import { Gate, unreadableDenial, type CheckAnswer, type CheckInput, type GateOptions } from '../../app/ext-auth/gate.js';
import type { Caller } from '../../app/ext-auth/held-call.js';
import { createMetrics, type GateMetrics } from '../../app/ext-auth/metrics.js';
import { ApprovalStore, DecisionError } from '../../app/ext-auth/store.js';
import { openDatabase, type Sql } from '../../app/shared/sql.js';
import { tempDir } from '../helpers/temp.js';
import { logSink } from '../helpers/log-sink.js';
import { writeApprovalKeys } from '../helpers/keys.js';
import { seedEmbeddedDataDir } from '../helpers/embedded-db.js';
import { nextChange } from '../helpers/ext-auth.js';

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const BOB = { name: 'bob', groups: ['platform'] };
const CAROL = { name: 'carol', groups: ['platform'] };
const DAVE = { name: 'dave', groups: ['developers'] };

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  sql: Sql;
  store: ApprovalStore;
  stops: (() => Promise<void>)[];
}

/** A gate under test, with what it logged (parsed lines) and its own metrics. */
interface GateUnderTest {
  gate: Gate;
  logs: Record<string, any>[];
  metrics: GateMetrics;
}

const it = suite<Ctx>('the gate in-process, on the embedded store');

it.before(async (ctx) => {
  ctx.dir = tempDir('gate-in-process');
  await seedEmbeddedDataDir(`${ctx.dir.path}/db`);
  ctx.sql = await openDatabase({ dataDir: `${ctx.dir.path}/db` });
  ctx.store = new ApprovalStore(ctx.sql);
  await ctx.store.init();
  ctx.stops = [];
});

it.after(async (ctx) => {
  // A case that failed may leave callers held: they go away, so nothing keeps the suite running.
  for (const call of callers) call.leave();
  for (const stop of ctx.stops) await stop();
  await ctx.store.settled();
  await ctx.sql.close();
  ctx.dir.remove();
});

/** A gate with the command's defaults (calls held as long as they wait), following the store's feed. */
async function gateWith(ctx: Ctx, overrides: Partial<GateOptions> = {}): Promise<GateUnderTest> {
  const under = gateNotStarted(ctx, overrides);
  ctx.stops.push(await under.gate.start());
  return under;
}

/** The same, hearing no change feed: as a gate whose feed is down. */
function gateNotStarted(ctx: Ctx, overrides: Partial<GateOptions> = {}): GateUnderTest {
  const logs: Record<string, any>[] = [];
  const sink = logSink(logs);
  let gate: Gate | undefined;
  const metrics = createMetrics({ parkedHere: () => gate?.parkedHere ?? 0, writesWaiting: () => ctx.store.writesWaiting });
  gate = new Gate({
    store: ctx.store,
    log: pino({ level: 'trace' }, sink),
    metrics,
    parkTimeoutMs: 600_000,
    holdMs: 600_000,
    grantTtlMs: 900_000,
    flood: { overall: 1000, perRequester: 20 },
    defaults: { gate: 'platform', approvalsRequired: 1, reviewerGroup: 'platform' },
    denyAs: 'jsonrpc',
    requesterHeader: 'x-user-id',
    allowAnonymous: false,
    redactHeaders: [],
    replica: 'replica-under-test',
    ...overrides,
  });
  return { gate, logs, metrics };
}

let calls = 0;
const callers: TestCaller[] = [];

/** A gateway's side of one Check, as the gRPC face gives it to the gate: it can leave. */
class TestCaller implements Caller {
  gone = false;
  private listener: (() => void) | null = null;

  onGone(listener: (() => void) | null): void {
    this.listener = listener;
  }

  leave(): void {
    this.gone = true;
    this.listener?.();
  }
}

/** A caller of a Check, let go when the suite ends. */
function caller(): TestCaller {
  const call = new TestCaller();
  callers.push(call);
  return call;
}

/** A Check as the gRPC face hands it over: a new tool call each time unless `body` is given. */
function check(options: { requester?: string | null; headers?: Record<string, string>; body?: string; context?: Record<string, string>; traceparent?: string | null } = {}): CheckInput {
  const body = options.body ?? toolCall({ version: 'v3', ticket: `CHG-${++calls}` });
  const requester = options.requester === undefined ? 'alice' : options.requester;
  const bytes = new TextEncoder().encode(body);
  return {
    method: 'POST',
    path: '/privileged/mcp',
    headers: { 'content-type': 'application/json', ...(requester === null ? {} : { 'x-user-id': requester }), ...options.headers },
    body: bytes,
    size: bytes.length,
    contextExtensions: options.context ?? {},
    metadata: {},
    traceparent: options.traceparent === undefined ? TRACE : options.traceparent,
  };
}

const toolCall = (args: Record<string, unknown>, id: number | string = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'run_migration', arguments: args } });

/** Sends a Check and resolves once the gate holds it, with the request it waits on. */
async function park(under: GateUnderTest, input: CheckInput = check()) {
  const call = caller();
  const holding = once(under.gate, 'holding') as Promise<[string]>;
  const answer = under.gate.check(input, call);
  const [id] = await Promise.race([holding, answer.then((a) => assert.unreachable(`answered without parking: ${JSON.stringify(a)}`) as never)]);
  return { id, answer, leave: () => call.leave() };
}

/** The gate's details of a refused tools/call answered as its own JSON-RPC tool error. */
function refusal(answer: CheckAnswer): { text: string; details: GateDetails; kind: string; reason: string } {
  assert.is(answer.allowed, false, JSON.stringify(answer));
  if (answer.allowed) throw new Error('unreachable');
  assert.equal([answer.response.httpStatus, answer.response.contentType], [200, 'application/json']);
  const result = JSON.parse(answer.response.body).result;
  return { text: result.content[0].text, details: result._meta[GATE_META_KEY], kind: answer.kind, reason: answer.reason };
}

async function decisions(metrics: GateMetrics, outcome: string): Promise<number> {
  return (await metrics.decisions.get()).values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** The audit entries from `seq` on, parsed. */
async function auditAfter(ctx: Ctx, seq: number): Promise<Record<string, any>[]> {
  await ctx.store.settled();
  return (await ctx.store.auditChain()).filter((e) => e.seq > seq).map((e) => JSON.parse(e.entry));
}

/** The same, each as its event, request, actor and detail. */
async function auditEventsAfter(ctx: Ctx, seq: number): Promise<unknown[][]> {
  return (await auditAfter(ctx, seq)).map((e) => [e.event, e.requestId, e.actor, e.detail]);
}

async function auditSeq(ctx: Ctx): Promise<number> {
  await ctx.store.settled();
  return (await ctx.store.auditChain()).at(-1)?.seq ?? 0;
}

/** The store, but `method` fails as an unreachable store would; `reached` resolves when it is first called. */
function unreachableAt(store: ApprovalStore, method: 'get' | 'finish'): { store: ApprovalStore; reached: Promise<void> } {
  const failing = Object.create(store) as ApprovalStore;
  let called!: () => void;
  const reached = new Promise<void>((resolve) => (called = resolve));
  failing[method] = async () => {
    called();
    throw new Error('the store is unreachable');
  };
  return { store: failing, reached };
}

async function read(ctx: Ctx, id: string): Promise<ApprovalRequest> {
  const request = await ctx.store.get(id);
  assert.ok(request, `request ${id} is stored`);
  return request!;
}

it('a call that is not a tool call passes at once, with no headers and nothing recorded', async (ctx) => {
  const under = await gateWith(ctx);
  const before = await auditSeq(ctx);
  const answer = await under.gate.check(check({ body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} }) }), caller());
  assert.equal(answer, { allowed: true, headers: {} });
  assert.equal(await auditAfter(ctx, before), []);
  assert.is(under.gate.parkedHere, 0);
});

it('an unreadable body is refused with a 403 saying why, audited with the requester, method, path and trace', async (ctx) => {
  const under = await gateWith(ctx);
  const before = await auditSeq(ctx);
  const answer = await under.gate.check(check({ body: '{"jsonrpc": "2.0", "method": ' }), caller());
  assert.is(answer.allowed, false);
  if (answer.allowed) return;
  assert.match(answer.reason, /not valid JSON/);
  assert.equal(answer, {
    allowed: false,
    kind: 'denied',
    reason: answer.reason,
    response: { httpStatus: 403, contentType: 'application/json', body: JSON.stringify({ approved: false, reason: answer.reason, id: null }) },
  });
  const [entry, ...more] = await auditAfter(ctx, before);
  assert.equal(more, []);
  assert.equal([entry.event, entry.requestId, entry.actor, entry.detail, entry.traceparent], ['denied', null, 'alice', { reason: answer.reason, method: 'POST', path: '/privileged/mcp' }, TRACE]);
  assert.is(await decisions(under.metrics, 'classifier_denied'), 1);
});

it('a refusal of a gate that cannot work is a 503 saying so', () => {
  assert.equal(unreadableDenial('approval gate unavailable: store closed', 'unavailable'), {
    allowed: false,
    kind: 'unavailable',
    reason: 'approval gate unavailable: store closed',
    response: { httpStatus: 503, contentType: 'application/json', body: JSON.stringify({ approved: false, reason: 'approval gate unavailable: store closed', id: null }) },
  });
});

it('a tool call naming no requester is denied and audited with no actor; with anonymous calls allowed it parks with none', async (ctx) => {
  const strict = await gateWith(ctx);
  const before = await auditSeq(ctx);
  const answer = await strict.gate.check(check({ requester: null, traceparent: null }), caller());
  assert.equal(answer, unreadableDenial('no requester identity'));
  const [entry] = await auditAfter(ctx, before);
  assert.equal([entry.event, entry.actor, entry.detail.reason, 'traceparent' in entry], ['denied', null, 'no requester identity', false]);

  const open = await gateWith(ctx, { allowAnonymous: true });
  const { id, answer: released } = await park(open, check({ requester: null }));
  assert.is((await read(ctx, id)).requester, null);
  await open.gate.decide(id, BOB, false, 'cleanup');
  assert.is(refusal(await released).details.status, 'rejected');
});

it('the requester is read from the header the gate is told to use', async (ctx) => {
  const under = await gateWith(ctx, { requesterHeader: 'x-caller' });
  const { id, answer } = await park(under, check({ requester: null, headers: { 'x-caller': 'heidi', 'x-user-id': 'mallory' } }));
  assert.is((await read(ctx, id)).requester, 'heidi');
  await under.gate.decide(id, BOB, false, 'cleanup');
  await answer;
});

it('a gate policy asking for a number of approvals outside 1 to 99 is denied before the call is read', async (ctx) => {
  const under = await gateWith(ctx);
  for (const approvals of ['0', '100', '1.5', 'two', '', '01', ' 1']) {
    const before = await auditSeq(ctx);
    // Even a call that would pass: a route whose policy is wrong is not trusted with anything.
    const initialize = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: {} });
    const answer = await under.gate.check(check({ body: initialize, context: { approvals } }), caller());
    const reason = `gate policy is invalid: approvals must be a whole number from 1 to 99, got ${JSON.stringify(approvals)}`;
    assert.equal(answer, unreadableDenial(reason), approvals);
    const [entry] = await auditAfter(ctx, before);
    assert.equal([entry.event, entry.actor, entry.detail.reason], ['denied', 'alice', reason]);
  }
  assert.is(await decisions(under.metrics, 'classifier_denied'), 7);
});

it('the policy\'s gate, approvals and reviewer group are used; missing or empty ones fall back to the defaults', async (ctx) => {
  const under = await gateWith(ctx, { defaults: { gate: 'ops', approvalsRequired: 3, reviewerGroup: 'operators' } });
  const cases: [Record<string, string>, [string, number, string]][] = [
    [{ gate: 'schema-changes', approvals: '99', 'reviewer-group': 'developers' }, ['schema-changes', 99, 'developers']],
    [{ approvals: '1' }, ['ops', 1, 'operators']],
    [{}, ['ops', 3, 'operators']],
    [{ gate: '', 'reviewer-group': '' }, ['ops', 3, 'operators']],
  ];
  for (const [context, policy] of cases) {
    const { id, answer } = await park(under, check({ context }));
    const request = await read(ctx, id);
    assert.equal([request.gate, request.approvalsRequired, request.reviewerGroup], policy, JSON.stringify(context));
    await under.gate.decide(id, { name: 'bob', groups: [policy[2]] }, false, 'cleanup');
    assert.is(refusal(await answer).details.gate, policy[0]);
  }
});

it('a policy naming a reviewer group: a reviewer only in the default group is refused, one of the named group decides', async (ctx) => {
  const under = await gateWith(ctx);
  const { id, answer } = await park(under, check({ context: { 'reviewer-group': 'developers' } }));
  const refused = await under.gate.decide(id, BOB, true, 'platform says yes').then(
    () => null,
    (err) => err,
  );
  assert.instance(refused, DecisionError);
  assert.equal([refused.status, refused.message], [403, 'bob is not in reviewer group developers']);
  assert.is((await read(ctx, id)).status, 'pending', 'the refused decision changed nothing');
  await under.gate.decide(id, DAVE, true, 'developers say yes');
  const let_ = await answer;
  assert.equal(let_, { allowed: true, headers: { 'x-hitl-approval-id': id, 'x-hitl-approved-by': 'dave', 'x-hitl-traceparent': TRACE } });
});

it('a parked request is stored as the call, its policy and its caller made it, with every credential header left out', async (ctx) => {
  const under = await gateWith(ctx, { parkTimeoutMs: 120_000, grantTtlMs: 30_000, redactHeaders: ['X-Tenant-Token'] });
  const secrets: Record<string, string> = {
    authorization: 'Bearer secret-authorization-1',
    cookie: 'session=secret-cookie-2',
    'proxy-authorization': 'Basic secret-proxy-authorization-3',
    'x-api-key': 'secret-api-key-4',
    'x-tenant-token': 'secret-tenant-token-5',
    // A name in another case than the gateway's lower case is still the same header.
    'X-Api-Key': 'secret-api-key-6',
  };
  const before = await auditSeq(ctx);
  const body = toolCall({ version: 'v7' }, 'call-7');
  const input = check({ body, headers: { ...secrets, 'x-agent-name': 'k8s-agent', 'user-agent': 'kagent/1.0', 'x-trace-note': 'kept' }, context: { gate: 'schema-changes' } });
  const { id, answer } = await park(under, input);
  const request = await read(ctx, id);
  const calls = [{ name: 'run_migration', args: { version: 'v7' }, rpcId: '"call-7"' }];
  assert.equal(request, {
    id,
    receivedAt: request.receivedAt,
    expiresAt: new Date(Date.parse(request.receivedAt) + 120_000).toISOString(),
    method: 'POST',
    path: '/privileged/mcp',
    rpcMethod: 'tools/call',
    toolName: 'run_migration',
    toolArgs: { version: 'v7' },
    calls,
    requester: 'alice',
    callerAgent: 'k8s-agent',
    gate: 'schema-changes',
    approvalsRequired: 1,
    reviewerGroup: 'platform',
    approvals: [],
    headers: { 'content-type': 'application/json', 'x-user-id': 'alice', 'x-agent-name': 'k8s-agent', 'user-agent': 'kagent/1.0', 'x-trace-note': 'kept' },
    body,
    status: 'pending',
    decidedAt: null,
    decidedBy: null,
    reason: null,
    callKey: callKey('alice', 'schema-changes', calls),
    waiting: 1,
    callerStoppedAt: null,
    grantTtlSeconds: 30,
    grant: null,
    traceparent: TRACE,
  });
  assert.ok(Math.abs(Date.parse(request.receivedAt) - Date.now()) < 60_000, 'received now, not at some other time');
  await under.gate.decide(id, BOB, false, 'cleanup');
  await answer;
  const recorded = JSON.stringify([await auditAfter(ctx, before), under.logs]);
  for (const [name, value] of Object.entries(secrets)) assert.not.ok(recorded.includes(value), `${name} reached the audit or the log`);
  assert.ok(recorded.includes('v7'), 'the audit and log do speak of the call');
});

it('the caller agent is the user agent when no agent name is sent, and unknown when neither is', async (ctx) => {
  const under = await gateWith(ctx);
  for (const [headers, agent] of [[{ 'user-agent': 'kagent/1.0' }, 'kagent/1.0'], [{}, null]] as const) {
    const { id, answer } = await park(under, check({ headers }));
    assert.is((await read(ctx, id)).callerAgent, agent);
    await under.gate.decide(id, BOB, false, 'cleanup');
    await answer;
  }
});

it('an approval lets the call through with its id, approvers and trace, logged and counted', async (ctx) => {
  const under = await gateWith(ctx);
  const started = Date.now();
  const { id, answer } = await park(under);
  assert.is(under.gate.parkedHere, 1);
  assert.equal(
    under.logs.filter((l) => l.msg === 'parked').map((l) => [l.id, l.tool, l.requester, l.gate, l.joined, l.traceparent]),
    [[id, 'run_migration', 'alice', 'platform', false, TRACE]],
  );
  const decided = await under.gate.decide(id, BOB, true, 'fine');
  assert.equal([decided.id, decided.status, decided.decidedBy], [id, 'approved', 'bob']);
  assert.equal(await answer, { allowed: true, headers: { 'x-hitl-approval-id': id, 'x-hitl-approved-by': 'bob', 'x-hitl-traceparent': TRACE } });
  assert.is(under.gate.parkedHere, 0);
  assert.equal(under.logs.filter((l) => l.msg === 'released').map((l) => [l.id, l.outcome, l.by, l.traceparent]), [[id, 'approved', 'bob', TRACE]]);
  assert.is(await decisions(under.metrics, 'approved'), 1);
  const observed = (await under.metrics.timeToDecision.get()).values.filter((v) => v.labels.outcome === 'approved');
  const count = observed.find((v) => v.metricName === 'hitl_time_to_decision_seconds_count')?.value;
  const seconds = observed.find((v) => v.metricName === 'hitl_time_to_decision_seconds_sum')?.value ?? -1;
  assert.is(count, 1);
  // From park to release, in seconds: within the time this case has run.
  assert.ok(seconds >= 0 && seconds <= (Date.now() - started) / 1000, `${seconds} s`);
});

it('an approved call that came without a trace has any trace header a client sent removed, and logs no trace', async (ctx) => {
  const under = await gateWith(ctx);
  const { id, answer } = await park(under, check({ traceparent: null }));
  await under.gate.decide(id, BOB, true, 'fine');
  assert.equal(await answer, { allowed: true, headers: { 'x-hitl-approval-id': id, 'x-hitl-approved-by': 'bob' }, removeHeaders: ['x-hitl-traceparent'] });
  assert.ok(under.logs.length >= 2);
  assert.not.ok(under.logs.some((l) => 'traceparent' in l), JSON.stringify(under.logs));
});

it('with an approval key, an approved call carries a token binding the call, the requester and the approvers', async (ctx) => {
  const dir = tempDir('gate-in-process-keys');
  try {
    const keys = writeApprovalKeys(dir.path);
    const under = await gateWith(ctx, { approvalKey: readSigningKey(keys.privateKey) });
    const { id, answer } = await park(under, check({ body: toolCall({ version: 'v8' }) }));
    await under.gate.decide(id, CAROL, true, 'fine');
    const let_ = await answer;
    assert.ok(let_.allowed);
    if (!let_.allowed) return;
    const claims = await verifyApproval(readVerifyKey(keys.publicKey), 'platform', let_.headers[APPROVAL_TOKEN_HEADER], callHash({ name: 'run_migration', args: { version: 'v8' } }));
    assert.equal(claims, { approvalId: id, kind: 'platform', gate: 'platform', requester: 'alice', approvers: ['carol'], callHash: claims.callHash });
  } finally {
    dir.remove();
  }
});

it('a rejection is the call\'s own tool error naming the reviewer and the reason, logged and counted', async (ctx) => {
  const under = await gateWith(ctx);
  const { id, answer } = await park(under, check({ body: toolCall({ version: 'v3', ticket: 'CHG-17' }, 'call-17') }));
  await under.gate.decide(id, CAROL, false, 'not during the freeze');
  const refused = refusal(await answer);
  assert.equal([refused.kind, refused.reason], ['denied', 'not during the freeze']);
  assert.is(JSON.parse((await answer as any).response.body).id, 'call-17');
  assert.is(refused.text, 'Rejected by carol (platform gate): "not during the freeze"');
  assert.equal(refused.details, { status: 'rejected', requestId: id, gate: 'platform', reviewers: ['carol'], reason: 'not during the freeze', expiresAt: null, grantTtlSeconds: null });
  assert.equal(under.logs.filter((l) => l.msg === 'released').map((l) => [l.id, l.outcome, l.by]), [[id, 'rejected', 'carol']]);
  assert.is(await decisions(under.metrics, 'rejected'), 1);
});

it('with --deny-as http a rejection is a 403 with a JSON body', async (ctx) => {
  const under = await gateWith(ctx, { denyAs: 'http' });
  const { id, answer } = await park(under);
  await under.gate.decide(id, CAROL, false, 'Not during the sale');
  const refused = await answer;
  assert.equal(refused, {
    allowed: false,
    kind: 'denied',
    reason: 'Not during the sale',
    response: { httpStatus: 403, contentType: 'application/json', body: JSON.stringify({ approved: false, status: 'rejected', reason: 'Not during the sale', id }) },
  });
});

it('an identical call within the grant TTL of a rejection gets the same rejection at once, logged and counted', async (ctx) => {
  const under = await gateWith(ctx);
  const body = toolCall({ version: 'v3', ticket: 'CHG-replay' });
  const { id, answer } = await park(under, check({ body }));
  await under.gate.decide(id, CAROL, false, 'no');
  await answer;
  const before = await auditSeq(ctx);
  const again = refusal(await under.gate.check(check({ body }), caller()));
  assert.equal(again.details, { status: 'rejected', requestId: id, gate: 'platform', reviewers: ['carol'], reason: 'no', expiresAt: null, grantTtlSeconds: null });
  assert.equal(await auditEventsAfter(ctx, before), [['replayed_rejection', id, 'alice', { reason: 'no', by: 'carol' }]]);
  assert.equal([again.kind, again.reason], ['denied', 'no']);
  assert.equal(under.logs.filter((l) => l.msg === 'identical call rejected again').map((l) => [l.id, l.requester, l.traceparent]), [[id, 'alice', TRACE]]);
  assert.is(await decisions(under.metrics, 'replayed_rejection'), 1);
  assert.is(under.gate.parkedHere, 0);
});

it('a rejection is replayed for the grant TTL after it even when that is shorter than the park timeout', async (ctx) => {
  const under = await gateWith(ctx, { parkTimeoutMs: 120_000, grantTtlMs: 60_000 });
  const body = toolCall({ version: 'v3', ticket: 'CHG-short-ttl' });
  const { id, answer } = await park(under, check({ body }));
  await under.gate.decide(id, CAROL, false, 'no');
  await answer;
  const again = refusal(await under.gate.check(check({ body }), caller()));
  assert.equal([again.details.status, again.details.requestId], ['rejected', id]);
});

it('a caller that goes away after it was answered "waiting" changes nothing more', async (ctx) => {
  const under = await gateWith(ctx, { holdMs: 50 });
  const call = caller();
  const id = refusal(await under.gate.check(check(), call)).details.requestId!;
  const before = await auditSeq(ctx);
  call.leave();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(await auditAfter(ctx, before), []);
  assert.is((await read(ctx, id)).status, 'pending');
  await under.gate.decide(id, BOB, false, 'cleanup');
});

it('identical calls wait on one request: both are held, counted, and released by one decision', async (ctx) => {
  const under = await gateWith(ctx);
  const body = toolCall({ version: 'v3', ticket: 'CHG-join' });
  const first = await park(under, check({ body }));
  const before = await auditSeq(ctx);
  const second = await park(under, check({ body, requester: 'alice' }));
  assert.is(second.id, first.id);
  assert.is(under.gate.parkedHere, 2);
  assert.equal(await auditEventsAfter(ctx, before), [['joined', first.id, 'alice', { waiting: 2 }]]);
  assert.is((await read(ctx, first.id)).waiting, 2);
  assert.equal(under.logs.filter((l) => l.msg === 'joined').map((l) => [l.id, l.joined]), [[first.id, true]]);
  await under.gate.decide(first.id, BOB, true, 'both');
  const expected = { allowed: true, headers: { 'x-hitl-approval-id': first.id, 'x-hitl-approved-by': 'bob', 'x-hitl-traceparent': TRACE } };
  assert.equal([await first.answer, await second.answer], [expected, expected]);
  assert.is(under.gate.parkedHere, 0);
});

it('a call that joins a request decided before it was held is released by that decision', async (ctx) => {
  const under = await gateWith(ctx);
  const body = toolCall({ version: 'v3', ticket: 'CHG-late-join' });
  const first = await park(under, check({ body }));
  // The second call's join commits, then the decision commits and its change is heard, all
  // before the call is held: only a look at the request when it is held can release it.
  const racing = Object.create(ctx.store) as ApprovalStore;
  racing.arrive = async (...args) => {
    const arrival = await ctx.store.arrive(...args);
    const heard = nextChange(under.gate, (c) => c.type === 'approved' && c.id === first.id);
    await ctx.store.decide(first.id, BOB, true, 'decided during the join');
    await heard;
    await new Promise((resolve) => setImmediate(resolve));
    return arrival;
  };
  const late = await gateWith(ctx, { store: racing });
  const answer = await late.gate.check(check({ body }), caller());
  assert.equal(answer, { allowed: true, headers: { 'x-hitl-approval-id': first.id, 'x-hitl-approved-by': 'bob', 'x-hitl-traceparent': TRACE } });
  assert.equal(await first.answer, answer);
});

it('past the per-requester limit a call is refused at once as exhausted, without a request', async (ctx) => {
  const under = await gateWith(ctx, { flood: { overall: 1000, perRequester: 1 } });
  const held = await park(under, check({ requester: 'ivan' }));
  const answer = await under.gate.check(check({ requester: 'ivan' }), caller());
  const refused = refusal(answer);
  assert.equal([refused.kind, refused.reason], ['exhausted', 'ivan already has 1 requests waiting for review']);
  assert.is(refused.text, 'Refused by the platform gate: ivan already has 1 requests waiting for review');
  assert.equal(refused.details, { status: 'flood_denied', requestId: null, gate: 'platform', reviewers: [], reason: 'ivan already has 1 requests waiting for review', expiresAt: null, grantTtlSeconds: null });
  assert.is(await decisions(under.metrics, 'flood_denied'), 1);
  assert.is(under.gate.parkedHere, 1);
  await under.gate.decide(held.id, BOB, false, 'make room');
  await held.answer;
  const again = await park(under, check({ requester: 'ivan' }));
  await under.gate.decide(again.id, BOB, false, 'cleanup');
  await again.answer;
});

it('past the overall limit (--max-pending) any requester is refused at once; a decision makes room', async (ctx) => {
  const pendingNow = (await ctx.store.pending()).length;
  const under = await gateWith(ctx, { flood: { overall: pendingNow + 2, perRequester: 20 } });
  const held = [await park(under, check({ requester: 'judy' })), await park(under, check({ requester: 'karl' }))];
  const refused = refusal(await under.gate.check(check({ requester: 'liam' }), caller()));
  const reason = `too many requests waiting for review (${pendingNow + 2}); try later`;
  assert.equal([refused.kind, refused.reason, refused.details.status, refused.details.requestId], ['exhausted', reason, 'flood_denied', null]);
  assert.not.ok((await ctx.store.pending()).some((r) => r.requester === 'liam'), 'nothing parked for the refused call');
  await under.gate.decide(held[0].id, BOB, false, 'make room');
  await held[0].answer;
  const liam = await park(under, check({ requester: 'liam' }));
  for (const { id, answer } of [held[1], liam]) {
    await under.gate.decide(id, BOB, false, 'cleanup');
    await answer;
  }
});

it('a call nobody decides is refused when its time runs out, and the request is timed out', async (ctx) => {
  const under = await gateWith(ctx, { parkTimeoutMs: 300 });
  const input = check();
  const answer = under.gate.check(input, caller());
  const refused = refusal(await answer);
  const id = refused.details.requestId!;
  assert.equal([refused.kind, refused.reason, refused.text], ['denied', 'timed out after 300ms', 'Not approved (platform gate): timed out after 300ms; the call did not run']);
  assert.equal(refused.details, { status: 'timed_out', requestId: id, gate: 'platform', reviewers: [], reason: 'timed out after 300ms', expiresAt: null, grantTtlSeconds: null });
  const request = await read(ctx, id);
  assert.equal([request.status, request.reason], ['timed_out', 'timed out after 300ms']);
  assert.is(await decisions(under.metrics, 'timed_out'), 1);
});

it('a hold that ends first answers "waiting", keeps the request queued, and still times it out on time', async (ctx) => {
  const under = await gateWith(ctx, { holdMs: 50, parkTimeoutMs: 1500, grantTtlMs: 60_000 });
  const before = await auditSeq(ctx);
  const answer = await under.gate.check(check(), caller());
  const refused = refusal(answer);
  const id = refused.details.requestId!;
  const deferred = await read(ctx, id);
  assert.equal([refused.kind, refused.reason], ['denied', 'waiting']);
  assert.equal(refused.details, { status: 'waiting', requestId: id, gate: 'platform', reviewers: [], reason: null, expiresAt: deferred.expiresAt, grantTtlSeconds: 60 });
  assert.equal([deferred.status, deferred.waiting, typeof deferred.callerStoppedAt], ['pending', 0, 'string']);
  const entries = await auditAfter(ctx, before);
  assert.equal(entries.filter((e) => e.requestId === id).map((e) => [e.event, e.detail.reason]).slice(1), [['deferred', 'the gate stopped holding the call']]);
  assert.equal(under.logs.filter((l) => l.msg === 'hold ended; the request stays queued').map((l) => [l.id, l.traceparent]), [[id, TRACE]]);
  assert.is(await decisions(under.metrics, 'deferred'), 1);
  assert.is(under.gate.parkedHere, 0);
  await nextChange(under.gate, (c) => c.type === 'timed_out' && c.id === id);
  const expired = await read(ctx, id);
  assert.equal([expired.status, expired.reason], ['timed_out', 'timed out after 1500ms']);
});

it('an approval given after the hold lets the same call through once, logged and counted', async (ctx) => {
  const under = await gateWith(ctx, { holdMs: 50 });
  const body = toolCall({ version: 'v3', ticket: 'CHG-grant' });
  const id = refusal(await under.gate.check(check({ body }), caller())).details.requestId!;
  await under.gate.decide(id, BOB, true, 'go ahead');
  const before = await auditSeq(ctx);
  const answer = await under.gate.check(check({ body, traceparent: null }), caller());
  assert.equal(answer, { allowed: true, headers: { 'x-hitl-approval-id': id, 'x-hitl-approved-by': 'bob' }, removeHeaders: ['x-hitl-traceparent'] });
  assert.equal(await auditEventsAfter(ctx, before), [['grant_used', id, 'alice', { approvedBy: 'bob' }]]);
  assert.equal(under.logs.filter((l) => l.msg === 'approval given after the hold used by the same call').map((l) => [l.id, l.requester]), [[id, 'alice']]);
  assert.is(await decisions(under.metrics, 'grant_used'), 1);
});

it('a caller that goes away leaves its request abandoned and is answered so', async (ctx) => {
  const under = await gateWith(ctx);
  const { id, answer, leave } = await park(under);
  leave();
  const refused = refusal(await answer);
  assert.equal([refused.details.status, refused.details.requestId, refused.reason], ['abandoned', id, 'the caller went away before a decision']);
  const request = await read(ctx, id);
  assert.equal([request.status, request.reason], ['abandoned', 'the caller went away before a decision']);
  assert.is(await decisions(under.metrics, 'abandoned'), 1);
  assert.is(under.gate.parkedHere, 0);
});

it('a caller already gone when its call is parked leaves the request abandoned at once', async (ctx) => {
  const under = await gateWith(ctx);
  const gone = caller();
  gone.leave();
  const refused = refusal(await under.gate.check(check(), gone));
  assert.is(refused.details.status, 'abandoned');
  assert.is((await read(ctx, refused.details.requestId!)).status, 'abandoned');
});

it('one of two identical callers going away leaves the request waiting on the other', async (ctx) => {
  const under = await gateWith(ctx);
  const body = toolCall({ version: 'v3', ticket: 'CHG-one-leaves' });
  const first = await park(under, check({ body }));
  const second = await park(under, check({ body }));
  const before = await auditSeq(ctx);
  second.leave();
  const refused = refusal(await second.answer);
  assert.equal([refused.details.status, refused.reason], ['abandoned', 'the caller went away before a decision']);
  assert.equal(await auditEventsAfter(ctx, before), [['caller_left', first.id, null, { reason: 'the caller went away before a decision', waiting: 1 }]]);
  const request = await read(ctx, first.id);
  assert.equal([request.status, request.waiting], ['pending', 1]);
  await under.gate.decide(first.id, BOB, true, 'the other still waits');
  assert.is((await first.answer).allowed, true);
});

it('a decision committed as the hold ends is the answer, not "waiting"', async (ctx) => {
  const deciding = Object.create(ctx.store) as ApprovalStore;
  deciding.stopWaiting = async (id, why, reason) => {
    await ctx.store.decide(id, BOB, true, 'just in time');
    return ctx.store.stopWaiting(id, why, reason);
  };
  const under = await gateWith(ctx, { store: deciding, holdMs: 50 });
  const answer = await under.gate.check(check(), caller());
  assert.is(answer.allowed, true, JSON.stringify(answer));
});

it('a store that fails while a caller leaves: the call is answered abandoned and the failure logged', async (ctx) => {
  const failing = Object.create(ctx.store) as ApprovalStore;
  failing.stopWaiting = async () => {
    throw new Error('the store is closed');
  };
  const under = await gateWith(ctx, { store: failing });
  const { id, answer, leave } = await park(under);
  leave();
  const refused = refusal(await answer);
  assert.equal([refused.details.status, refused.details.requestId, refused.reason], ['abandoned', id, 'the approval store is unavailable']);
  const logged = under.logs.find((l) => l.msg === 'could not record the end of a held call');
  assert.equal([logged?.level, logged?.id, logged?.why, logged?.traceparent, logged?.err?.message], [50, id, 'abandoned', TRACE, 'the store is closed']);
  await ctx.store.decide(id, BOB, false, 'cleanup');
});

it('a request gone from the store when its caller leaves is answered abandoned', async (ctx) => {
  const forgetful = Object.create(ctx.store) as ApprovalStore;
  forgetful.stopWaiting = async () => null;
  const under = await gateWith(ctx, { store: forgetful });
  const { id, answer, leave } = await park(under);
  leave();
  const refused = refusal(await answer);
  assert.equal([refused.details.status, refused.details.requestId, refused.reason], ['abandoned', id, 'the request is gone']);
  await ctx.store.decide(id, BOB, false, 'cleanup');
});

it('a call whose time runs out just after a decision is answered with the decision, even with the change feed silent', async (ctx) => {
  const deciding = Object.create(ctx.store) as ApprovalStore;
  deciding.finish = async (id, status, reason) => {
    await ctx.store.decide(id, BOB, true, 'in the last moment');
    return ctx.store.finish(id, status, reason);
  };
  const deaf = gateNotStarted(ctx, { store: deciding, parkTimeoutMs: 100 });
  const answer = await deaf.gate.check(check(), caller());
  assert.equal([answer.allowed, answer.allowed && answer.headers['x-hitl-approved-by']], [true, 'bob']);
});

it('a decision that cannot be read yet is logged, and the call stays held until one can be', async (ctx) => {
  const under = await gateWith(ctx);
  const body = toolCall({ version: 'v3', ticket: 'CHG-unreadable' });
  const first = await park(under, check({ body }));
  const { store: failing, reached: lookedUp } = unreachableAt(ctx.store, 'get');
  const joining = await gateWith(ctx, { store: failing });
  const second = await park(joining, check({ body }));
  await lookedUp;
  await new Promise((resolve) => setImmediate(resolve));
  const warned = joining.logs.filter((l) => l.msg === 'could not read a decision yet; will retry on reconnect');
  assert.equal(warned.map((l) => [l.level, l.id, l.err?.message]), [[40, first.id, 'the store is unreachable']]);
  assert.is(joining.gate.parkedHere, 1);
  second.leave();
  assert.is(refusal(await second.answer).details.status, 'abandoned');
  await under.gate.decide(first.id, BOB, false, 'cleanup');
  await first.answer;
});

it('a deferred request that cannot be timed out when its time runs out is logged, for the sweep to end', async (ctx) => {
  const { store: failing, reached: triedToFinish } = unreachableAt(ctx.store, 'finish');
  const under = await gateWith(ctx, { store: failing, holdMs: 50, parkTimeoutMs: 300 });
  const id = refusal(await under.gate.check(check(), caller())).details.requestId!;
  await triedToFinish;
  await new Promise((resolve) => setImmediate(resolve));
  const warned = under.logs.filter((l) => l.msg === 'could not time out a deferred request; the sweep will');
  assert.equal(warned.map((l) => [l.level, l.id, l.err, l.traceparent]), [[40, id, 'the store is unreachable', TRACE]]);
  assert.is((await read(ctx, id)).status, 'pending');
  await ctx.store.decide(id, BOB, false, 'cleanup');
});

it('every open reviewer page may listen to the gate: no listener cap', async (ctx) => {
  const under = await gateWith(ctx);
  assert.is(under.gate.getMaxListeners(), 0);
});

it.run();
