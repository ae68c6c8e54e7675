/**
 * A stand-in for Slack on loopback: the Web API methods the bridge calls, each request checked
 * against Slack's documented shapes (POST, `Authorization: Bearer` with the bot token, a form or
 * JSON body, blocks within Block Kit's limits, the configured channel, the ts of a message it
 * posted for an update), and clicks sent to the UI as Slack sends them: a form field `payload`
 * holding the block_actions JSON, signed `v0=` HMAC-SHA256 over `v0:{timestamp}:{body}`.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  args: Record<string, any>;
  /** What the stand-in answered (the ts of a posted message, or the error). */
  answer: Record<string, any>;
}

/** What Slack's documentation allows, as far as the bridge uses it. */
const BLOCK_TYPES = new Set(['section', 'context', 'input', 'actions', 'header', 'divider']);

function blockProblem(block: any, i: number): string | undefined {
  if (!BLOCK_TYPES.has(block?.type)) return `block ${i} has type ${block?.type}`;
  if (block.block_id !== undefined && (typeof block.block_id !== 'string' || block.block_id.length > 255)) return `block ${i} has a bad block_id`;
  const textObject = (t: any, max: number) => t && (t.type === 'mrkdwn' || t.type === 'plain_text') && typeof t.text === 'string' && t.text.length > 0 && t.text.length <= max;
  switch (block.type) {
    case 'section':
      if (!block.text && !block.fields) return `section ${i} has neither text nor fields`;
      if (block.text && !textObject(block.text, 3000)) return `section ${i} text is not a text object of 1 to 3000 characters`;
      if (block.fields && !(block.fields.length <= 10 && block.fields.every((f: any) => textObject(f, 2000)))) return `section ${i} fields break the limits`;
      return undefined;
    case 'context':
      return Array.isArray(block.elements) && block.elements.length <= 10 && block.elements.every((e: any) => textObject(e, 3000)) ? undefined : `context ${i} elements break the limits`;
    case 'input':
      if (!(block.label?.type === 'plain_text' && textObject(block.label, 2000))) return `input ${i} needs a plain_text label`;
      return block.element?.type === 'plain_text_input' && typeof block.element.action_id === 'string' ? undefined : `input ${i} needs a plain_text_input with an action_id`;
    case 'actions': {
      if (!Array.isArray(block.elements) || block.elements.length === 0 || block.elements.length > 25) return `actions ${i} needs 1 to 25 elements`;
      for (const e of block.elements) {
        if (e.type !== 'button') return `actions ${i} holds a ${e.type}`;
        if (!(e.text?.type === 'plain_text' && textObject(e.text, 75))) return `a button in block ${i} needs plain_text of at most 75 characters`;
        if (typeof e.action_id !== 'string' || e.action_id.length > 255) return `a button in block ${i} needs an action_id`;
        if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000)) return `a button value in block ${i} is too long`;
        if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') return `a button in block ${i} has style ${e.style}`;
      }
      const ids = block.elements.map((e: any) => e.action_id);
      return new Set(ids).size === ids.length ? undefined : `actions ${i} repeats an action_id`;
    }
    default:
      return undefined;
  }
}

function messageProblem(args: Record<string, any>): string | undefined {
  if (typeof args.text !== 'string' && args.blocks === undefined) return 'no_text';
  if (args.blocks === undefined) return undefined;
  if (!Array.isArray(args.blocks) || args.blocks.length > 50) return 'invalid_blocks: blocks must be an array of at most 50';
  for (const [i, block] of args.blocks.entries()) {
    const problem = blockProblem(block, i);
    if (problem) return `invalid_blocks: ${problem}`;
  }
  return undefined;
}

async function readArgs(req: IncomingMessage): Promise<Record<string, any> | string> {
  let body = '';
  for await (const chunk of req) body += chunk;
  const type = (req.headers['content-type'] ?? '').split(';')[0].trim();
  if (type === 'application/json') return JSON.parse(body);
  if (type !== 'application/x-www-form-urlencoded') return `unsupported content-type ${type}`;
  const args: Record<string, any> = Object.fromEntries(new URLSearchParams(body));
  // In a form, Slack takes structured arguments as JSON strings.
  if (typeof args.blocks === 'string') args.blocks = JSON.parse(args.blocks);
  return args;
}

