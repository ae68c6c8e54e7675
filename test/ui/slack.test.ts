import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ConfigError } from '../../app/shared/flags.js';
import { tokenSha256Hex as sha256Hex } from '../../app/contracts/reviewer-tokens.js';
import { checkRequest, grpcClient, nextChange, TOKENS, toolCall, type CheckResult } from '../helpers/ext-auth.js';
import { blockActionsPayload, sendInteraction, startSlackStandIn, type Click } from '../helpers/slack.js';
import { tempDir } from '../helpers/temp.js';
import { startUiStack, type UiStack } from '../helpers/ui.js';

const CHANNEL = 'C0APPROVALS';
const BOT_TOKEN = 'xoxb-test-bot-token';
const SIGNING_SECRET = 'slack-signing-secret';
const BRIDGE_TOKEN = 'token-slack-bridge';
/** Slack user ids of the reviewers; carol has none, so she decides only in the web queue. */
const SLACK = { alice: 'U0ALICE', bob: 'U0BOB', dave: 'U0DAVE' } as const;

interface Ctx {
  dir: ReturnType<typeof tempDir>;
  slack: Awaited<ReturnType<typeof startSlackStandIn>>;
  stack: UiStack;
  grpc: ReturnType<typeof grpcClient>;
}

function writeFiles(dir: string) {
  const reviewers = Object.entries(TOKENS).map(([name, token]) => ({
    name,
    groups: name === 'dave' ? ['developers'] : ['platform'],
    sha256: sha256Hex(token),
    slack: SLACK[name as keyof typeof SLACK],
  }));
  const tokensFile = join(dir, 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify([...reviewers, { name: 'slack-bridge', groups: [], sha256: sha256Hex(BRIDGE_TOKEN), slackBridge: true }]));
  const file = (name: string, content: string) => {
    writeFileSync(join(dir, name), `${content}\n`);
    return join(dir, name);
  };
  return {
    tokensFile,
    slackBotTokenFile: file('bot-token', BOT_TOKEN),
    slackSigningSecretFile: file('signing-secret', SIGNING_SECRET),
    slackBridgeTokenFile: file('bridge-token', BRIDGE_TOKEN),
  };
}

const it = suite<Ctx>('Slack approvals: requests posted to a channel, decided with signed clicks, messages kept up to date');

it.before(async (ctx) => {
  ctx.dir = tempDir('slack');
  ctx.slack = await startSlackStandIn({ botToken: BOT_TOKEN, channel: CHANNEL });
  const { tokensFile, ...slackFiles } = writeFiles(ctx.dir.path);
  ctx.stack = await startUiStack(
    { ...slackFiles, slackChannel: CHANNEL, slackApiUrl: ctx.slack.apiUrl, publicUrl: 'https://approvals.example.com' },
    { tokensFile },
  );
  ctx.grpc = grpcClient(ctx.stack.ext.grpcPort);
});

it.after(async (ctx) => {
  ctx.grpc.close();
  await ctx.stack.close();
  await ctx.slack.close();
  ctx.dir.remove();
});

it.after.each((ctx) => {
  assert.equal(ctx.slack.problems, [], 'every call the bridge made had the shape Slack documents');
});

let tickets = 0;

/** Parks a new call as alice and waits for its Slack message. */
async function park(ctx: Ctx, tool = 'run_migration', args: Record<string, unknown> = { version: 'v3' }) {
  const parked = nextChange(ctx.stack.ext.gate, (c) => c.type === 'parked');
  const result = ctx.grpc.check(checkRequest({ body: toolCall(tool, { ...args, ticket: `CHG-${++tickets}` }) })).result;
  result.catch(() => undefined);
  const { id } = await parked;
  const post = await ctx.slack.waitFor('chat.postMessage', (args) => textOf(args).includes(id));
  return { id, result, post };
}

