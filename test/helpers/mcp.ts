import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OrdersDatabase } from '../../app/mcp/db/orders.js';
import { mcpApp } from '../../app/mcp/server.js';
import { listen, withOps, type Listening } from '../../app/shared/http.js';
import { createLogger } from '../../app/shared/log.js';
import { openDatabase, type Sql } from '../../app/shared/sql.js';

export interface McpUnderTest {
  url: string;
  sql: Sql;
  db: OrdersDatabase;
  close(): Promise<void>;
}

/** The MCP server in this process, listening on a real loopback port. */
export async function startMcp(options: { dataDir: string; databaseUrl?: string; rowCap?: number; statementTimeoutMs?: number }): Promise<McpUnderTest> {
  const sql = await openDatabase(options);
  const db = await OrdersDatabase.open(sql, { statementTimeoutMs: options.statementTimeoutMs ?? 2000, rowCap: options.rowCap ?? 500 });
  const log = createLogger('mcp', 'silent');
  const server: Listening = await listen(withOps(mcpApp({ db, allowedHosts: [] }), { log, ready: () => sql.ping() }), 0, '127.0.0.1');
  return {
    url: server.url,
    sql,
    db,
    async close() {
      await server.close();
      await sql.close();
    },
  };
}

/** An official MCP SDK client connected to one endpoint. */
export async function connectClient(endpointUrl: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'hitl-tests', version: '0.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(endpointUrl), { requestInit: { headers } }));
  return client;
}

/** The JSON a tool returned, or its error text. */
export function toolJson(result: Awaited<ReturnType<Client['callTool']>>): any {
  const text = (result.content as { type: string; text: string }[])[0].text;
  return result.isError ? { error: text } : JSON.parse(text);
}
