/**
 * `hitl ui --slack-…`: the Slack bridge's flags read and checked, and the bridge with the
 * interactions route it answers on. All of it or none: a half-configured bridge would post
 * messages whose buttons cannot work.
 */
import { readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import { ConfigError } from '../../shared/flags.js';
import type { Logger } from '../../shared/log.js';
import type { AdminClient } from '../../shared/admin-client.js';
import type { MigrationPreviews } from '../../shared/migration-preview.js';
import { SlackBridge } from './bridge.js';
import { slackInteractions } from './interactions.js';

export interface SlackFlags {
  slackBotTokenFile?: string;
  slackSigningSecretFile?: string;
  slackBridgeTokenFile?: string;
  slackChannel?: string;
  slackApiUrl: string;
  publicUrl?: string;
}

export interface SlackSetup {
  bridge: SlackBridge;
  routes: Hono;
}

/** Undefined when no Slack flag is given; a ConfigError naming the flag when one is missing or unreadable. */
export function slackFromFlags(flags: SlackFlags, deps: { admin: AdminClient; previews: MigrationPreviews; log: Logger }): SlackSetup | undefined {
  const required = {
    'slack-bot-token-file': flags.slackBotTokenFile,
    'slack-signing-secret-file': flags.slackSigningSecretFile,
    'slack-bridge-token-file': flags.slackBridgeTokenFile,
    'slack-channel': flags.slackChannel,
  };
  if (Object.values(required).every((value) => value === undefined)) return undefined;
  for (const [flag, value] of Object.entries(required)) {
    if (value === undefined) throw new ConfigError(flag, 'is required for Slack approvals, with the other --slack-… flags');
  }
  if (!flags.publicUrl) throw new ConfigError('public-url', 'is required for Slack approvals: Slack must reach /slack/interactions there, and each message links to its card');
  const log = deps.log.child({ component: 'slack' });
  const bridge = new SlackBridge({
    admin: deps.admin,
    previews: deps.previews,
    botToken: secretFrom('slack-bot-token-file', flags.slackBotTokenFile!),
    bridgeToken: secretFrom('slack-bridge-token-file', flags.slackBridgeTokenFile!),
    channel: flags.slackChannel!,
    apiUrl: flags.slackApiUrl.endsWith('/') ? flags.slackApiUrl : `${flags.slackApiUrl}/`,
    publicUrl: flags.publicUrl.replace(/\/$/, ''),
    log,
  });
  return { bridge, routes: slackInteractions(bridge, secretFrom('slack-signing-secret-file', flags.slackSigningSecretFile!), log) };
}

/** A secret kept in a file (a mounted Kubernetes Secret), so it is never in argv or the environment. */
function secretFrom(flag: string, path: string): string {
  let secret: string;
  try {
    secret = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(flag, `cannot read ${path}: ${(err as Error).message}`);
  }
  if (!secret) throw new ConfigError(flag, `${path} is empty`);
  return secret;
}
