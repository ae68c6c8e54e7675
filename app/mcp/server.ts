import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { endpoints, findTool, type EndpointName } from '../catalogue.js';
import { allowHosts } from '../shared/host-check.js';
import { ToolError, type CallContext, type OrdersDatabase } from './db/orders.js';
import { toolsFor } from './tools/index.js';
import type { ToolContext } from './tools/tool.js';

export const SERVER_VERSION = '0.1.0';
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface McpAppOptions {
  db: OrdersDatabase;
  allowedHosts: readonly string[];
}

/** The two MCP endpoints, the migration preview and the state view, as one Hono app. */
export function mcpApp({ db, allowedHosts }: McpAppOptions): Hono {
  const app = new Hono();
  app.use(allowHosts(allowedHosts));

  for (const endpoint of Object.values(endpoints)) {
    app.all(
      endpoint.path,
      bodyLimit({
        maxSize: MAX_REQUEST_BYTES,
        // The unread rest of the body makes the connection unusable, so tell the client to drop it.
        onError: (c) =>
          c.json({ jsonrpc: '2.0', id: null, error: { code: -32600, message: 'request body over 1 MiB' } }, 413, { connection: 'close' }),
      }),
      (c) => handleMcp(c, endpoint.name, db),
    );
  }

  app.get('/migrations/plan', async (c) => {
    const to = c.req.query('to');
    if (!to) return c.json({ error: 'query parameter "to" is required, e.g. /migrations/plan?to=v3' }, 400);
    try {
      return c.json(await db.plan(to));
    } catch (err) {
      if (err instanceof ToolError) return c.json({ error: err.message }, 400);
      throw err;
    }
  });

  app.get('/state', async (c) => c.json(await db.state()));
  return app;
}

/**
 * Stateless Streamable HTTP: a fresh server and transport per request, as the SDK recommends
 * when no session state is kept. JSON responses rather than SSE keep every tool call one
 * plain HTTP exchange, which is what the gateway's ext-auth sees and holds.
 */
async function handleMcp(c: Context, endpoint: EndpointName, db: OrdersDatabase): Promise<Response> {
  const server = new McpServer({ name: `ops-tools-${endpoint}`, version: SERVER_VERSION });
  const ctx: ToolContext = { db, call: callContext(c) };
  for (const tool of toolsFor(endpoint)) {
    const entry = findTool(tool.name)!;
    server.registerTool(
      tool.name,
      { title: entry.title, description: entry.description, inputSchema: tool.inputSchema, annotations: entry.annotations },
      async (args: Record<string, unknown>) => {
        try {
          const result = await tool.handler(args, ctx);
          return { content: [{ type: 'text' as const, text: JSON.stringify(result) }], structuredContent: result };
        } catch (err) {
          if (!(err instanceof ToolError)) throw err;
          return { content: [{ type: 'text' as const, text: err.message }], isError: true };
        }
      },
    );
  }
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(c.req.raw);
  } finally {
    await server.close();
  }
}

function callContext(c: Context): CallContext {
  return {
    requestedBy: c.req.header('x-user-id'),
    approvalId: c.req.header('x-hitl-approval-id'),
    approvedBy: c.req.header('x-hitl-approved-by'),
  };
}
