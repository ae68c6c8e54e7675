/**
 * The agent's A2A endpoint in this process: the Hono app answering the official A2A SDK
 * client through its own fetch, the tasks, threads and decisions in a fresh PostgreSQL
 * database, the offline model, and a scripted gateway that records every call reaching it
 * (and can hold one, as a platform review does). Each case takes milliseconds; a2a.test.ts and
 * ownership.test.ts run the same endpoint against the real gateway, ext-auth and MCP server.
 */
import { TaskState, type StreamResponse, type Task } from '@a2a-js/sdk';
import { AIMessage, type BaseMessage } from '@langchain/core/messages';
import { exportJWK, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { a2aApp, agentCard, ApprovalGuard } from '../../app/agent/a2a-server.js';
import { HITL_EXTENSION } from '../../app/agent/approval-wire.js';
import { CallerIdentity } from '../../app/agent/caller-identity.js';
import { DurableCheckpointer } from '../../app/agent/checkpoints.js';
import { DecisionAudit } from '../../app/agent/decision-audit.js';
import { AssistantExecutor } from '../../app/agent/executor.js';
import type { ToolOutcome } from '../../app/agent/gateway-tools.js';
import { buildGraph, type AgentModel } from '../../app/agent/graph.js';
import { offlineTurn } from '../../app/agent/offline-model.js';
import { createAgentTables } from '../../app/agent/schema.js';
import { SqlTaskStore } from '../../app/agent/task-store.js';
import { assistantDescription } from '../../app/catalogue.js';
import { createLogger } from '../../app/shared/log.js';
import { openDatabase, type Sql } from '../../app/shared/sql.js';
import { approveAll, chatClient, failure, isCompleted, isPaused, pauseOf, replyText, type ChatClient, type Generation } from '../helpers/a2a.js';
import { freshDatabase, onPostgres } from '../helpers/postgres.js';
import { ScriptedGateway, type ProposedCall } from '../helpers/scripted-gateway.js';
import { tempDir } from '../helpers/temp.js';

const ORIGIN = 'http://agent.test';

/** The offline model, and one request it would not make alone: two user-tier calls in one answer. */
const model: AgentModel = {
  async invoke(messages: BaseMessage[]) {
    const last = messages.at(-1)!;
    if (last.getType() === 'human' && last.content === 'Truncate orders and customers.') {
      const truncate = (table: string) => ({ name: 'truncate_table', args: { table }, id: `call-${randomUUID()}`, type: 'tool_call' as const });
      return new AIMessage({ content: 'Truncating both.', tool_calls: [truncate('orders'), truncate('customers')] });
    }
    return offlineTurn(messages, () => `call-${randomUUID()}`);
  },
};

/** A call the gateway holds until the test lets it go; `reached` resolves when it arrives. */
function heldCall() {
  let release!: (outcome: ToolOutcome) => void;
  let arrived!: () => void;
  const outcome = new Promise<ToolOutcome>((resolve) => (release = resolve));
  const reached = new Promise<void>((resolve) => (arrived = resolve));
  return { outcome, reached, arrived, release };
}

interface Agent {
  gateway: ScriptedGateway;
  fetch: typeof fetch;
  client(generation?: Generation, as?: string | Record<string, string> | null): Promise<ChatClient>;
}

/** The A2A endpoint as `hitl agent` assembles it, over `sql`, with `gateway` behind its tools. */
function agentOn(sql: Sql, gateway: ScriptedGateway, identity = new CallerIdentity({ requesterHeader: 'x-user-id' })): Agent {
  const graph = buildGraph({ model, tools: gateway, checkpointer: new DurableCheckpointer(sql) });
  const cardFor = (origin: string) => agentCard(`${origin}/`, identity.usesJwt);
  const executor = new AssistantExecutor(graph, new DecisionAudit(sql), createLogger('agent', 'silent'));
  const app = a2aApp(new ApprovalGuard(cardFor(ORIGIN), new SqlTaskStore(sql), executor, graph), cardFor, identity);
  const fetchImpl = ((input: RequestInfo | URL, init?: RequestInit) => app.request(input instanceof Request ? input : String(input), init)) as typeof fetch;
  return { gateway, fetch: fetchImpl, client: (generation = '1.0', as = 'erin') => chatClient(ORIGIN, generation, as, { fetchImpl }) };
}

interface Ctx {
  dropDatabase: () => Promise<void>;
  sql: Sql;
  dir: ReturnType<typeof tempDir>;
}

const it = onPostgres(suite<Ctx>('the A2A endpoint in this process, with a scripted gateway'));

it.before(async (ctx) => {
  const db = await freshDatabase('a2a_guard');
  ctx.dropDatabase = db.drop;
  ctx.dir = tempDir('a2a-guard');
  ctx.sql = await openDatabase({ dataDir: ctx.dir.path, databaseUrl: db.url });
  await createAgentTables(ctx.sql);
});
it.after(async (ctx) => {
  await ctx.sql.close();
  await ctx.dropDatabase();
  ctx.dir.remove();
});

const extensionAnswer = (approvals: unknown[]) => ({ metadata: { [HITL_EXTENSION]: { type: 'tool_approval_response', approvals } } });
const staleRefusal = (taskId: string) => `task ${taskId} is not waiting for an approval; this answer is stale and resumes nothing`;


/** A JSON-RPC call posted as it is written, for what the SDK client does not show: status, headers, raw errors. */
const post = (agent: Agent, body: unknown, headers: Record<string, string> = {}) =>
  agent.fetch(`${ORIGIN}/`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const hello = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'SendMessage',
  params: { message: { messageId: randomUUID(), role: 'ROLE_USER', parts: [{ text: 'Hello.' }] } },
});
const legacyHello = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'message/send',
  params: { message: { kind: 'message', messageId: randomUUID(), role: 'user', parts: [{ kind: 'text', text: 'Hello.' }] } },
});

