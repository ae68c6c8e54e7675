/**
 * Tells reviewers who are not looking at the queue: one Slack-compatible webhook per newly
 * parked request, HMAC-signed so the receiver can check it came from here, retried with
 * backoff, and delivered off to the side so a slow receiver never holds anything up.
 */
import { createHmac } from 'node:crypto';
import { Backoff, pause } from '../shared/backoff.js';
import type { Logger } from '../shared/log.js';
import type { ApprovalRequest } from '../contracts/admin-api.js';
import { AdminError, type AdminClient } from '../shared/admin-client.js';
import type { Credential } from '../contracts/reviewer-session.js';

export interface NotifierOptions {
  admin: AdminClient;
  /** The UI's own reader credential for the queue. */
  credential: Credential;
  webhookUrl: string;
  secret: string;
  /** Where reviewers open the UI, for the link to the card. */
  publicUrl: string;
  log: Logger;
  attempts?: number;
  firstRetryMs?: number;
}

const MAX_QUEUED = 1000;
const DELIVERY_TIMEOUT_MS = 5_000;

export function signature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

export function slackMessage(request: ApprovalRequest, link: string): object {
  const who = request.requester ?? 'an unidentified caller';
  const text = `Approval needed: ${request.toolName} requested by ${who} on ${request.path}`;
  return {
    text: `${text}. Review: ${link}`,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*Approval needed:* \`${request.toolName}\` requested by ${who}` } },
      { type: 'section', text: { type: 'mrkdwn', text: `Gate \`${request.gate}\`, route \`${request.method} ${request.path}\`. <${link}|Open the card>` } },
    ],
  };
}

export class Notifier {
  private readonly queue: ApprovalRequest[] = [];
  private delivering = false;
  private readonly stopped = new AbortController();

  constructor(private readonly options: NotifierOptions) {}

  /** Follows the queue until stop(), reconnecting with backoff when ext-auth goes away. */
  start(): void {
    void this.follow();
  }

  stop(): void {
    this.stopped.abort();
  }

  private async follow(): Promise<void> {
    const { admin, credential, log } = this.options;
    const backoff = new Backoff(500, 30_000);
    while (!this.stopped.signal.aborted) {
      try {
        for await (const item of admin.events(credential, this.stopped.signal)) {
          backoff.reset();
          if (item === 'ready' || item.type !== 'parked') continue;
          this.enqueue(await admin.request(credential, item.id));
        }
      } catch (err) {
        if (this.stopped.signal.aborted) return;
        if (err instanceof AdminError && err.status === 401) log.error('the notifier credential was refused by ext-auth; check --notify-token');
        else log.warn({ err: (err as Error).message }, 'notifier lost the queue stream; reconnecting');
      }
      await pause(backoff.next(), this.stopped.signal);
    }
  }

  private enqueue(request: ApprovalRequest): void {
    if (this.queue.length >= MAX_QUEUED) {
      const dropped = this.queue.shift();
      this.options.log.warn({ id: dropped?.id }, 'notification backlog full; dropped the oldest');
    }
    this.queue.push(request);
    if (!this.delivering) void this.drain();
  }

  private async drain(): Promise<void> {
    this.delivering = true;
    while (this.queue.length && !this.stopped.signal.aborted) await this.deliver(this.queue.shift()!);
    this.delivering = false;
  }

  private async deliver(request: ApprovalRequest): Promise<void> {
    const { webhookUrl, secret, publicUrl, log, attempts = 5, firstRetryMs = 1000 } = this.options;
    const body = JSON.stringify(slackMessage(request, `${publicUrl}/requests/${encodeURIComponent(request.id)}`));
    for (let attempt = 1; attempt <= attempts && !this.stopped.signal.aborted; attempt++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const response = await fetch(webhookUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-hitl-timestamp': timestamp, 'x-hitl-signature': signature(secret, timestamp, body) },
          body,
          signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
        });
        if (response.ok) {
          log.info({ id: request.id, attempt }, 'notification delivered');
          return;
        }
        log.warn({ id: request.id, attempt, status: response.status }, 'notification refused');
      } catch (err) {
        log.warn({ id: request.id, attempt, err: (err as Error).message }, 'notification failed');
      }
      if (attempt < attempts) await pause(firstRetryMs * 2 ** (attempt - 1), this.stopped.signal);
    }
    log.error({ id: request.id, attempts }, 'notification given up');
  }
}
