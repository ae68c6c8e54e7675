/**
 * Scenes 3 and 4 as a kagent agent plays them: its tool calls go through a client that follows
 * the Python MCP SDK's rules, wrapped in ADK's retry-once, through `hitl gateway` and
 * `hitl ext-auth`. The model must read the reviewer's words, and each scene must make exactly
 * one card.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { admin, nextChange } from '../helpers/ext-auth.js';
import { KagentToolClient } from '../helpers/kagent-tool-client.js';
import { startStack, type Stack } from '../helpers/stack.js';

const cardsEver = async (stack: Stack) =>
  (await (await admin(stack.ext.adminUrl, 'bob').get('/audit.jsonl')).text())
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
    // The last line is the export's signed trailer, not an entry.
    .filter((line) => 'entry' in line && JSON.parse(line.entry).event === 'parked').length;

const schema = async (stack: Stack) => (await (await fetch(`${stack.mcp.url}/state`)).json()).schema_version;

/** Makes the call and decides the card it parks; returns what the model reads. */
async function reviewed(stack: Stack, client: KagentToolClient, version: string, approved: boolean, reason: string) {
  const parked = nextChange(stack.ext.gate, (c) => c.type === 'parked');
  const call = client.callTool('run_migration', { version });
  const { id } = await parked;
  assert.is((await admin(stack.ext.adminUrl, 'carol').decide(id, approved, reason)).status, 204);
  return call;
}

const jsonrpc = suite<{ stack: Stack; client: KagentToolClient }>('a kagent-like client (Python MCP SDK rules, ADK retry) through the gate');
jsonrpc.before(async (ctx) => {
  ctx.stack = await startStack();
  ctx.client = new KagentToolClient(`${ctx.stack.gatewayUrl}/privileged/mcp`, { 'x-user-id': 'erin' });
  await ctx.client.initialize();
});
jsonrpc.after(async (ctx) => ctx.stack.close());

jsonrpc('scene 3: approved, the migration runs; one card', async ({ stack, client }) => {
  const seen = await reviewed(stack, client, 'v3', true, 'reviewed the plan');
  assert.is(seen.isError, false, seen.text);
  assert.match(seen.text, /"migrated":true/);
  assert.is(seen.attempts, 1);
  assert.is(await cardsEver(stack), 1);
  assert.is(await schema(stack), 'v3');
});

jsonrpc('scene 4: rejected, the model reads the reviewer\'s reason verbatim, nothing retried; still one card for it', async ({ stack, client }) => {
  const seen = await reviewed(stack, client, 'v4', false, 'Not during the sale');
  assert.equal([seen.isError, seen.text, seen.attempts], [true, 'Rejected by carol (platform gate): "Not during the sale"', 1]);
  assert.is(await cardsEver(stack), 2, 'one card per scene');
  assert.is(await schema(stack), 'v3');
});

jsonrpc.run();

const http = suite<{ stack: Stack; client: KagentToolClient }>('the same client against --deny-as http');
http.before(async (ctx) => {
  ctx.stack = await startStack({ extAuth: { denyAs: 'http' } });
  ctx.client = new KagentToolClient(`${ctx.stack.gatewayUrl}/privileged/mcp`, { 'x-user-id': 'erin' });
  await ctx.client.initialize();
});
http.after(async (ctx) => ctx.stack.close());

http('a 403 never shows the model the reason, and the SDK error makes ADK call again (answered by the replayed rejection)', async ({ stack, client }) => {
  const rejectAll = (change: { type: string; id: string }) => {
    if (change.type === 'parked') void admin(stack.ext.adminUrl, 'carol').decide(change.id, false, 'Not during the sale');
  };
  stack.ext.gate.on('change', rejectAll);
  const seen = await client.callTool('run_migration', { version: 'v4' });
  stack.ext.gate.off('change', rejectAll);
  assert.is(seen.text, 'Error: Server returned an error response');
  assert.is(seen.attempts, 2, 'retried once');
  assert.not.match(seen.text, /Not during the sale/);
  assert.is(await cardsEver(stack), 1, 'the retry got the same rejection at once, no second card');
  assert.is(await schema(stack), 'v2');
});

http.run();