const skill = {
  id: 'orders-dba',
  name: 'Orders DBA',
  description: 'Query, truncate and migrate the orders database',
  tags: ['database'],
  examples: ["What's in the orders table?", 'Apply migration v3.'],
};
const offeredExtension = { uri: HITL_EXTENSION, required: false, description: 'Tool approvals in the chat (kagent hitl/v1)' };

it('the card in A2A 0.3, for a client that names no version or 0.3: the agent, its skill, and the hitl/v1 extension offered, at the address it was fetched from', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  for (const headers of [{}, { 'a2a-version': '0.3' }] as Record<string, string>[]) {
    const card = await (await agent.fetch(`${ORIGIN}/.well-known/agent-card.json`, { headers })).json();
    assert.equal(card, {
      protocolVersion: '0.3.0',
      name: 'dba-assistant-langgraph',
      description: assistantDescription(),
      url: `${ORIGIN}/`,
      preferredTransport: 'JSONRPC',
      version: '0.1.0',
      capabilities: { streaming: true, pushNotifications: false, extensions: [offeredExtension] },
      defaultInputModes: ['text/plain'],
      defaultOutputModes: ['text/plain'],
      skills: [skill],
    });
  }
});

it('the card in A2A 1.0: both protocol generations on one JSON-RPC endpoint, streaming, the hitl/v1 extension offered', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const card = await (await agent.fetch(`${ORIGIN}/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json();
  assert.equal([card.name, card.description, card.version], ['dba-assistant-langgraph', assistantDescription(), '0.1.0']);
  assert.equal(
    card.supportedInterfaces.map((i: Record<string, string>) => [i.url, i.protocolBinding, i.protocolVersion, i.tenant ?? '']),
    [[`${ORIGIN}/`, 'JSONRPC', '1.0', ''], [`${ORIGIN}/`, 'JSONRPC', '0.3', '']],
  );
  assert.equal(card.capabilities.streaming, true);
  assert.equal(card.capabilities.extensions.map((e: typeof offeredExtension) => [e.uri, e.required ?? false, e.description]), [[HITL_EXTENSION, false, offeredExtension.description]]);
  assert.equal([card.defaultInputModes, card.defaultOutputModes], [['text/plain'], ['text/plain']]);
  assert.equal(card.skills, [skill]);
  assert.is(card.securitySchemes, undefined, 'no bearer JWT asked for');
  assert.is(card.securityRequirements, undefined);
});

it('an agent that takes the user from a bearer JWT says so on both cards, and challenges a request that names nobody', async (ctx) => {
  const { publicKey } = await generateKeyPair('ES256');
  const jwks = join(ctx.dir.path, 'jwks.json');
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
  const agent = agentOn(ctx.sql, new ScriptedGateway(), new CallerIdentity({ requesterHeader: 'x-user-id', jwks }));
  const legacy = await (await agent.fetch(`${ORIGIN}/.well-known/agent-card.json`)).json();
  assert.equal(legacy.securitySchemes, { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'a JWT naming the user in its sub claim' } });
  assert.equal(legacy.security, [{ bearer: [] }]);
  const current = await (await agent.fetch(`${ORIGIN}/.well-known/agent-card.json`, { headers: { 'a2a-version': '1.0' } })).json();
  assert.equal(current.securitySchemes, { bearer: { httpAuthSecurityScheme: { description: 'a JWT naming the user in its sub claim', scheme: 'Bearer', bearerFormat: 'JWT' } } });
  assert.equal(current.securityRequirements, [{ schemes: { bearer: {} } }]);

  const refused = await post(agent, hello(4), { 'a2a-version': '1.0', 'x-user-id': 'erin' });
  assert.is(refused.status, 401);
  assert.is(refused.headers.get('www-authenticate'), 'Bearer realm="hitl-agent"');
  assert.equal(await refused.json(), { jsonrpc: '2.0', id: 4, error: { code: -32600, message: 'who is asking? send a bearer JWT naming the user in its sub claim' } });
});

it('a request that names nobody is refused with 401, no challenge where a header names the user, and its id echoed', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  for (const generation of ['1.0', '0.3'] as Generation[]) {
    const nobody = await agent.client(generation, null);
    assert.is(await failure(nobody.send('Truncate the orders table.')), 'who is asking? name the user in the x-user-id header');
  }
  const refused = await post(agent, hello(7), { 'a2a-version': '1.0' });
  assert.is(refused.status, 401);
  assert.is(refused.headers.get('www-authenticate'), null);
  assert.equal(await refused.json(), { jsonrpc: '2.0', id: 7, error: { code: -32600, message: 'who is asking? name the user in the x-user-id header' } });
  const { id, ...noId } = hello(0);
  assert.equal((await (await post(agent, noId, { 'a2a-version': '1.0' })).json()).id, null, 'a request without an id is answered with id null');
  assert.equal(agent.gateway.sent, []);
});

it('a body that is not JSON is a parse error, whoever sends it', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  for (const headers of [{ 'x-user-id': 'erin' }, {}] as Record<string, string>[]) {
    const answer = await post(agent, '{"jsonrpc": "2.0",', headers);
    assert.is(answer.status, 200);
    assert.equal(await answer.json(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'the body is not JSON' } });
  }
});

it('an A2A version the agent does not speak is refused in that version\'s terms, with the request id', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const answer = await (await post(agent, hello(9), { 'a2a-version': '2.0', 'x-user-id': 'erin' })).json();
  assert.equal([answer.jsonrpc, answer.id], ['2.0', 9]);
  assert.is(answer.error.code, -32009);
  assert.is(answer.error.message, "The requested A2A protocol version '2.0' is not supported. Supported versions: 1.0, 0.3");
  const { id, ...noId } = hello(0);
  assert.is((await (await post(agent, noId, { 'a2a-version': '2.0', 'x-user-id': 'erin' })).json()).id, null);
  assert.equal(agent.gateway.sent, []);
});

it('each generation reads its own extensions header, and the answer says in the same header that hitl/v1 is on', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const current = await post(agent, hello(1), { 'a2a-version': '1.0', 'x-user-id': 'erin', 'a2a-extensions': HITL_EXTENSION });
  assert.is(current.headers.get('a2a-extensions'), HITL_EXTENSION);
  assert.is(current.headers.get('x-a2a-extensions'), null);
  assert.is((await current.json()).result.task.status.state, 'TASK_STATE_COMPLETED');
  const legacy = await post(agent, legacyHello(2), { 'x-user-id': 'erin', 'x-a2a-extensions': HITL_EXTENSION });
  assert.is(legacy.headers.get('x-a2a-extensions'), HITL_EXTENSION);
  assert.is(legacy.headers.get('a2a-extensions'), null);
  assert.is((await legacy.json()).result.status.state, 'completed');
  const legacyWithCurrentHeader = await post(agent, legacyHello(3), { 'x-user-id': 'erin', 'a2a-extensions': HITL_EXTENSION });
  assert.is(legacyWithCurrentHeader.headers.get('x-a2a-extensions'), HITL_EXTENSION, 'a 0.3 client may use the 1.0 header');
  const currentWithLegacyHeader = await post(agent, hello(4), { 'a2a-version': '1.0', 'x-user-id': 'erin', 'x-a2a-extensions': HITL_EXTENSION });
  assert.is(currentWithLegacyHeader.headers.get('a2a-extensions'), null, 'a 1.0 client is read from the 1.0 header only');
  const without = await post(agent, hello(5), { 'a2a-version': '1.0', 'x-user-id': 'erin' });
  assert.is(without.headers.get('a2a-extensions'), null);
});

it('a stale answer is refused in the generation it was asked in', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const legacy = await agent.client('0.3');
  const paused = await legacy.send('Truncate the customers table.');
  await approveAll(legacy, paused, false, 'no');
  const stale = {
    jsonrpc: '2.0',
    id: 11,
    method: 'message/send',
    params: { message: { kind: 'message', messageId: randomUUID(), role: 'user', taskId: paused.id, contextId: paused.contextId, parts: [{ kind: 'data', data: { decision_type: 'approve' } }] } },
  };
  const legacyError = { code: -32602, message: staleRefusal(paused.id) };
  assert.equal(await (await post(agent, stale, { 'x-user-id': 'erin' })).json(), { jsonrpc: '2.0', id: 11, error: legacyError });
  // Over a stream the error is the app's to write, in the same terms.
  const streamed = await (await post(agent, { ...stale, method: 'message/stream' }, { 'x-user-id': 'erin' })).text();
  assert.equal(sseData(streamed), [{ error: { jsonrpc: '2.0', id: 11, error: legacyError } }]);

  const current = { jsonrpc: '2.0', id: 12, method: 'SendMessage', params: { message: { messageId: randomUUID(), role: 'ROLE_USER', taskId: paused.id, parts: [{ data: { decision_type: 'approve' } }] } } };
  const currentError = { ...legacyError, data: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'INVALID_PARAMS', domain: 'a2a-protocol.org' }] };
  assert.equal(await (await post(agent, current, { 'x-user-id': 'erin', 'a2a-version': '1.0' })).json(), { jsonrpc: '2.0', id: 12, error: currentError });
  const currentStreamed = await (await post(agent, { ...current, method: 'SendStreamingMessage' }, { 'x-user-id': 'erin', 'a2a-version': '1.0' })).text();
  assert.equal(sseData(currentStreamed), [{ error: { jsonrpc: '2.0', id: 12, error: currentError } }]);
  assert.equal(agent.gateway.sent, []);
});

it('invalid hitl/v1 answers are refused as such and resume nothing', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const client = await agent.client();
  const paused = await client.send('Truncate the customers table.');
  const [id] = pauseOf(paused).approvalIds;
  assert.is(await failure(client.answer(paused, extensionAnswer([{ id: 'approval-nope', approved: true }]))), 'invalid approval answer: unknown approval id "approval-nope"');
  assert.is(await failure(client.answer(paused, {})), `invalid approval answer: the message carries no metadata["${HITL_EXTENSION}"]`);
  assert.ok(isPaused(await client.getTask(paused.id)), 'still waiting');
  assert.equal(agent.gateway.sent, [], 'nothing ran');
  assert.ok(isCompleted(await client.answer(paused, extensionAnswer([{ id, approved: true }]))));
  assert.equal(agent.gateway.sent, ['truncate_table']);
});

it('an answer to a task that ended is refused by the guard, not by the task having ended', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const client = await agent.client();
  const paused = await client.send('Truncate the customers table.');
  const [id] = pauseOf(paused).approvalIds;
  assert.match(replyText(await client.answer(paused, extensionAnswer([{ id, approved: false, rejection_reason: 'keep them' }]))), /keep them/);
  assert.is(await failure(client.answer(paused, extensionAnswer([{ id, approved: true }]))), staleRefusal(paused.id));
  assert.equal(agent.gateway.sent, []);
});

it('an answer to a task that is still working (its call held at the gateway) is refused by the guard and starts nothing', async (ctx) => {
  const held = heldCall();
  const agent = agentOn(ctx.sql, new ScriptedGateway((call) => (call.name === 'run_migration' ? (held.arrived(), held.outcome) : { ok: true, text: 'done' })));
  const client = await agent.client();
  const working = await client.start('Apply migration v3.');
  await held.reached;
  // Neither paused nor ended; whether the store has caught up from submitted to working is the SDK's timing.
  const state = (await client.getTask(working.id)).status?.state;
  assert.ok(state === TaskState.TASK_STATE_SUBMITTED || state === TaskState.TASK_STATE_WORKING, `in progress, not ${state}`);
  for (const answer of [extensionAnswer([{ id: 'approval-x', approved: true }]), { data: { decision_type: 'approve' } }]) {
    assert.is(await failure(client.answer(working, answer)), staleRefusal(working.id));
  }
  held.release({ ok: true, text: 'Migrated v2 → v3.' });
  const done = await untilSettled(client, working.id);
  assert.ok(isCompleted(done), replyText(done));
  assert.equal(agent.gateway.sent, ['run_migration'], 'no second turn ran beside the first');
  assert.match(replyText(done), /Migrated v2 → v3\./, 'the task ends on its own call');
});

it('an answer sent on a paused conversation without its task id is stale: the pause stands, and the task answers it', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const client = await agent.client();
  const paused = await client.send('Truncate the customers table.');
  const [id] = pauseOf(paused).approvalIds;
  assert.is(await failure(client.answer({ ...paused, id: '' }, extensionAnswer([{ id, approved: true }]))), staleRefusal('(none)'));
  assert.ok(isPaused(await client.getTask(paused.id)));
  assert.equal(agent.gateway.sent, []);
  // The task id alone is enough: the guard finds the conversation through the task.
  assert.ok(isCompleted(await client.answer({ ...paused, contextId: '' }, extensionAnswer([{ id, approved: true }]))));
  assert.equal(agent.gateway.sent, ['truncate_table']);
});

it('a new request on a conversation that waits is refused, naming every call it waits on', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const client = await agent.client();
  const paused = await client.send('Truncate orders and customers.');
  assert.equal(pauseOf(paused).tools, ['truncate_table', 'truncate_table']);
  const refusal = 'this conversation is waiting for an answer on truncate_table, truncate_table; approve or reject it before asking something new';
  assert.is(await failure(client.send('List the tables.', { contextId: paused.contextId })), refusal);
  assert.ok(isPaused(await client.getTask(paused.id)));
  assert.equal(agent.gateway.sent, []);
});

it("an answer to another user's paused task, or to none, is not found, exactly as for an id never used", async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const victim = await agent.client('1.0', 'victim');
  const paused = await victim.send('Truncate the customers table.');
  const mallory = await agent.client('1.0', 'mallory');
  for (const generation of ['1.0', '0.3'] as Generation[]) {
    const client = generation === '1.0' ? mallory : await agent.client('0.3', 'mallory');
    assert.is(await failure(approveAll(client, paused, true)), `Task not found: ${paused.id}`);
    const unused = randomUUID();
    assert.is(await failure(approveAll(client, { ...paused, id: unused }, true)), `Task not found: ${unused}`);
  }
  assert.ok(isPaused(await victim.getTask(paused.id)));
  assert.equal(agent.gateway.sent, []);
});

it('two answers to one pause sent at once: one applies, the other is stale, and the call runs once', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const client = await agent.client();
  const paused = await client.send('Truncate the customers table.');
  const outcomes = await Promise.allSettled([approveAll(client, paused, true), approveAll(client, paused, true), approveAll(client, paused, false, 'no')]);
  assert.is(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  for (const o of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) assert.is((o.reason as Error).message, staleRefusal(paused.id));
  assert.ok(agent.gateway.sent.length <= 1, 'the call ran at most once');
});

it('requests on other tasks do not wait for a task whose call the gateway holds', async (ctx) => {
  const held = heldCall();
  const agent = agentOn(ctx.sql, new ScriptedGateway((call) => (call.name === 'run_migration' ? (held.arrived(), held.outcome) : { ok: true, text: 'done' })));
  const client = await agent.client();
  const migrating = client.send('Apply migration v3.');
  await held.reached;
  const other = await agent.client('1.0', 'frank');
  assert.ok(isCompleted(await other.send('List the tables.')), "another user's request is answered meanwhile");
  assert.ok(isCompleted(await client.send('List the tables.')), "and the same user's, on another conversation");
  held.release({ ok: true, text: 'Migrated v2 → v3.' });
  assert.ok(isCompleted(await migrating));
});

it('over a stream: the task opens it and its pause ends it; a stale or invalid answer is refused in the stream', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const client = await agent.client();
  const events = await client.sendStreaming('Truncate the customers table.');
  assert.equal(events.map(stateOf), [TaskState.TASK_STATE_SUBMITTED, TaskState.TASK_STATE_WORKING, TaskState.TASK_STATE_INPUT_REQUIRED]);
  const paused = await client.getTask(taskIdOf(events[0]));
  const [id] = pauseOf(paused).approvalIds;
  assert.match(await failure(client.answerStreaming(paused, extensionAnswer([]))), /^SSE event contained an error: invalid approval answer: every pending approval must be answered; missing /);
  const answered = await client.answerStreaming(paused, extensionAnswer([{ id, approved: true }]));
  assert.is(stateOf(answered.at(-1)!), TaskState.TASK_STATE_COMPLETED);
  assert.equal(agent.gateway.sent, ['truncate_table']);
  assert.match(await failure(client.answerStreaming(paused, extensionAnswer([{ id, approved: true }]))), new RegExp(`^SSE event contained an error: ${staleRefusal(paused.id)} \\(Code: -32602\\)`));
  assert.equal(agent.gateway.sent, ['truncate_table'], 'the stale answer ran nothing');
});

it('a stream answers with the event-stream headers', async (ctx) => {
  const agent = agentOn(ctx.sql, new ScriptedGateway());
  const answer = await post(agent, { ...hello(1), method: 'SendStreamingMessage' }, { 'a2a-version': '1.0', 'x-user-id': 'erin' });
  assert.is(answer.headers.get('content-type'), 'text/event-stream');
  assert.is(answer.headers.get('cache-control'), 'no-cache');
  const events = sseData(await answer.text());
  assert.is(events.at(-1).result.statusUpdate.status.state, 'TASK_STATE_COMPLETED');
});

/** Each event of a server-sent event stream: its type (when not the default) and its JSON. */
const sseData = (body: string) =>
  body
    .split('\n\n')
    .filter(Boolean)
    .map((event) => {
      const type = /^event: (.+)$/m.exec(event)?.[1];
      const data = JSON.parse(/^data: (.*)$/m.exec(event)![1]);
      return type ? { [type]: data } : data;
    });

const stateOf = (event: StreamResponse) => {
  const payload = event.payload!;
  return payload.$case === 'task' ? payload.value.status?.state : payload.$case === 'statusUpdate' ? payload.value.status?.state : undefined;
};
const taskIdOf = (event: StreamResponse) => (event.payload as { value: Task }).value.id;

/** The task once it has stopped working; each read waits for the one before, no timer involved. */
async function untilSettled(client: ChatClient, id: string): Promise<Task> {
  for (;;) {
    const task = await client.getTask(id);
    if (task.status?.state !== TaskState.TASK_STATE_WORKING && task.status?.state !== TaskState.TASK_STATE_SUBMITTED) return task;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

it.run();
