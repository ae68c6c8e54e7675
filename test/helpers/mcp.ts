import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { OrdersDatabase } from '../../app/mcp/db/orders.js';
import type { ApprovalKeys } from '../../app/mcp/approval-check.js';
import { mcpService } from '../../app/mcp/server.js';
import { listen, type Listening } from '../../app/shared/http.js';
import { createLogger } from '../../app/shared/log.js';
import { openDatabase, type Sql } from '../../app/shared/sql.js';

export interface McpUnderTest {
  url: string;
  sql: Sql;
  db: OrdersDatabase;
  close(): Promise<void>;
}

/**
 * The MCP server in this process, listening on a real loopback port. Without `approvalKeys`
 * it runs as `--no-approval-check` does, for suites about what the tools do.
 */
export async function startMcp(options: {
  dataDir: string;
  databaseUrl?: string;
  rowCap?: number;
  statementTimeoutMs?: number;
  approvalKeys?: ApprovalKeys;
}): Promise<McpUnderTest> {
  const sql = await openDatabase(options);
  const db = await OrdersDatabase.open(sql, { statementTimeoutMs: options.statementTimeoutMs ?? 2000, rowCap: options.rowCap ?? 500 });
  const log = createLogger('mcp', 'silent');
  const approvalKeys = options.approvalKeys ?? { platform: null };
  const server: Listening = await listen(mcpService({ db, allowedHosts: [], approvalKeys }, { log, ready: () => sql.ping() }), 0, '127.0.0.1');
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
