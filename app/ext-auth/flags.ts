/** `hitl ext-auth`'s and `hitl ext-auth verify-audit`'s flags: read by the commands, `hitl dev`, the constructs and the tests. No dependencies, so any of them may import it. */
import { join } from 'node:path';
import { REQUESTER_HEADER } from '../contracts/headers.js';
import { DEFAULT_PORTS } from '../contracts/ports.js';
import { bool, duration, int, listeningPort, oneOf, text, url, type FlagSpec } from '../shared/flags.js';

const storageFlags = {
  dataDir: { help: 'where the embedded store and audit log live', default: join('.hitl', 'ext-auth'), parse: text, metavar: 'DIR' },
  databaseUrl: { help: 'keep requests and audit in this PostgreSQL instead', parse: url(['postgres:', 'postgresql:']), metavar: 'URL' },
};

export const extAuthFlags = {
  grpcPort: listeningPort('grpc', 'gRPC port agentgateway calls', DEFAULT_PORTS.extAuthGrpc),
  adminPort: listeningPort('admin', 'HTTP port of the reviewers\' admin API', DEFAULT_PORTS.extAuthAdmin),
  ...storageFlags,
  parkTimeout: duration('how long a call waits for reviewers before it is denied', '10m'),
  hold: duration(
    'how long one call is held at the gateway; then it is answered "waiting for a platform reviewer" and stays queued until --park-timeout (keep it under the callers\' own timeouts: kagent cuts a chat turn at 3m)',
    '150s',
  ),
  grantTtl: duration('how long an approval given after the hold lets the same call through once, and a rejection answers identical calls at once', '15m'),
  denyAs: {
    help: 'answer a refused tool call as its own JSON-RPC tool error with HTTP 200 (jsonrpc: MCP clients show the model why), or with 403/429 (http)',
    default: 'jsonrpc' as const,
    parse: oneOf('jsonrpc', 'http'),
    metavar: 'jsonrpc|http',
  },
  tokensFile: { help: 'JSON array of reviewers {name, groups, sha256 of token, optional slack user id}; the Slack bridge\'s entry has "slackBridge": true and no groups', parse: text, metavar: 'FILE' },
  identityHeader: { help: 'trust this header from an auth proxy as the reviewer\'s name', parse: text, metavar: 'NAME' },
  groupsHeader: { help: 'with --identity-header: header with the reviewer\'s groups', default: 'x-forwarded-groups', parse: text, metavar: 'NAME' },
  requesterHeader: { help: 'request header naming who asked (kagent forwards x-user-id)', default: REQUESTER_HEADER, parse: text, metavar: 'NAME' },
  requesterMetadata: { help: 'metadata_context "namespace.key" naming who asked (e.g. JWT claims); the header is then ignored', parse: text, metavar: 'KEY' },
  allowAnonymous: { help: 'park calls that name no requester (any reviewer may approve them) instead of denying them', default: false, parse: bool, metavar: '' },
  approvalKey: { help: 'Ed25519 private key (PEM) that signs approvals for the MCP server and checkpoints of the audit chain', parse: text, metavar: 'FILE' },
  gate: { help: 'gate name when the policy names none', default: 'platform', parse: text, metavar: 'NAME' },
  approvals: { help: 'distinct approvals needed when the policy says none', default: 1, parse: int({ min: 1, max: 99 }), metavar: 'N' },
  reviewerGroup: { help: 'reviewer group when the policy names none', default: 'platform', parse: text, metavar: 'GROUP' },
  maxPending: { help: 'most requests waiting at once', default: 1000, parse: int({ min: 1 }), metavar: 'N' },
  maxPendingPerRequester: { help: 'most requests waiting from one requester', default: 20, parse: int({ min: 1 }), metavar: 'N' },
  redactHeaders: { help: 'more headers never stored or shown', repeatable: true, parse: text, metavar: 'NAME' },
  replicaTimeout: duration('with PostgreSQL: a replica silent this long is dead, and its parked calls are abandoned', '30s'),
} satisfies FlagSpec;

export const verifyAuditFlags = {
  ...storageFlags,
  file: { help: 'an exported audit.jsonl to check instead of the store', parse: text, metavar: 'FILE' },
  verifyKey: {
    help: 'Ed25519 public key (PEM) of --approval-key: also check the export\'s signed trailer or the store\'s signed checkpoints (give old keys too after a rotation)',
    repeatable: true,
    parse: text,
    metavar: 'FILE',
  },
} satisfies FlagSpec;
