/**
 * The Slack bridge: posts each new request to a channel and keeps that message true to the
 * request, whoever decides and wherever (in Slack, in the web queue, through the admin API),
 * by following the same live queue stream the web queue follows. Decisions taken in Slack go
 * to ext-auth under the bridge's token naming the Slack user, so ext-auth, not this process,
 * maps the user to a reviewer and applies the groups, self-approval and N-of-M rules.
 */
import { LogLevel, WebClient, type Logger as SlackLogger } from '@slack/web-api';
import { Backoff, pause } from '../../shared/backoff.js';
import type { Logger } from '../../shared/log.js';
import type { ApprovalRequest, QueueChange } from '../../contracts/admin-api.js';
import { AdminError, type AdminClient } from '../../shared/admin-client.js';
import { showsMigrationPlan, type MigrationPreviews } from '../../shared/migration-preview.js';
import type { Credential } from '../../contracts/reviewer-session.js';
import { endedMessage, pendingMessage, type SlackMessage } from './blocks.js';

export interface SlackBridgeOptions {
  admin: AdminClient;
  /** The bridge's own reviewer token (its tokens-file entry says "slackBridge": true). */
  bridgeToken: string;
  botToken: string;
  channel: string;
  /** Slack's Web API base URL. */
  apiUrl: string;
  previews: MigrationPreviews;
  /** Where reviewers open the UI, for the link to the card. */
  publicUrl: string;
  log: Logger;
}

interface Posted {
  channel: string;
  ts: string;
}

const SLACK_CALL_TIMEOUT_MS = 10_000;

export class SlackBridge {
  private readonly slack: WebClient;
  private readonly credential: Credential & { kind: 'bearer' };
  /** The message each request was posted as; forgotten once it shows the outcome. */
  private readonly posted = new Map<string, Posted>();
  private readonly stopped = new AbortController();

  constructor(private readonly options: SlackBridgeOptions) {
    this.credential = { kind: 'bearer', token: options.bridgeToken };
    this.slack = new WebClient(options.botToken, {
      slackApiUrl: options.apiUrl,
      // A few quick retries: the queue stream waits while a message is posted.
      retryConfig: { retries: 2, factor: 2, minTimeout: 500 },
      timeout: SLACK_CALL_TIMEOUT_MS,
      logger: slackLogger(options.log),
      // Only method names are called, so nothing may send the bot token to another host.
      allowAbsoluteUrls: false,
    });
  }

  start(): void {
    void this.follow();
  }

  stop(): void {
    this.stopped.abort();
  }

  /**
   * A click in Slack, after its signature was checked: decides as the reviewer `slackUser` maps
   * to. A refusal (unmapped user, self-approval, not in the group, already decided) is told to
   * that user alone; a success shows when the message is updated from the queue stream.
   */
  async decide(click: { slackUser: string; channel: string; id: string; approved: boolean; reason: string }): Promise<void> {
    const { admin, log } = this.options;
    const as: Credential = { ...this.credential, slackUser: click.slackUser };
    try {
      await admin.decide(as, click.id, click.approved, click.reason);
      log.info({ id: click.id, slackUser: click.slackUser, approved: click.approved }, 'decision taken in Slack');
      return;
    } catch (err) {
      const refused = err instanceof AdminError && [403, 404, 409, 410].includes(err.status);
      if (err instanceof AdminError && err.status === 401) log.error('ext-auth refused the Slack bridge token; check --slack-bridge-token-file and its "slackBridge" entry');
      log.warn({ id: click.id, slackUser: click.slackUser, err: (err as Error).message }, refused ? 'decision from Slack refused' : 'decision from Slack failed');
      const text = refused ? `Not recorded: ${(err as Error).message}.` : 'Not recorded: the approval service could not take the decision just now; try again or use the web queue.';
      await this.slack.chat.postEphemeral({ channel: click.channel, user: click.slackUser, text }).catch((sendErr: Error) => {
        log.warn({ id: click.id, err: sendErr.message }, 'could not tell the Slack user why');
      });
    }
  }

