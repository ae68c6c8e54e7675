import { TaskState, type Task } from '@a2a-js/sdk';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { HITL_EXTENSION } from '../../app/agent/approval-wire.js';
import { startAgent, type AgentConfig } from '../../app/agent/command.js';
import { createLogger } from '../../app/shared/log.js';
import { approveAll, chatClient, failure, isCompleted, isPaused, type ChatClient, type Generation } from '../helpers/a2a.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tempDir } from '../helpers/temp.js';
import { agentConfig } from '../helpers/agent.js';

type Agent = Awaited<ReturnType<typeof startAgent>>;

interface Ctx {
  stack: Stack;
  dir: ReturnType<typeof tempDir>;
  agent: Agent;
}

const it = suite<Ctx>('a task belongs to the user who created it, on both A2A generations');

function agentFor(ctx: Ctx, name: string, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return agentConfig(ctx.stack.gatewayUrl, join(ctx.dir.path, name), overrides);
}

it.before(async (ctx) => {
  ctx.stack = await startStack();
  ctx.dir = tempDir('ownership');
  ctx.agent = await startAgent(agentFor(ctx, 'agent'), createLogger('agent', 'silent'));
});
it.after(async (ctx) => {
  await ctx.agent.close();
  await ctx.stack.close();
  ctx.dir.remove();
});

const orderRows = async (ctx: Ctx) => ((await (await fetch(`${ctx.stack.mcp.url}/state`)).json()) as { row_counts: Record<string, number> }).row_counts.orders;

/** The error for a task id that was never used, with that id in place of `id`: what "not found" looks like. */
async function notFoundFor(client: ChatClient, call: (c: ChatClient, id: string) => Promise<unknown>, id: string): Promise<string> {
  const unused = randomUUID();
  return (await failure(call(client, unused))).replaceAll(unused, id);
}

for (const generation of ['1.0', '0.3'] as Generation[]) {
  it(`A2A ${generation}: another user can neither see, read, cancel, follow nor answer a paused task`, async (ctx) => {
    const victim = await chatClient(ctx.agent.url, generation, 'victim');
    const mallory = await chatClient(ctx.agent.url, generation, 'mallory');
    // The first case truncates the table; the second still checks nothing changes before the victim answers.
    const rowsBefore = await orderRows(ctx);
    if (generation === '1.0') assert.ok(rowsBefore > 0, 'the orders table has rows to lose');
    const paused = await victim.send('Truncate the orders table.');
    assert.ok(isPaused(paused));
    const own = await mallory.send("What's in the orders table?");
    assert.ok(isCompleted(own));

    if (generation === '1.0') {
      const listed = (await mallory.listTasks()).map((t) => t.id);
      assert.ok(listed.includes(own.id), 'mallory lists her own task');
      assert.not.ok(listed.includes(paused.id), "but not the victim's");
      assert.ok((await victim.listTasks()).some((t) => t.id === paused.id), 'the victim lists theirs');
    }

    const cases: [string, (c: ChatClient, id: string) => Promise<unknown>][] = [
      ['GetTask', (c, id) => c.getTask(id)],
      ['CancelTask', (c, id) => c.cancelTask(id)],
      ['resubscription', (c, id) => c.resubscribe(id)],
      ['an approving answer', (c, id) => approveAll(c, { ...paused, id }, true)],
    ];
    for (const [what, call] of cases) {
      const refused = await failure(call(mallory, paused.id));
      assert.match(refused, /Task not found/, `${what}: another user's task is not found`);
      assert.is(refused, await notFoundFor(mallory, call, paused.id), `${what}: exactly as a task that never existed (no oracle)`);
    }

    // A forged resume: the victim's conversation id, no task id, an approving answer.
    const forged = { ...paused, id: '' };
    assert.match(await failure(approveAll(mallory, forged, true)), /is not waiting for an approval; this answer is stale/);
    // A new request on the victim's conversation id starts a conversation of mallory's own.
    const beside = await mallory.send('Truncate the orders table.', { contextId: paused.contextId });
    assert.ok(isPaused(beside), "mallory's own request pauses for mallory");
    assert.is.not(beside.id, paused.id);
    await approveAll(mallory, beside, false, 'not mine to empty');

    assert.is(await orderRows(ctx), rowsBefore, 'nothing was truncated');
    assert.is((await victim.getTask(paused.id)).status?.state, TaskState.TASK_STATE_INPUT_REQUIRED, 'the victim still decides');
    const done = await approveAll(victim, paused, true);
    assert.ok(isCompleted(done), 'the victim answers their own pause');
    assert.is(await orderRows(ctx), 0);
  });
}

