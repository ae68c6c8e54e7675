/**
 * `POST /slack/interactions`, the Request URL of the Slack app's interactivity: Slack sends
 * each click as a form field `payload` holding JSON, signed with the app's signing secret.
 * Only the signed user id is taken from it as identity; ext-auth maps that id to a reviewer.
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { Logger } from '../../shared/log.js';
import { APPROVE_ACTION, REASON_ACTION, REASON_BLOCK, REJECT_ACTION } from './blocks.js';
import type { SlackBridge } from './bridge.js';
import { signatureProblem } from './signature.js';

/** Slack sends small payloads; anything far larger is not Slack's. */
const MAX_BODY = 256 * 1024;

interface BlockActionsPayload {
  type?: unknown;
  user?: { id?: unknown };
  channel?: { id?: unknown };
  container?: { channel_id?: unknown };
  actions?: { action_id?: unknown; value?: unknown }[];
  state?: { values?: Record<string, Record<string, { value?: unknown }>> };
}

export function slackInteractions(bridge: SlackBridge, signingSecret: string, log: Logger): Hono {
  const app = new Hono();
  const limit = bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.text('payload too large', 413) });
  app.post('/slack/interactions', limit, async (c) => {
    const body = await c.req.text();
    const problem = signatureProblem(signingSecret, { timestamp: c.req.header('x-slack-request-timestamp'), signature: c.req.header('x-slack-signature'), body }, Math.floor(Date.now() / 1000));
    if (problem) {
      log.warn({ problem }, 'Slack interaction refused');
      return c.text(problem, 401);
    }
    let payload: BlockActionsPayload;
    try {
      payload = JSON.parse(new URLSearchParams(body).get('payload') ?? '') as BlockActionsPayload;
    } catch {
      return c.text('the form field "payload" must hold JSON', 400);
    }
    // Typing in the reason field and other surfaces need no answer beyond the acknowledgement.
    const action = payload?.type === 'block_actions' ? payload.actions?.find((a) => a.action_id === APPROVE_ACTION || a.action_id === REJECT_ACTION) : undefined;
    if (!action) return c.body(null, 200);
    const slackUser = payload.user?.id;
    const channel = payload.channel?.id ?? payload.container?.channel_id;
    const id = action.value;
    if (typeof slackUser !== 'string' || typeof channel !== 'string' || typeof id !== 'string') {
      return c.text('a block_actions payload needs user.id, channel.id and the button value', 400);
    }
    const reason = payload.state?.values?.[REASON_BLOCK]?.[REASON_ACTION]?.value;
    // Slack wants its answer within three seconds; the outcome reaches the channel on its own.
    void bridge.decide({ slackUser, channel, id, approved: action.action_id === APPROVE_ACTION, reason: typeof reason === 'string' ? reason.trim() : '' });
    return c.body(null, 200);
  });
  return app;
}
