/**
 * The agent graph on its own: a scripted model proposes the calls, and a scripted gateway
 * records every call that reaches it and answers as the gateway would. Each case runs in
 * milliseconds, so the graph's rules (who is asked, what is sent, what is never sent again)
 * are checked without servers; graph.test.ts runs the same graph against the real stack.
 */
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';
import { Command, MemorySaver } from '@langchain/langgraph';
import { generateKeyPairSync } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ApprovalDecision } from '../../app/agent/approval-wire.js';
import { buildGraph, needsTheUser, waitingOn, type AgentModel } from '../../app/agent/graph.js';
import { notRetried } from '../../app/agent/refused-calls.js';
import { CHAT_GATE, UserApprovalSigner } from '../../app/agent/user-approval.js';
import { verifyApproval } from '../../app/contracts/approval-token.js';
import type { GateDetails } from '../../app/contracts/denial.js';
import { callHash } from '../../app/contracts/tool-call.js';
import { ScriptedGateway, type ProposedCall } from '../helpers/scripted-gateway.js';

type Call = ProposedCall;

let callIds = 0;
const toolCall = (call: Call) => ({ ...call, id: `call-${++callIds}`, type: 'tool_call' as const });
function sinceUserSpoke(messages: BaseMessage[]): BaseMessage[] {
  let start = messages.length;
  while (start > 0 && messages[start - 1].getType() !== 'human') start--;
  return messages.slice(start);
}

/** A model that proposes `calls` once after the user speaks, then reports every result it got: `name status: text`. */
function proposing(...calls: Call[]): AgentModel {
  return {
    async invoke(messages) {
      const results = sinceUserSpoke(messages).filter((m): m is ToolMessage => m.getType() === 'tool');
      if (!results.length) return new AIMessage({ content: 'Calling.', tool_calls: calls.map(toolCall) });
      return new AIMessage(results.map((r) => `${r.name} ${r.status}: ${r.content}`).join(' | '));
    },
  };
}

/** A model that makes the same call again after every result, `attempts` times in all. */
function insisting(call: Call, attempts = 3): AgentModel {
  return {
    async invoke(messages) {
      const results = sinceUserSpoke(messages).filter((m) => m.getType() === 'tool');
      if (results.length === attempts) return new AIMessage('Gave up.');
      return new AIMessage({ content: 'Trying.', tool_calls: [toolCall(call)] });
    },
  };
}

const query: Call = { name: 'cluster_db_query', args: { sql: 'SELECT 1' } };
const truncate: Call = { name: 'truncate_table', args: { table: 'orders' } };
const migrate: Call = { name: 'run_migration', args: { version: 'v3' } };
const unknown: Call = { name: 'drop_database', args: { name: 'orders' } };

let threads = 0;
function conversation(model: AgentModel, gateway: ScriptedGateway, signer?: UserApprovalSigner) {
  const graph = buildGraph({ model, tools: gateway, checkpointer: new MemorySaver(), signer });
  const config = { configurable: { thread_id: `scripted-${++threads}` } };
  return {
    say: (text: string, user = 'erin') => graph.invoke({ messages: [new HumanMessage(text)], user }, config),
    answer: (decision: ApprovalDecision) => graph.invoke(new Command({ resume: decision }), config),
  };
}

type Run = { messages: BaseMessage[]; __interrupt__?: { value: { action_requests: (Call & { id: string })[] } }[] };
const pauses = (state: object) => (state as Run).__interrupt__ ?? [];
const asked = (state: object) => pauses(state).map((p) => p.value.action_requests.map((a) => a.name));
const toolResults = (state: object) =>
  (state as Run).messages.filter((m): m is ToolMessage => m.getType() === 'tool').map((m) => ({ name: m.name, status: m.status, content: String(m.content), artifact: m.artifact }));
const lastText = (state: object) => String((state as Run).messages.at(-1)!.content);
const sent = (gateway: ScriptedGateway) => gateway.sent;

const gateDetails = (status: GateDetails['status'], reason: string): GateDetails => ({
  status,
  requestId: 'request-1',
  gate: 'platform',
  reviewers: status === 'rejected' ? ['bob'] : [],
  reason,
  expiresAt: null,
  grantTtlSeconds: null,
});

const it = suite('the agent graph with a scripted model and a scripted gateway');

it('the user decides user-tier calls and every tool the catalogue does not know; open and platform-tier calls are not theirs', () => {
  assert.equal(
    ['cluster_db_query', 'truncate_table', 'run_migration', 'drop_database', ''].map((name) => [name, needsTheUser(name)]),
    [['cluster_db_query', false], ['truncate_table', true], ['run_migration', false], ['drop_database', true], ['', true]],
  );
});

it('an answer without tool calls ends the turn: nothing asked, nothing sent', async () => {
  const gateway = new ScriptedGateway();
  const done = await conversation(proposing(), gateway).say('Hello.');
  assert.equal(asked(done), []);
  assert.equal(sent(gateway), []);
  assert.equal((done as Run).messages.map((m) => m.getType()), ['human', 'ai']);
});

