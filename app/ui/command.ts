import { Hono } from 'hono';
import { defineCommand } from '../shared/command.js';
import { ConfigError, type FlagValues } from '../shared/flags.js';
import { listen, withOps } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { AdminClient } from '../shared/admin-client.js';
import { loadAssets } from './assets.js';
import { MigrationPreviews } from '../shared/migration-preview.js';
import { Notifier } from './notify.js';
import { uiApp } from './server.js';
import { SessionSealer } from './session.js';
import { slackFromFlags } from './slack/setup.js';
import { uiFlags } from './flags.js';

const MAX_SESSION_MS = 24 * 3600 * 1000;

export const uiCommand = defineCommand({
  name: 'ui',
  summary: 'the platform reviewers\' live approval queue in the browser',
  flags: uiFlags,
  async run(config, log) {
    const running = await startUi(config, log);
    log.info({ url: running.url, extAuth: config.extAuthUrl, notifications: Boolean(config.notifyUrl), slackChannel: config.slackChannel }, 'ui listening');
    return running;
  },
});

export type UiConfig = FlagValues<typeof uiCommand.flags> & { host: string };

export async function startUi(config: UiConfig, log: Logger) {
  if (config.notifyUrl && !config.notifySecret) throw new ConfigError('notify-secret', 'is required with --notify-url, so receivers can check each message');
  if (config.notifyUrl && !config.notifyToken) throw new ConfigError('notify-token', 'is required with --notify-url: the notifier reads the queue as a reviewer');
  // ext-auth keeps no session longer than a day, whatever it is asked for.
  for (const [flag, ms] of [['session-ttl', config.sessionTtl], ['session-idle', config.sessionIdle]] as const) {
    if (ms < 1000 || ms > MAX_SESSION_MS) throw new ConfigError(flag, 'must be between 1s and 24h');
  }
  const proxy = config.identityHeader ? { identityHeader: config.identityHeader.toLowerCase(), groupsHeader: config.groupsHeader.toLowerCase() } : undefined;
  const admin = new AdminClient(config.extAuthUrl, proxy && { identity: proxy.identityHeader, groups: proxy.groupsHeader });
  if (!config.sessionSecret && !proxy) log.warn('no --session-secret: sign-ins last until this process stops, and replicas cannot share them');
  const previews = new MigrationPreviews(config.mcpUrl);
  const slack = slackFromFlags(config, { admin, previews, log });
  const shuttingDown = new AbortController();
  const app = uiApp({
    admin,
    previews,
    sealer: new SessionSealer(config.sessionSecret),
    assets: loadAssets(),
    pageSize: config.pageSize,
    sessionTtlMs: config.sessionTtl,
    sessionIdleMs: config.sessionIdle,
    secureCookies: config.publicUrl?.startsWith('https:') ?? false,
    proxy,
    shutdown: shuttingDown.signal,
    log,
  });
  // Slack's route first: its requests are signed by Slack, not by a reviewer's session.
  const served = slack ? new Hono().route('/', slack.routes).route('/', app) : app;
  const server = await listen(withOps(served, { log, ready: () => admin.ready() }), config.port, config.host);
  const notifier = config.notifyUrl ? startNotifier(config, admin, server.url, log) : undefined;
  slack?.bridge.start();
  return {
    url: server.url,
    async close() {
      notifier?.stop();
      slack?.bridge.stop();
      shuttingDown.abort();
      await server.close();
    },
  };
}

function startNotifier(config: UiConfig, admin: AdminClient, ownUrl: string, log: Logger): Notifier {
  const notifier = new Notifier({
    admin,
    credential: { kind: 'bearer', token: config.notifyToken! },
    webhookUrl: config.notifyUrl!,
    secret: config.notifySecret!,
    publicUrl: config.publicUrl ?? ownUrl,
    log,
  });
  notifier.start();
  return notifier;
}