it('a request that names no user is refused before it reaches any task', async (ctx) => {
  for (const generation of ['1.0', '0.3'] as Generation[]) {
    const nobody = await chatClient(ctx.agent.url, generation, null);
    assert.match(await failure(nobody.send('Truncate the orders table.')), /who is asking\? name the user in the x-user-id header/);
  }
  const raw = await fetch(`${ctx.agent.url}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'a2a-version': '1.0' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'ListTasks', params: {} }),
  });
  assert.is(raw.status, 401);
  assert.equal(await raw.json(), { jsonrpc: '2.0', id: 7, error: { code: -32600, message: 'who is asking? name the user in the x-user-id header' } });
});

it('--anonymous-user names the user of requests that name none', async (ctx) => {
  const agent = await startAgent(agentFor(ctx, 'anonymous', { anonymousUser: 'local-user' }), createLogger('agent', 'silent'));
  try {
    const anonymous = await chatClient(agent.url, '1.0', null);
    const task = await anonymous.send("What's in the orders table?");
    assert.ok(isCompleted(task));
    const named = await chatClient(agent.url, '1.0', 'local-user');
    assert.ok((await named.listTasks()).some((t) => t.id === task.id), "the anonymous task is local-user's");
    const other = await chatClient(agent.url, '1.0', 'someone-else');
    assert.match(await failure(other.getTask(task.id)), /Task not found/);
  } finally {
    await agent.close();
  }
});

it('--jwt-jwks: the user is the verified token\'s subject; the header is ignored and the card declares the scheme', async (ctx) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwksFile = join(ctx.dir.path, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }));
  const tokenFor = (sub: string, audience = 'dba-assistant') =>
    new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setSubject(sub).setAudience(audience).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  const agent = await startAgent(agentFor(ctx, 'jwt', { jwtJwks: jwksFile, jwtAudience: 'dba-assistant' }), createLogger('agent', 'silent'));
  try {
    const card = await (await fetch(`${agent.url}/.well-known/agent-card.json`, { headers: { 'A2A-Version': '1.0' } })).json();
    assert.equal(card.securitySchemes, { bearer: { httpAuthSecurityScheme: { description: 'a JWT naming the user in its sub claim', scheme: 'Bearer', bearerFormat: 'JWT' } } });
    assert.equal(card.securityRequirements, [{ schemes: { bearer: {} } }]);
    const legacyCard = await (await fetch(`${agent.url}/.well-known/agent-card.json`)).json();
    assert.equal(legacyCard.security, [{ bearer: [] }]);
    assert.is(legacyCard.securitySchemes.bearer.scheme, 'bearer');

    for (const generation of ['1.0', '0.3'] as Generation[]) {
      const victim = await chatClient(agent.url, generation, { authorization: `Bearer ${await tokenFor('victim')}` });
      const paused = await victim.send('Truncate the orders table.');
      assert.ok(isPaused(paused));
      // Claims to be the victim in the header, proves to be mallory with the token.
      const mallory = await chatClient(agent.url, generation, { authorization: `Bearer ${await tokenFor('mallory')}`, 'x-user-id': 'victim' });
      assert.match(await failure(mallory.getTask(paused.id)), /Task not found/);
      assert.match(await failure(approveAll(mallory, paused, true)), /Task not found/);
      const headerOnly = await chatClient(agent.url, generation, 'victim');
      assert.match(await failure(headerOnly.getTask(paused.id)), /who is asking\? send a bearer JWT naming the user in its sub claim/);
      const wrongAudience = await chatClient(agent.url, generation, { authorization: `Bearer ${await tokenFor('victim', 'another-agent')}` });
      assert.match(await failure(wrongAudience.getTask(paused.id)), /the bearer JWT is not accepted: unexpected "aud" claim value/);
      assert.ok(isCompleted(await approveAll(victim, paused, false, 'only checking')), 'the token holder answers their own pause');
    }
  } finally {
    await agent.close();
  }
});

it.run();