  /** Follows the queue until stop(), reconnecting with backoff when ext-auth goes away. */
  private async follow(): Promise<void> {
    const { admin, log } = this.options;
    const backoff = new Backoff(500, 30_000);
    while (!this.stopped.signal.aborted) {
      try {
        for await (const item of admin.events(this.credential, this.stopped.signal)) {
          backoff.reset();
          await (item === 'ready' ? this.catchUp() : this.apply(item));
        }
      } catch (err) {
        if (this.stopped.signal.aborted) return;
        if (err instanceof AdminError && err.status === 401) log.error('ext-auth refused the Slack bridge token; check --slack-bridge-token-file');
        else log.warn({ err: (err as Error).message }, 'the Slack bridge lost the queue stream; reconnecting');
      }
      await pause(backoff.next(), this.stopped.signal);
    }
  }

  /**
   * On every (re)connection: posts what is waiting and not yet posted, and brings up to date
   * the messages of requests that ended while the stream was down. After a restart this posts
   * the waiting requests again; the buttons of an older message still decide the same request.
   */
  private async catchUp(): Promise<void> {
    const pending = await this.options.admin.pending(this.credential);
    const waiting = new Set(pending.map((r) => r.id));
    for (const id of [...this.posted.keys()]) if (!waiting.has(id)) await this.refresh(id);
    for (const { id } of pending) if (!this.posted.has(id)) await this.refresh(id);
  }

  /** A new request is posted; a change to one already posted updates its message. */
  private async apply(change: QueueChange): Promise<void> {
    if (change.type === 'parked' || this.posted.has(change.id)) await this.refresh(change.id);
  }

  private async refresh(id: string): Promise<void> {
    try {
      await this.show(await this.options.admin.request(this.credential, id));
    } catch (err) {
      this.options.log.warn({ id, err: (err as Error).message }, 'could not show the request in Slack');
    }
  }

  /** Posts the request, or updates its message; an ended request's message is final. */
  private async show(request: ApprovalRequest): Promise<void> {
    const { channel, log } = this.options;
    const message = await this.messageFor(request);
    const earlier = this.posted.get(request.id);
    if (earlier) {
      await this.slack.chat.update({ channel: earlier.channel, ts: earlier.ts, ...message });
      if (request.status !== 'pending') this.posted.delete(request.id);
      log.info({ id: request.id, status: request.status }, 'Slack message updated');
      return;
    }
    if (request.status !== 'pending') return;
    const posted = await this.slack.chat.postMessage({ channel, ...message });
    if (!posted.ts || !posted.channel) throw new Error('Slack answered chat.postMessage without the message ts and channel');
    this.posted.set(request.id, { channel: posted.channel, ts: posted.ts });
    log.info({ id: request.id, channel: posted.channel, ts: posted.ts }, 'request posted to Slack');
  }

  private async messageFor(request: ApprovalRequest): Promise<SlackMessage> {
    const link = `${this.options.publicUrl}/requests/${encodeURIComponent(request.id)}`;
    if (request.status !== 'pending') return endedMessage(request, link);
    const preview = showsMigrationPlan(request.toolName) ? await this.options.previews.preview(request.toolArgs.version) : undefined;
    return pendingMessage(request, link, preview);
  }
}

/** The Web API client's own log lines, in this process's log; its chatter at debug. */
function slackLogger(log: Logger): SlackLogger {
  const child = log.child({ component: 'slack-web-api' });
  const line = (args: unknown[]) => args.map(String).join(' ');
  return {
    debug: (...args) => child.debug(line(args)),
    info: (...args) => child.debug(line(args)),
    warn: (...args) => child.warn(line(args)),
    error: (...args) => child.error(line(args)),
    setLevel: () => undefined,
    getLevel: () => LogLevel.DEBUG,
    setName: () => undefined,
  };
}
