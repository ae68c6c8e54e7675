import { defineCommand } from '../shared/command.js';
import { ConfigError } from '../shared/flags.js';
import { listen } from '../shared/http.js';
import { keyFromFlag } from '../shared/key-flags.js';
import { openDatabase } from '../shared/sql.js';
import type { ApprovalKeys } from './approval-check.js';
import { OrdersDatabase } from './db/orders.js';
import { mcpService } from './server.js';
import { mcpFlags } from './flags.js';

export const mcpCommand = defineCommand({
  name: 'mcp',
  summary: 'the ops-tools MCP server: /public/mcp and /privileged/mcp over one orders database',
  flags: mcpFlags,
  async run(config, log) {
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
