import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HITL_EXTENSION } from '../../app/agent/approval-wire.js';
import { AGENT_NAME } from '../../app/agent/a2a-server.js';
import { startAgent } from '../../app/agent/command.js';
import { createLogger } from '../../app/shared/log.js';
import { approveAll, chatClient, isCompleted, isPaused, pauseOf, replyText, type ChatClient, type Generation } from '../helpers/a2a.js';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';
import { agentConfig } from '../helpers/agent.js';

interface Ctx {
  stack: Stack;
  dir: ReturnType<typeof tempDir>;
  agent: Awaited<ReturnType<typeof startAgent>>;
}

const it = suite<Ctx>('hitl agent over A2A, against the real MCP server behind the gateway and ext-auth');

it.before(async (ctx) => {
  ctx.stack = await startStack();
  ctx.dir = tempDir('agent');
  ctx.agent = await startAgent(
    agentConfig(ctx.stack.gatewayUrl, ctx.dir.path, { model: 'unused-offline' }),
    createLogger('agent', 'silent'),
  );
});
it.after(async (ctx) => {
  await ctx.agent.close();
  await ctx.stack.close();
  ctx.dir.remove();
});

const dbState = async (ctx: Ctx) => (await fetch(`${ctx.stack.mcp.url}/state`)).json();
const reviewer = (ctx: Ctx) => admin(ctx.stack.ext.adminUrl, 'bob');

/** Sends a migration request and decides it in the reviewer queue once it parks. */
async function migrateThroughTheGate(ctx: Ctx, client: ChatClient, version: string, approved: boolean, reason: string) {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const reply = client.send(`Apply migration ${version}.`);
  const { id } = await parked;
  const request = await (await reviewer(ctx).get(`/requests/${id}`)).json();
  assert.is(request.requester, 'erin', 'the gate learns who asked from x-user-id');
  assert.is(request.callerAgent, AGENT_NAME, 'and which agent called');
  assert.is((await reviewer(ctx).decide(id, approved, reason)).status, 204);
  return reply;
}

