/** `hitl mcp`'s flags: read by the command, `hitl dev`, the constructs and the tests. No dependencies, so any of them may import it. */
import { join } from 'node:path';
import { DEFAULT_PORTS } from '../contracts/ports.js';
import { bool, duration, int, listeningPort, text, url, type FlagSpec } from '../shared/flags.js';

export const mcpFlags = {
  port: listeningPort('http', 'HTTP port', DEFAULT_PORTS.mcp),
  dataDir: { help: 'where the embedded database lives', default: join('.hitl', 'mcp'), parse: text, metavar: 'DIR' },
  databaseUrl: { help: 'use this PostgreSQL instead of the embedded database', parse: url(['postgres:', 'postgresql:']), metavar: 'URL' },
  allowedHosts: { help: 'extra Host names to accept (the gateway\'s in-cluster name)', repeatable: true, parse: text, metavar: 'HOST' },
  queryTimeout: duration('statement timeout for cluster_db_query (PostgreSQL)', '5s'),
  rowCap: { help: 'most rows cluster_db_query returns', default: 500, parse: int({ min: 1, max: 100_000 }), metavar: 'N' },
  approvalVerifyKey: { help: 'Ed25519 public key (PEM) that verifies the platform approvals ext-auth signs', parse: text, metavar: 'FILE' },
  noApprovalCheck: { help: 'run platform tools without a signed approval (unsafe; for a server no gateway fronts)', default: false, parse: bool, metavar: '' },
  userApprovalVerifyKey: { help: 'Ed25519 public key (PEM) that verifies end users\' approvals signed by the agent', parse: text, metavar: 'FILE' },
} satisfies FlagSpec;
