import { join } from 'node:path';
import { defineCommand } from '../shared/command.js';
import { bool, ConfigError, duration, int, port, text, url } from '../shared/flags.js';
import { listen } from '../shared/http.js';
import { keyFromFlag } from '../shared/key-flags.js';
import { openDatabase } from '../shared/sql.js';
import type { ApprovalKeys } from './approval-check.js';
import { OrdersDatabase } from './db/orders.js';
import { mcpService } from './server.js';
import { checkAgainstCatalogue } from './tools/index.js';

export const mcpCommand = defineCommand({
  name: 'mcp',
  summary: 'the ops-tools MCP server: /public/mcp and /privileged/mcp over one orders database',
  flags: {
    port: { help: 'HTTP port', default: 8080, parse: port, metavar: 'PORT' },
    dataDir: { help: 'where the embedded database lives', default: join('.hitl', 'mcp'), parse: text, metavar: 'DIR' },
    databaseUrl: { help: 'use this PostgreSQL instead of the embedded database', parse: url(['postgres:', 'postgresql:']), metavar: 'URL' },
    allowedHosts: { help: 'extra Host names to accept (the gateway\'s in-cluster name)', repeatable: true, parse: text, metavar: 'HOST' },
    queryTimeout: duration('statement timeout for cluster_db_query (PostgreSQL)', '5s'),
    rowCap: { help: 'most rows cluster_db_query returns', default: 500, parse: int({ min: 1, max: 100_000 }), metavar: 'N' },
    approvalVerifyKey: { help: 'Ed25519 public key (PEM) that verifies the platform approvals ext-auth signs', parse: text, metavar: 'FILE' },
    noApprovalCheck: { help: 'run platform tools without a signed approval (unsafe; for a server no gateway fronts)', default: false, parse: bool, metavar: '' },
    userApprovalVerifyKey: { help: 'Ed25519 public key (PEM) that verifies end users\' approvals signed by the agent', parse: text, metavar: 'FILE' },
  },
  async run(config, log) {
    checkAgainstCatalogue();
    const approvalKeys = approvalKeysOf(config);
    const unchecked = () => log.warn('platform tools run without checking approvals (--no-approval-check): anyone who reaches this server can run them');
    if (!approvalKeys.platform) unchecked();
    const sql = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    const db = await OrdersDatabase.open(sql, { statementTimeoutMs: config.queryTimeout, rowCap: config.rowCap });
    const ready = () => {
      if (!approvalKeys.platform) unchecked();
      return sql.ping();
    };
    const app = mcpService({ db, allowedHosts: config.allowedHosts, approvalKeys }, { log, ready });
    const server = await listen(app, config.port, config.host);
    log.info({ url: server.url, engine: sql.engine, schema_version: await db.schemaVersion() }, 'mcp listening');
    return {
      async close() {
        await server.close();
        await sql.close();
      },
    };
  },
});

function approvalKeysOf(config: { approvalVerifyKey?: string; noApprovalCheck: boolean; userApprovalVerifyKey?: string }): ApprovalKeys {
  if (config.approvalVerifyKey && config.noApprovalCheck) {
    throw new ConfigError('no-approval-check', 'cannot be combined with --approval-verify-key');
  }
  if (!config.approvalVerifyKey && !config.noApprovalCheck) {
    throw new ConfigError(
      'approval-verify-key',
      'is required: platform tools run only with an approval signed by ext-auth (give --no-approval-check to run them unchecked)',
    );
  }
  return {
    platform: config.approvalVerifyKey ? keyFromFlag('approval-verify-key', config.approvalVerifyKey, 'public') : null,
    user: config.userApprovalVerifyKey ? keyFromFlag('user-approval-verify-key', config.userApprovalVerifyKey, 'public') : undefined,
  };
}