it('an open call is sent at once on behalf of the chat user, and the model reads its result', async () => {
  const gateway = new ScriptedGateway(() => ({ ok: true, text: 'one row' }));
  const done = await conversation(proposing(query), gateway).say('Query.', 'frank');
  assert.equal(asked(done), [], 'no pause');
  assert.equal(gateway.received, [{ ...query, user: 'frank', approval: undefined }]);
  assert.equal(toolResults(done), [{ name: 'cluster_db_query', status: 'success', content: 'one row', artifact: undefined }]);
  assert.is(lastText(done), 'cluster_db_query success: one row');
});

it('calls that need the user pause the turn before anything is sent, and the pause asks about exactly those', async () => {
  const gateway = new ScriptedGateway();
  const chat = conversation(proposing(query, truncate, migrate, unknown), gateway);
  const paused = await chat.say('Do it all.');
  const [pause] = pauses(paused);
  assert.equal(
    pause.value.action_requests.map(({ name, args }) => ({ name, args })),
    [truncate, unknown],
  );
  const proposed = ((paused as Run).messages.at(-1) as AIMessage).tool_calls!;
  assert.equal(pause.value.action_requests.map((a) => a.id), [proposed[1].id, proposed[3].id], 'each request names its call');
  assert.equal(sent(gateway), [], 'not even the open call runs before the answer');

  const done = await chat.answer({ decision_type: 'approve' });
  assert.equal(asked(done), []);
  assert.equal(gateway.received, [query, truncate, migrate, unknown].map((c) => ({ ...c, user: 'erin', approval: undefined })));
  assert.equal(toolResults(done).map((r) => r.status), ['success', 'success', 'success', 'success']);
});

it('a tool the catalogue does not know is never sent without the user: rejected, it reaches no gateway', async () => {
  const gateway = new ScriptedGateway();
  const chat = conversation(proposing(unknown), gateway);
  assert.equal(asked(await chat.say('Drop the orders database.')), [['drop_database']]);
  const done = await chat.answer({ decision_type: 'reject' });
  assert.equal(sent(gateway), []);
  assert.equal(toolResults(done), [{ name: 'drop_database', status: 'error', content: 'The user rejected the call to drop_database.', artifact: undefined }]);
});

it('a call the user rejects is never sent; the model reads their reason, and the calls they approved run', async () => {
  const gateway = new ScriptedGateway();
  const chat = conversation(proposing(truncate, unknown, query), gateway);
  const paused = await chat.say('Truncate and drop.');
  const [truncateId, unknownId] = pauses(paused)[0].value.action_requests.map((a) => a.id);
  const done = await chat.answer({ decision_type: 'batch', decisions: { [truncateId]: 'reject', [unknownId]: 'approve' }, rejection_reasons: { [truncateId]: 'keep them' } });
  assert.equal(sent(gateway), ['drop_database', 'cluster_db_query']);
  assert.equal(toolResults(done), [
    { name: 'truncate_table', status: 'error', content: 'The user rejected the call to truncate_table: keep them', artifact: undefined },
    { name: 'drop_database', status: 'success', content: 'drop_database done', artifact: undefined },
    { name: 'cluster_db_query', status: 'success', content: 'cluster_db_query done', artifact: undefined },
  ]);
  assert.is(lastText(done).split(' | ')[0], 'truncate_table error: The user rejected the call to truncate_table: keep them');
});

it("a refusal by the gateway reaches the model as an error carrying the gate's details; a result carries none", async () => {
  const refusal = gateDetails('rejected', 'frozen for the audit');
  const gateway = new ScriptedGateway((call) => (call.name === 'run_migration' ? { ok: false, text: 'Rejected by bob: frozen for the audit', gate: refusal } : { ok: true, text: 'fine' }));
  const done = await conversation(proposing(migrate, query), gateway).say('Migrate.');
  assert.equal(toolResults(done), [
    { name: 'run_migration', status: 'error', content: 'Rejected by bob: frozen for the audit', artifact: refusal },
    { name: 'cluster_db_query', status: 'success', content: 'fine', artifact: undefined },
  ]);
});

it('with a signer, each call the user approved carries a token for exactly that call from that user; other calls carry none', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const gateway = new ScriptedGateway();
  const chat = conversation(proposing(query, truncate, migrate, unknown), gateway, new UserApprovalSigner(privateKey));
  await chat.say('Do it all.', 'frank');
  await chat.answer({ decision_type: 'approve' });
  assert.equal(gateway.received.map((r) => [r.name, r.user, typeof r.approval]), [
    ['cluster_db_query', 'frank', 'undefined'],
    ['truncate_table', 'frank', 'string'],
    ['run_migration', 'frank', 'undefined'],
    ['drop_database', 'frank', 'string'],
  ]);
  for (const call of [gateway.received[1], gateway.received[3]]) {
    const claims = await verifyApproval(publicKey, 'user', call.approval!, callHash({ name: call.name, args: call.args }));
    assert.equal([claims.gate, claims.requester, claims.approvers], [CHAT_GATE, 'frank', ['frank']]);
  }
});