export async function startSlackStandIn(options: { botToken: string; channel: string }) {
  const calls: SlackCall[] = [];
  /** Every request that broke Slack's rules; a test ends by checking this is empty. */
  const problems: string[] = [];
  const waiters: { match: (call: SlackCall) => boolean; resolve: (call: SlackCall) => void }[] = [];
  const claimed = new Set<SlackCall>();
  const posted = new Set<string>();
  let nextTs = 1_700_000_000;

  const answer = (method: string, args: Record<string, any>): Record<string, any> => {
    const refuse = (error: string) => {
      problems.push(`${method}: ${error}`);
      return { ok: false, error };
    };
    switch (method) {
      case 'chat.postMessage': {
        if (args.channel !== options.channel) return refuse('channel_not_found');
        const problem = messageProblem(args);
        if (problem) return refuse(problem);
        const ts = `${nextTs++}.000100`;
        posted.add(ts);
        return { ok: true, channel: options.channel, ts, message: { type: 'message', text: args.text, blocks: args.blocks, ts } };
      }
      case 'chat.update': {
        if (args.channel !== options.channel) return refuse('channel_not_found');
        if (!posted.has(args.ts)) return refuse('message_not_found');
        const problem = messageProblem(args);
        if (problem) return refuse(problem);
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text };
      }
      case 'chat.postEphemeral':
        if (args.channel !== options.channel) return refuse('channel_not_found');
        if (typeof args.user !== 'string' || !args.user) return refuse('user_not_in_channel');
        if (messageProblem(args)) return refuse(messageProblem(args)!);
        return { ok: true, message_ts: `${nextTs++}.000200` };
      default:
        return refuse('unknown_method');
    }
  };

  const server = createServer(async (req, res) => {
    const method = /^\/api\/([a-zA-Z.]+)$/.exec(req.url ?? '')?.[1] ?? '';
    const reply = (body: object) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'POST') {
      problems.push(`${req.method} ${req.url}: Web API writes are POSTs`);
      return reply({ ok: false, error: 'invalid_request' });
    }
    if (req.headers.authorization !== `Bearer ${options.botToken}`) {
      problems.push(`${method}: the bot token was not sent as Authorization: Bearer`);
      return reply({ ok: false, error: 'not_authed' });
    }
    const args = await readArgs(req);
    if (typeof args === 'string') {
      problems.push(`${method}: ${args}`);
      return reply({ ok: false, error: 'invalid_form_data' });
    }
    const call = { method, args, answer: answer(method, args) };
    calls.push(call);
    reply(call.answer);
    for (const waiter of [...waiters]) {
      if (!claimed.has(call) && waiter.match(call)) {
        claimed.add(call);
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    apiUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    calls,
    problems,
    /** The first call, made already or still to come, that matches and no earlier wait took. */
    waitFor(method: string, match: (args: Record<string, any>) => boolean = () => true): Promise<SlackCall> {
      const test = (call: SlackCall) => call.method === method && match(call.args);
      const done = calls.find((call) => !claimed.has(call) && test(call));
      if (done) {
        claimed.add(done);
        return Promise.resolve(done);
      }
      return new Promise((resolve) => waiters.push({ match: test, resolve }));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface Click {
  slackUser: string;
  channel: string;
  messageTs: string;
  action: 'approve' | 'reject';
  requestId: string;
  reason?: string;
}

/** A block_actions payload as Slack sends it for a button in a message. */
export function blockActionsPayload(click: Click): object {
  return {
    type: 'block_actions',
    user: { id: click.slackUser, username: click.slackUser.toLowerCase(), name: click.slackUser.toLowerCase(), team_id: 'T0TEAM' },
    api_app_id: 'A0HITL',
    token: 'deprecated-verification-token',
    container: { type: 'message', message_ts: click.messageTs, channel_id: click.channel, is_ephemeral: false },
    trigger_id: '1234.5678.abcdef',
    team: { id: 'T0TEAM', domain: 'example' },
    channel: { id: click.channel, name: 'approvals' },
    message: { type: 'message', ts: click.messageTs },
    state: { values: { hitl_reason: { reason: { type: 'plain_text_input', value: click.reason ?? null } } } },
    response_url: 'https://hooks.slack.com/actions/T0TEAM/1/abc',
    actions: [
      {
        type: 'button',
        action_id: click.action,
        block_id: 'decision',
        value: click.requestId,
        text: { type: 'plain_text', text: click.action === 'approve' ? 'Approve' : 'Reject' },
        action_ts: '1700000000.000300',
      },
    ],
  };
}

/** Sends `payload` to the UI as Slack would, signed with `secret` at `timestamp` (seconds). */
export function sendInteraction(uiUrl: string, payload: object, secret: string, timestamp = Math.floor(Date.now() / 1000)): Promise<Response> {
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return fetch(`${uiUrl}/slack/interactions`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature },
    body,
  });
}