it('the agent card: 0.3 by default, 1.0 when asked, the hitl/v1 extension offered and not required', async (ctx) => {
  const legacy = await (await fetch(`${ctx.agent.url}/.well-known/agent-card.json`)).json();
  assert.is(legacy.protocolVersion, '0.3.0');
  assert.equal(legacy.capabilities.extensions.map((e: { uri: string; required: boolean }) => [e.uri, e.required]), [[HITL_EXTENSION, false]]);
  const current = await (await fetch(`${ctx.agent.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
  assert.equal(current.supportedInterfaces.map((i: { protocolVersion: string }) => i.protocolVersion), ['1.0', '0.3']);
  assert.equal(current.capabilities.extensions.map((e: { uri: string }) => e.uri), [HITL_EXTENSION]);
});

const plans: [Generation, { approve: string; reject: string }][] = [
  // Distinct rejected versions: an identical call rejected moments ago would be refused at once.
  ['1.0', { approve: 'v3', reject: 'v1' }],
  ['0.3', { approve: 'v4', reject: 'v2' }],
];

for (const [generation, versions] of plans) {
  it(`A2A ${generation}: the four scenes`, async (ctx) => {
    const client = await chatClient(ctx.agent.url, generation);

    const scene1 = await client.send("What's in the orders table?");
    assert.ok(isCompleted(scene1), 'scene 1 needs no approval');
    assert.match(replyText(scene1), /^Schema v\d: /, 'the query result, read out');

    const scene2 = await client.send('Truncate the orders table.');
    assert.ok(isPaused(scene2), 'scene 2 pauses in the chat');
    assert.equal(pauseOf(scene2).tools, ['truncate_table']);
    if (generation === '1.0') {
      assert.equal(scene2.status?.message?.extensions, [HITL_EXTENSION]);
      assert.is(scene2.status?.message?.metadata?.[HITL_EXTENSION].type, 'tool_approval_request');
    }
    assert.equal((await (await reviewer(ctx).get('/pending')).json()).pending, [], 'the reviewer queue stays empty');
    const truncated = await approveAll(client, scene2, true);
    assert.ok(isCompleted(truncated), replyText(truncated));
    assert.is((await dbState(ctx)).row_counts.orders, 0);

    const scene3 = await migrateThroughTheGate(ctx, client, versions.approve, true, 'ok');
    assert.ok(isCompleted(scene3), replyText(scene3));
    assert.is((await dbState(ctx)).schema_version, versions.approve);

    const scene4 = await migrateThroughTheGate(ctx, client, versions.reject, false, 'not before the release');
    assert.match(replyText(scene4), /not before the release/);
    assert.match(replyText(scene4), /will not retry/);
    assert.is((await dbState(ctx)).schema_version, versions.approve, 'schema unchanged');
    assert.equal((await (await reviewer(ctx).get('/pending')).json()).pending, [], 'no retry reached the gate');
  });
}

it('A2A 1.0: invalid answers are refused and resume nothing; a second answer is stale', async (ctx) => {
  const client = await chatClient(ctx.agent.url, '1.0');
  const paused = await client.send('Truncate the customers table.');
  const [id] = pauseOf(paused).approvalIds;
  const answer = (approvals: unknown, type = 'tool_approval_response') => client.answer(paused, { metadata: { [HITL_EXTENSION]: { type, approvals } } });
  const refusals: [string, () => Promise<unknown>, RegExp][] = [
    ['missing', () => answer([]), /invalid approval answer: every pending approval must be answered; missing /],
    ['unknown', () => answer([{ id, approved: true }, { id: 'approval-nope', approved: true }]), /invalid approval answer: unknown approval id "approval-nope"/],
    ['duplicate', () => answer([{ id, approved: true }, { id, approved: false }]), /invalid approval answer: approval id ".+" is answered twice/],
    ['wrong type', () => answer([{ id, approved: true }], 'tool_approval_request'), /invalid approval answer: metadata type must be "tool_approval_response", not "tool_approval_request"/],
    ['no metadata', () => client.answer(paused, {}), /invalid approval answer: the message carries no metadata/],
  ];
  for (const [label, send, refusal] of refusals) {
    const refused = await send().then(() => 'accepted', (err: Error) => err.message);
    assert.match(refused, refusal, `${label} answer is refused`);
  }
  assert.ok(isPaused(await client.getTask(paused.id)), 'still waiting');
  assert.ok((await dbState(ctx)).row_counts.customers > 0, 'nothing ran');

  const done = await answer([{ id, approved: false, rejection_reason: 'keep them' }]);
  assert.match(replyText(done), /keep them/);
  // The guard's own refusal, before the task's end could answer for it.
  const stale = await answer([{ id, approved: true }]).then(() => 'accepted', (err: Error) => err.message);
  assert.match(stale, new RegExp(`task ${paused.id} is not waiting for an approval; this answer is stale and resumes nothing`));
  // The same answer sent as a new message on the conversation: no ended task to refuse it, only the guard.
  const looseRefusal = await client
    .answer({ ...paused, id: '' }, { metadata: { [HITL_EXTENSION]: { type: 'tool_approval_response', approvals: [{ id, approved: true }] } } })
    .then(() => 'accepted', (err: Error) => err.message);
  assert.match(looseRefusal, /task \(none\) is not waiting for an approval; this answer is stale and resumes nothing/);
  assert.ok((await dbState(ctx)).row_counts.customers > 0, 'the rejected call never ran');
});

it('a new request on a conversation that waits for an approval is refused; the pause still stands', async (ctx) => {
  const client = await chatClient(ctx.agent.url, '1.0');
  const paused = await client.send('Truncate the customers table.');
  const refused = await client.send('List the tables.', { contextId: paused.contextId }).then(() => undefined, (err: Error) => err);
  assert.match(String(refused), /waiting for an answer on truncate_table/);
  assert.ok(isPaused(await client.getTask(paused.id)), 'still waiting');
  const done = await approveAll(client, paused, false, 'not today');
  assert.ok(isCompleted(done));
  assert.ok(isCompleted(await client.send('List the tables.', { contextId: paused.contextId })), 'the conversation goes on once answered');
});

it('A2A 0.3: an undecidable answer counts as a rejection', async (ctx) => {
  const client = await chatClient(ctx.agent.url, '0.3');
  const paused = await client.send('Truncate the customers table.');
  const done = await client.answer(paused, { data: { decision_type: 'perhaps' } });
  assert.ok(isCompleted(done));
  assert.match(replyText(done), /rejected/);
  assert.ok((await dbState(ctx)).row_counts.customers > 0);
});

it.run();