it('a call the gateway refused is not sent again in that turn, however often the model asks: it reads the first refusal instead', async () => {
  const refusal = gateDetails('rejected', 'frozen');
  const gateway = new ScriptedGateway(() => ({ ok: false, text: 'Rejected by bob: frozen', gate: refusal }));
  const done = await conversation(insisting(migrate), gateway).say('Migrate.');
  assert.equal(sent(gateway), ['run_migration'], 'only the first attempt reached the gateway');
  assert.equal(toolResults(done), [
    { name: 'run_migration', status: 'error', content: 'Rejected by bob: frozen', artifact: refusal },
    { name: 'run_migration', status: 'error', content: notRetried('Rejected by bob: frozen'), artifact: undefined },
    { name: 'run_migration', status: 'error', content: notRetried('Rejected by bob: frozen'), artifact: undefined },
  ]);
  assert.is(lastText(done), 'Gave up.');
});

it('the same call twice in one answer of the model: once refused, the second is not sent', async () => {
  const gateway = new ScriptedGateway(() => ({ ok: false, text: 'denied' }));
  const done = await conversation(proposing(migrate, migrate), gateway).say('Migrate twice.');
  assert.equal(sent(gateway), ['run_migration']);
  assert.equal(toolResults(done).map((r) => r.content), ['denied', notRetried('denied')]);
});

it('a call that succeeded may be made again in the same turn, in a later answer of the model or in the same one', async () => {
  const later = new ScriptedGateway();
  await conversation(insisting(query, 2), later).say('Query twice.');
  assert.equal(sent(later), ['cluster_db_query', 'cluster_db_query']);
  const same = new ScriptedGateway();
  const done = await conversation(proposing(query, query), same).say('Query twice at once.');
  assert.equal(sent(same), ['cluster_db_query', 'cluster_db_query']);
  assert.equal(toolResults(done).map((r) => r.status), ['success', 'success']);
});

it('a call the user rejected is neither asked about again nor sent in that turn', async () => {
  const gateway = new ScriptedGateway();
  const chat = conversation(insisting(truncate), gateway);
  assert.equal(asked(await chat.say('Truncate.')), [['truncate_table']]);
  const done = await chat.answer({ decision_type: 'reject', rejection_reasons: { '*': 'keep them' } });
  assert.equal(asked(done), [], 'no second question');
  assert.equal(sent(gateway), []);
  const rejection = 'The user rejected the call to truncate_table: keep them';
  assert.equal(toolResults(done).map((r) => [r.status, r.content]), [
    ['error', rejection],
    ['error', notRetried(rejection)],
    ['error', notRetried(rejection)],
  ]);
});

it('a refusal binds its own turn only: asked anew, the user is asked again', async () => {
  const gateway = new ScriptedGateway();
  const chat = conversation(insisting(truncate, 1), gateway);
  await chat.say('Truncate.');
  await chat.answer({ decision_type: 'reject' });
  assert.equal(asked(await chat.say('Truncate, please.')), [['truncate_table']]);
  await chat.answer({ decision_type: 'approve' });
  assert.equal(sent(gateway), ['truncate_table']);
});

it("the model's turn is found wherever it stands, even first in a thread that no user message opened", async () => {
  const gateway = new ScriptedGateway();
  const graph = buildGraph({ model: proposing(query), tools: gateway, checkpointer: new MemorySaver() });
  const done = await graph.invoke({ messages: [], user: 'erin' }, { configurable: { thread_id: `scripted-${++threads}` } });
  assert.equal(sent(gateway), ['cluster_db_query']);
  assert.equal((done as Run).messages.map((m) => m.getType()), ['ai', 'tool', 'ai']);
});

it("waitingOn: the gateway's 'waiting' details from this turn's results, and nothing from an earlier turn or another outcome", () => {
  const waiting = gateDetails('waiting', 'held');
  const result = (details: GateDetails | undefined, id = 'call-w') => new ToolMessage({ tool_call_id: id, name: 'run_migration', content: 'Waiting.', status: 'error', artifact: details });
  const asking = new AIMessage({ content: '', tool_calls: [toolCall(migrate)] });
  assert.equal(waitingOn([new HumanMessage('Migrate.'), asking, result(waiting), new AIMessage('It waits.')]), waiting);
  assert.equal(waitingOn([result(waiting)]), waiting, 'a conversation with no user message is all one turn');
  assert.equal(waitingOn([result(waiting), new HumanMessage('Thanks.'), new AIMessage('You are welcome.')]), undefined, 'an earlier turn');
  assert.equal(waitingOn([new HumanMessage('Migrate.'), asking, result(gateDetails('rejected', 'no'))]), undefined, 'a refusal is not a wait');
  assert.equal(waitingOn([new HumanMessage('Migrate.'), asking, result(undefined)]), undefined, 'no details at all');
  assert.equal(waitingOn([result(gateDetails('rejected', 'no'))]), undefined, 'a turn with no user message and no wait');
  assert.equal(waitingOn([]), undefined, 'an empty conversation');
});

it.run();
