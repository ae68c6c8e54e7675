/** `hitl ui`'s flags: read by the command, `hitl dev`, the constructs and the tests. No dependencies, so any of them may import it. */
import { MAX_PENDING_PAGE } from '../contracts/admin-api.js';
import { DEFAULT_PORTS, localUrl } from '../contracts/ports.js';
import { duration, int, listeningPort, text, url, type FlagSpec } from '../shared/flags.js';

export const uiFlags = {
  port: listeningPort('http', 'HTTP port', DEFAULT_PORTS.ui),
  extAuthUrl: { help: 'the ext-auth admin API', default: localUrl(DEFAULT_PORTS.extAuthAdmin), parse: url(), metavar: 'URL' },
  mcpUrl: { help: 'the MCP server, for the SQL a migration would run', default: localUrl(DEFAULT_PORTS.mcp), parse: url(), metavar: 'URL' },
  publicUrl: { help: 'where reviewers reach this UI (links in notifications; https makes cookies Secure)', parse: url(), metavar: 'URL' },
  sessionSecret: { help: 'seals session cookies; share it between replicas (prefer HITL_SESSION_SECRET)', parse: text, metavar: 'SECRET' },
  pageSize: { help: 'cards the queue shows at first and loads at a time after', default: 50, parse: int({ min: 1, max: MAX_PENDING_PAGE }), metavar: 'N' },
  sessionTtl: duration('how long a sign-in lasts', '12h'),
  sessionIdle: duration('a sign-in unused this long ends', '30m'),
  identityHeader: { help: 'trust this header from an auth proxy as the reviewer\'s name (ext-auth must trust it too)', parse: text, metavar: 'NAME' },
  groupsHeader: { help: 'with --identity-header: header with the reviewer\'s groups', default: 'x-forwarded-groups', parse: text, metavar: 'NAME' },
  notifyUrl: { help: 'POST a Slack-compatible message here for each new request', parse: url(), metavar: 'URL' },
  notifySecret: { help: 'HMAC key signing each notification (prefer HITL_NOTIFY_SECRET)', parse: text, metavar: 'SECRET' },
  notifyToken: { help: 'reviewer token the notifier reads the queue with (prefer HITL_NOTIFY_TOKEN)', parse: text, metavar: 'TOKEN' },
  slackChannel: { help: 'post each new request to this Slack channel (id) with Approve and Reject buttons', parse: text, metavar: 'CHANNEL' },
  slackBotTokenFile: { help: 'file holding the Slack app\'s bot token (xoxb-…) that posts and updates the messages', parse: text, metavar: 'FILE' },
  slackSigningSecretFile: { help: 'file holding the Slack app\'s signing secret; clicks arrive at /slack/interactions signed with it', parse: text, metavar: 'FILE' },
  slackBridgeTokenFile: { help: 'file holding the reviewer token the Slack bridge uses; its tokens-file entry says "slackBridge": true and has no groups', parse: text, metavar: 'FILE' },
  slackApiUrl: { help: 'Slack\'s Web API base URL', default: 'https://slack.com/api/', parse: url(), metavar: 'URL' },
} satisfies FlagSpec;
