/** `hitl agent`'s and `hitl agent verify-audit`'s flags: read by the commands, `hitl dev`, the constructs and the tests. No dependencies, so any of them may import it. */
import { join } from 'node:path';
import { REQUESTER_HEADER } from '../contracts/headers.js';
import { DEFAULT_PORTS, localUrl } from '../contracts/ports.js';
import { duration, listeningPort, text, url, type FlagSpec } from '../shared/flags.js';

const storageFlags = {
  dataDir: { help: 'where paused tasks, conversations and the decision audit are kept (embedded database)', default: join('.hitl', 'agent'), parse: text, metavar: 'DIR' },
  databaseUrl: { help: 'keep them in this PostgreSQL instead', parse: url(['postgres:', 'postgresql:']), metavar: 'URL' },
};

export const agentFlags = {
  port: listeningPort('http', 'HTTP port (A2A JSON-RPC and the agent card)', DEFAULT_PORTS.agent),
  gatewayUrl: { help: 'where the MCP endpoints are reached', default: localUrl(DEFAULT_PORTS.gateway), parse: url(), metavar: 'URL' },
  ...storageFlags,
  model: { help: 'Anthropic model, used when ANTHROPIC_API_KEY is set', default: 'claude-sonnet-4-5', parse: text, metavar: 'NAME' },
  publicUrl: { help: 'the URL the agent card advertises (default: where it listens)', parse: url(), metavar: 'URL' },
  requesterHeader: { help: 'A2A request header naming the chat user (kagent sets x-user-id), forwarded on tool calls', default: REQUESTER_HEADER, parse: text, metavar: 'NAME' },
  jwtJwks: { help: 'take the user from a bearer JWT verified with this JWKS (file or URL) instead of the header', parse: text, metavar: 'FILE|URL' },
  jwtIssuer: { help: 'with --jwt-jwks: the issuer a token must name', parse: text, metavar: 'ISS' },
  jwtAudience: { help: 'with --jwt-jwks: the audience a token must name', parse: text, metavar: 'AUD' },
  approvalKey: { help: 'Ed25519 private key (PEM) signing each approved call for the MCP server', parse: text, metavar: 'FILE' },
  auditToken: { help: 'serve GET /audit.jsonl to this bearer token (prefer HITL_AUDIT_TOKEN)', parse: text, metavar: 'TOKEN' },
  anonymousUser: { help: 'the user of requests that name none (a local single-user chat); unset, they are refused', parse: text, metavar: 'NAME' },
  toolTimeout: duration('how long one tool call may take; longer than the gate\'s park timeout', '15m'),
  connectTimeout: duration('how long to keep trying to reach the gateway at start', '60s'),
} satisfies FlagSpec;

export const agentVerifyAuditFlags = {
  ...storageFlags,
  file: { help: 'an exported audit.jsonl to check instead of the store', parse: text, metavar: 'FILE' },
} satisfies FlagSpec;
