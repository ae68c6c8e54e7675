import { join } from 'node:path';
import { defineCommand } from '../shared/command.js';
import { duration, int, port, text, url } from '../shared/flags.js';
import { listen, withOps } from '../shared/http.js';
import { openDatabase } from '../shared/sql.js';
import { OrdersDatabase } from './db/orders.js';
import { mcpApp } from './server.js';
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
  },
  async run(config, log) {
    checkAgainstCatalogue();
    const sql = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
    const db = await OrdersDatabase.open(sql, { statementTimeoutMs: config.queryTimeout, rowCap: config.rowCap });
    const app = withOps(mcpApp({ db, allowedHosts: config.allowedHosts }), { log, ready: () => sql.ping() });
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
