import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { Command, MemorySaver } from '@langchain/langgraph';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { GatewayTools } from '../../app/agent/gateway-tools.js';
import { buildGraph, type AgentGraph } from '../../app/agent/graph.js';
import { offlineModel, planFor } from '../../app/agent/offline-model.js';
import { notRetried } from '../../app/agent/refused-calls.js';
import { createLogger } from '../../app/shared/log.js';
import type { QueueChange } from '../../app/contracts/admin-api.js';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { startStack, type Stack } from '../helpers/stack.js';

interface Ctx {
  stack: Stack;
  tools: GatewayTools;
  graph: AgentGraph;
  /** The same graph driven by a model that insists on repeating a refused call. */
  insistent: AgentGraph;
}

/** A model that repeats its call after every refusal, up to three attempts. */
const insistentModel = {
  async invoke(messages: BaseMessage[]) {
    const human = messages.filter((m) => m.getType() === 'human').at(-1)!;
    const sinceHuman = messages.slice(messages.lastIndexOf(human) + 1);
    const results = sinceHuman.filter((m) => m.getType() === 'tool');
    if (results.length === 3) return new AIMessage(`Gave up: ${results.map((r) => r.content).join(' | ')}`);
    const call = planFor(String(human.content))!;
    return new AIMessage({ content: 'Trying.', tool_calls: [{ ...call, id: `attempt-${results.length}`, type: 'tool_call' }] });
  },
};

const it = suite<Ctx>('the agent graph against the real MCP server behind the gateway and ext-auth');

it.before(async (ctx) => {
  ctx.stack = await startStack();
  ctx.tools = await GatewayTools.connect({
    gatewayUrl: ctx.stack.gatewayUrl,
    agentName: 'dba-assistant-under-test',
    requesterHeader: 'x-user-id',
    callTimeoutMs: 60_000,
    connectForMs: 5_000,
    log: createLogger('agent', 'silent'),
  });
  ctx.graph = buildGraph({ model: offlineModel(), tools: ctx.tools, checkpointer: new MemorySaver() });
  ctx.insistent = buildGraph({ model: insistentModel, tools: ctx.tools, checkpointer: new MemorySaver() });
});
it.after(async (ctx) => {
  await ctx.tools.close();
  await ctx.stack.close();
});

let thread = 0;
const start = (ctx: Ctx, prompt: string) => {
  const config = { configurable: { thread_id: `t${++thread}` } };
  return { config, run: ctx.graph.invoke({ messages: [new HumanMessage(prompt)], user: 'erin' }, config) };
};
/** The pauses a run ended on (LangGraph reports them under __interrupt__). */
const pauses = (state: object) => (state as { __interrupt__?: { value: any }[] }).__interrupt__ ?? [];
const lastText = (state: { messages: { content: unknown }[] }) => String(state.messages.at(-1)!.content);
const dbState = async (ctx: Ctx) => (await fetch(`${ctx.stack.mcp.url}/state`)).json();

it('scene 1: a query runs with no approval anywhere', async (ctx) => {
  const { run } = start(ctx, "What's in the orders table?");
  const state = await run;
  assert.is(pauses(state).length, 0, 'no pause');
  assert.match(lastText(state), /^Schema v2: 3 rows\.\n\n\| id \| customer \| amount \| status \| created_at \|\n/);
});

it('scene 2: truncate pauses for the user; the reviewer queue stays empty; approve empties the table', async (ctx) => {
  const { config, run } = start(ctx, 'Truncate the orders table.');
  const paused = await run;
  const [pause] = pauses(paused);
  assert.equal(pause.value.action_requests.map((a: any) => [a.name, a.args]), [['truncate_table', { table: 'orders' }]]);
  assert.equal((await (await admin(ctx.stack.ext.adminUrl, 'bob').get('/pending')).json()).pending, []);
  const done = await ctx.graph.invoke(new Command({ resume: { decision_type: 'approve' } }), config);
  assert.is(lastText(done), 'Truncated orders: 3 rows deleted.');
  assert.is((await dbState(ctx)).row_counts.orders, 0);
});

it('a user rejection reaches the model with its reason and runs nothing', async (ctx) => {
  const { config, run } = start(ctx, 'Truncate the customers table.');
  await run;
  const done = await ctx.graph.invoke(new Command({ resume: { decision_type: 'reject', rejection_reasons: { '*': 'customers are precious' } } }), config);
  assert.ok(lastText(done).includes('customers are precious'), lastText(done));
  assert.ok((await dbState(ctx)).row_counts.customers > 0);
});