function click(ctx: Ctx, who: string, action: Click['action'], parked: Awaited<ReturnType<typeof park>>, reason?: string) {
  const payload = blockActionsPayload({ slackUser: who, channel: CHANNEL, messageTs: parked.post.answer.ts, action, requestId: parked.id, reason });
  return sendInteraction(ctx.stack.uiUrl, payload, SIGNING_SECRET);
}

/** Every piece of text in a message's blocks, as a reader sees it. */
function textOf(args: Record<string, any>): string {
  const texts: string[] = [];
  const walk = (node: any): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      if (typeof node.text === 'string') texts.push(node.text);
      Object.values(node).forEach(walk);
    }
  };
  walk(args.blocks);
  return texts.join('\n');
}
const actionsOf = (args: Record<string, any>) => args.blocks.find((b: any) => b.type === 'actions');

async function requestAs(ctx: Ctx, id: string) {
  return (await fetch(`${ctx.stack.ext.adminUrl}/requests/${id}`, { headers: { authorization: `Bearer ${TOKENS.carol}` } })).json();
}

it('a new request is posted to the channel with what a reviewer needs, a reason field and both buttons', async (ctx) => {
  const { id, post } = await park(ctx);
  const { args } = post;
  assert.is(args.channel, CHANNEL);
  assert.match(args.text, /run_migration requested by alice/);
  const blocks = textOf(args);
  for (const needed of ['`run_migration`', 'alice', 'platform', '"version": "v3"', 'Migration SQL', 'v3 up', `https://approvals.example.com/requests/${id}`]) {
    assert.ok(blocks.includes(needed), `the message shows ${needed}`);
  }
  const input = args.blocks.find((b: any) => b.type === 'input');
  assert.is(input.element.type, 'plain_text_input', 'a reason field');
  assert.equal(
    actionsOf(args).elements.map((e: any) => [e.action_id, e.value, e.style]),
    [
      ['approve', id, 'primary'],
      ['reject', id, 'danger'],
    ],
  );
});

it('Approve in Slack decides as the reviewer the Slack user maps to, and the message then shows the outcome', async (ctx) => {
  const parked = await park(ctx);
  const ts = parked.post.answer.ts;
  const response = await click(ctx, SLACK.bob, 'approve', parked, 'checked the plan');
  assert.is(response.status, 200, 'acknowledged at once, as Slack requires');
  const result: CheckResult = await parked.result;
  assert.is(result.code, 0, 'the held call went through');
  const request = await requestAs(ctx, parked.id);
  assert.is(request.decidedBy, 'bob', 'recorded under the mapped reviewer');
  assert.is(request.approvals[0].reason, 'checked the plan');
  const update = await ctx.slack.waitFor('chat.update', (args) => args.ts === ts);
  assert.is(update.args.channel, CHANNEL);
  assert.match(textOf(update.args), /Approved by bob/);
  assert.is(actionsOf(update.args), undefined, 'no buttons once decided');
});

it('Reject in Slack carries the reason typed into the message to the caller and the message', async (ctx) => {
  const parked = await park(ctx);
  const ts = parked.post.answer.ts;
  const response = await click(ctx, SLACK.bob, 'reject', parked, 'not during the freeze');
  assert.is(response.status, 200);
  const result = await parked.result;
  assert.is.not(result.code, 0, 'the held call was denied');
  assert.match(result.toolError!.text, /not during the freeze/);
  const update = await ctx.slack.waitFor('chat.update', (args) => args.ts === ts);
  assert.match(textOf(update.args), /Rejected by bob: “not during the freeze”/);
});

it('a click signed with another secret, or not signed, is refused and decides nothing', async (ctx) => {
  const parked = await park(ctx);
  const payload = blockActionsPayload({ slackUser: SLACK.bob, channel: CHANNEL, messageTs: '1.0', action: 'approve', requestId: parked.id });
  const forged = await sendInteraction(ctx.stack.uiUrl, payload, 'not-the-signing-secret');
  assert.is(forged.status, 401);
  assert.is(await forged.text(), 'the Slack signature does not match');
  const unsigned = await fetch(`${ctx.stack.uiUrl}/slack/interactions`, { method: 'POST', body: new URLSearchParams({ payload: JSON.stringify(payload) }) });
  assert.is(unsigned.status, 401);
  assert.is(await unsigned.text(), 'the request carries no Slack signature');
  assert.is((await requestAs(ctx, parked.id)).status, 'pending');
});

