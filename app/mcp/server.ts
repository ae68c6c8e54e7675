import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { endpoints, findTool, type EndpointName } from '../catalogue.js';
import { REQUESTER_HEADER } from '../contracts/headers.js';
import { MIGRATION_PLAN_PATH } from '../contracts/migration-plan.js';
import type { BoundCall } from '../contracts/tool-call.js';
import { allowHosts } from '../shared/host-check.js';
import { withOps, type OpsOptions } from '../shared/http.js';
import { checkApprovals, type ApprovalKeys, type VerifiedApprovals } from './approval-check.js';
import { ToolError, type CallContext, type OrdersDatabase } from './db/orders.js';
import { onlyExactPaths } from './exact-paths.js';
import { toolsFor } from './tools/index.js';

export const SERVER_VERSION = '0.1.0';
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface McpAppOptions {
  db: OrdersDatabase;
  allowedHosts: readonly string[];
  approvalKeys: ApprovalKeys;
}

const OPERATIONAL_PATHS = ['/healthz', '/readyz', MIGRATION_PLAN_PATH, '/state'];

/**
 * The whole server: the MCP app with the operational endpoints, behind a guard that answers
 * 404 to any spelling of a path other than the exact ones served.
 */
export function mcpService(options: McpAppOptions, ops: OpsOptions): Hono {
  const root = new Hono();
  root.use(onlyExactPaths([...Object.values(endpoints).map((e) => e.path), ...OPERATIONAL_PATHS]));
  root.route('/', withOps(mcpApp(options), ops));
  return root;
}

/** The two MCP endpoints, the migration preview and the state view, as one Hono app. */
export function mcpApp({ db, allowedHosts, approvalKeys }: McpAppOptions): Hono {
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
      (c) => handleMcp(c, endpoint.name, db, approvalKeys),
    );
  }

  app.get(MIGRATION_PLAN_PATH, async (c) => {
    const to = c.req.query('to');
    if (!to) return c.json({ error: `query parameter "to" is required, e.g. ${MIGRATION_PLAN_PATH}?to=v3` }, 400);
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
async function handleMcp(c: Context, endpoint: EndpointName, db: OrdersDatabase, approvalKeys: ApprovalKeys): Promise<Response> {
  const server = new McpServer({ name: `ops-tools-${endpoint}`, version: SERVER_VERSION });
  const sentCalls = await callsSent(c.req.raw);
  for (const tool of toolsFor(endpoint)) {
    const entry = findTool(tool.name)!;
    server.registerTool(
      tool.name,
      { title: entry.title, description: entry.description, inputSchema: tool.inputSchema, annotations: entry.annotations },
      async (args: Record<string, unknown>, extra: { requestId: string | number }) => {
        try {
          // The approval covers the call as sent, not as the schema parsed it.
          const sent = sentCalls.get(JSON.stringify(extra.requestId));
          if (!sent || sent.name !== tool.name) throw new ToolError(`cannot tell which call request ${JSON.stringify(extra.requestId)} is; nothing was run`);
          const proven = await checkApprovals(approvalKeys, entry.tier, sent, c.req.raw.headers);
          const call: CallContext = {
            requestedBy: requesterOf(proven, c.req.header(REQUESTER_HEADER)),
            approval: proven.platform && { id: proven.platform.approvalId, approvers: proven.platform.approvers },
            userApproval: proven.user && { id: proven.user.approvalId, approvers: proven.user.approvers },
          };
          const result = await tool.handler(args, { db, call });
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

/** A signed token names who asked; only without one does the caller's own header say it. */
function requesterOf(proven: VerifiedApprovals, header: string | undefined): string | undefined {
  const signed = proven.platform ?? proven.user;
  return signed ? (signed.requester ?? undefined) : header;
}

/**
 * Every tools/call in the request body, by JSON-RPC id, with its arguments exactly as sent.
 * An id used twice maps to nothing, so neither of its calls can borrow the other's approval.
 */
async function callsSent(request: Request): Promise<Map<string, BoundCall>> {
  const calls = new Map<string, BoundCall>();
  if (request.method !== 'POST') return calls;
  let body: unknown;
  try {
    body = JSON.parse(await request.clone().text());
  } catch {
    return calls;
  }
  const seen = new Set<string>();
  for (const message of Array.isArray(body) ? body : [body]) {
    if (!isObject(message) || message.method !== 'tools/call' || !isObject(message.params)) continue;
    const id = JSON.stringify(message.id ?? null);
    const { name, arguments: args } = message.params;
    if (seen.has(id) || typeof name !== 'string' || (args !== undefined && !isObject(args))) {
      calls.delete(id);
    } else {
      calls.set(id, { name, args: (args as Record<string, unknown> | undefined) ?? {} });
    }
    seen.add(id);
  }
  return calls;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