it('scenes 3 and 4: a migration waits at the gateway for the reviewer; approval applies it, rejection reaches the user verbatim', async (ctx) => {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const { run } = start(ctx, 'Apply migration v3.');
  const { id } = await parked;
  const request = await (await admin(ctx.stack.ext.adminUrl, 'bob').get(`/requests/${id}`)).json();
  assert.is(request.requester, 'erin', 'the gate knows who asked');
  assert.is((await admin(ctx.stack.ext.adminUrl, 'bob').decide(id, true, 'ok')).status, 204);
  const applied = await run;
  assert.is(pauses(applied).length, 0, 'the agent never paused for it');
  assert.is((await dbState(ctx)).schema_version, 'v3');

  const parkedAgain = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const second = start(ctx, 'Apply migration v4.');
  const { id: secondId } = await parkedAgain;
  await admin(ctx.stack.ext.adminUrl, 'bob').decide(secondId, false, 'not before the release');
  const refused = await second.run;
  assert.ok(lastText(refused).includes('not before the release'), lastText(refused));
  assert.ok(lastText(refused).includes('will not retry'));
  assert.is((await dbState(ctx)).schema_version, 'v3', 'schema unchanged');
  const pending = (await (await admin(ctx.stack.ext.adminUrl, 'bob').get('/pending')).json()).pending;
  assert.equal(pending, [], 'no retry reached the gate');
});

it('a model that repeats a call the reviewer rejected cannot: one card, the reason reaches it, nothing runs', async (ctx) => {
  const admins = admin(ctx.stack.ext.adminUrl, 'bob');
  const parked: string[] = [];
  // Every card is rejected, so a second attempt reaching the gate would be counted, not left hanging.
  const rejectEach = (change: QueueChange) => {
    if (change.type !== 'parked') return;
    parked.push(change.id);
    void admins.decide(change.id, false, 'frozen for the audit');
  };
  ctx.stack.ext.gate.on('change', rejectEach);
  try {
    const config = { configurable: { thread_id: `t${++thread}` } };
    // Another user than the scene above, whose identical call the gate would refuse at once by replaying its rejection.
    const done = await ctx.insistent.invoke({ messages: [new HumanMessage('Apply migration v4.')], user: 'frank' }, config);
    assert.is(parked.length, 1, 'only the first attempt reached the gate');
    const results = done.messages.filter((m) => m.getType() === 'tool').map((m) => String(m.content));
    assert.is(results.length, 3);
    assert.ok(results[0].includes('frozen for the audit'), results[0]);
    for (const repeat of results.slice(1)) assert.is(repeat, notRetried(results[0]));
    assert.is((await dbState(ctx)).schema_version, 'v3', 'schema unchanged');
  } finally {
    ctx.stack.ext.gate.off('change', rejectEach);
  }
});

it('a model that repeats a call the user rejected cannot: the user is not asked again', async (ctx) => {
  const config = { configurable: { thread_id: `t${++thread}` } };
  const paused = await ctx.insistent.invoke({ messages: [new HumanMessage('Truncate the customers table.')], user: 'erin' }, config);
  assert.is(pauses(paused).length, 1);
  const done = await ctx.insistent.invoke(new Command({ resume: { decision_type: 'reject', rejection_reasons: { '*': 'keep them' } } }), config);
  assert.is(pauses(done).length, 0, 'no second question');
  const results = done.messages.filter((m) => m.getType() === 'tool').map((m) => String(m.content));
  assert.is(results.length, 3);
  assert.is(results[0], 'The user rejected the call to truncate_table: keep them');
  for (const repeat of results.slice(1)) assert.is(repeat, notRetried(results[0]));
  assert.ok((await dbState(ctx)).row_counts.customers > 0);
});

it('a tool the catalogue does not know pauses for the user before anything is sent', async (ctx) => {
  const unknownCaller = { invoke: async (messages: BaseMessage[]) =>
    messages.at(-1)!.getType() === 'tool'
      ? new AIMessage(String(messages.at(-1)!.content))
      : new AIMessage({ content: '', tool_calls: [{ name: 'drop_database', args: { name: 'orders' }, id: 'c1', type: 'tool_call' }] }) };
  const graph = buildGraph({ model: unknownCaller, tools: ctx.tools, checkpointer: new MemorySaver() });
  const config = { configurable: { thread_id: `t${++thread}` } };
  const paused = await graph.invoke({ messages: [new HumanMessage('Drop the orders database.')], user: 'erin' }, config);
  assert.equal(pauses(paused).map((p) => p.value.action_requests.map((a: any) => a.name)), [['drop_database']]);
  const done = await graph.invoke(new Command({ resume: { decision_type: 'approve' } }), config);
  assert.is(lastText(done), 'there is no tool named drop_database');
});

it('a refusal binds only its own turn: the same request asked anew is sent again', async (ctx) => {
  const config = { configurable: { thread_id: `t${++thread}` } };
  await ctx.insistent.invoke({ messages: [new HumanMessage('Truncate the customers table.')], user: 'erin' }, config);
  await ctx.insistent.invoke(new Command({ resume: { decision_type: 'reject' } }), config);
  const askedAgain = await ctx.insistent.invoke({ messages: [new HumanMessage('Truncate the customers table.')] }, config);
  assert.is(pauses(askedAgain).length, 1, 'a new turn asks the user again');
});

it.run();