it('a correctly signed click older than five minutes is refused as a replay', async (ctx) => {
  const parked = await park(ctx);
  const payload = blockActionsPayload({ slackUser: SLACK.bob, channel: CHANNEL, messageTs: '1.0', action: 'approve', requestId: parked.id });
  const stale = await sendInteraction(ctx.stack.uiUrl, payload, SIGNING_SECRET, Math.floor(Date.now() / 1000) - 10 * 60);
  assert.is(stale.status, 401);
  assert.is(await stale.text(), 'the Slack request timestamp is more than five minutes from now');
  assert.is((await requestAs(ctx, parked.id)).status, 'pending');
});

it('a Slack user mapped to no reviewer is told, to them alone, that they cannot decide', async (ctx) => {
  const parked = await park(ctx);
  const response = await click(ctx, 'U0STRANGER', 'approve', parked);
  assert.is(response.status, 200);
  const told = await ctx.slack.waitFor('chat.postEphemeral', (args) => args.user === 'U0STRANGER');
  assert.is(told.args.channel, CHANNEL);
  assert.match(told.args.text, /Slack user U0STRANGER is not mapped to a reviewer/);
  assert.is((await requestAs(ctx, parked.id)).status, 'pending');
});

it('the requester approving their own request from Slack is refused as in the web queue', async (ctx) => {
  const parked = await park(ctx);
  await click(ctx, SLACK.alice, 'approve', parked);
  const told = await ctx.slack.waitFor('chat.postEphemeral', (args) => args.user === SLACK.alice);
  assert.match(told.args.text, /a requester cannot decide their own request/);
  const dave = await click(ctx, SLACK.dave, 'approve', parked);
  assert.is(dave.status, 200);
  const daveTold = await ctx.slack.waitFor('chat.postEphemeral', (args) => args.user === SLACK.dave);
  assert.match(daveTold.args.text, /dave is not in reviewer group platform/, 'groups apply too');
  assert.is((await requestAs(ctx, parked.id)).status, 'pending');
});

it('a decision taken in the web queue updates the Slack message', async (ctx) => {
  const parked = await park(ctx);
  const ts = parked.post.answer.ts;
  const signIn = await fetch(`${ctx.stack.uiUrl}/sign-in`, {
    method: 'POST',
    headers: { 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ token: TOKENS.carol, next: '/' }),
    redirect: 'manual',
  });
  assert.is(signIn.status, 303);
  const cookie = signIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const page = await (await fetch(`${ctx.stack.uiUrl}/`, { headers: { cookie } })).text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
  const decided = await fetch(`${ctx.stack.uiUrl}/decide/${parked.id}`, {
    method: 'POST',
    headers: { cookie, 'sec-fetch-site': 'same-origin' },
    body: new URLSearchParams({ decision: 'approve', reason: 'from the web', _csrf: csrf }),
    redirect: 'manual',
  });
  assert.is(decided.status, 303);
  assert.is((await parked.result).code, 0);
  const update = await ctx.slack.waitFor('chat.update', (args) => args.ts === ts);
  assert.match(textOf(update.args), /Approved by carol: “from the web”/);
});

it.run();

const config = suite('Slack approvals configuration');

config('the Slack flags come all together, with a public URL', async () => {
  try {
    await startUiStack({ slackChannel: CHANNEL, slackApiUrl: 'http://127.0.0.1:9/api/', publicUrl: 'https://approvals.example.com' });
    assert.unreachable('should have refused to start');
  } catch (err) {
    assert.instance(err, ConfigError);
    assert.match((err as Error).message, /--slack-bot-token-file: is required for Slack approvals/);
  }
});

config.run();
