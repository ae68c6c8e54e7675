/**
 * The agent's tools: the MCP endpoints reached through the gateway with the official client.
 * The agent knows nothing of the gateway gate; it sees a slow call, or a denial whose text
 * it passes on verbatim and never retries.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent, fetch as undiciFetch } from 'undici';
import { endpoints, type EndpointName } from '../catalogue.js';
import { USER_APPROVAL_TOKEN_HEADER } from '../contracts/approval-token.js';
import { Backoff, pause } from '../shared/backoff.js';
import { gateDetailsOf, type GateDetails } from '../contracts/denial.js';
import type { Logger } from '../shared/log.js';

export interface GatewayTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  endpoint: EndpointName;
}

/** `gate`: the gateway gate's details when the gate refused the call or told it to wait. */
export type ToolOutcome = { ok: true; text: string } | { ok: false; text: string; gate?: GateDetails };

export interface GatewayToolsOptions {
  gatewayUrl: string;
  /** Sent as the User-Agent, so the reviewer queue names the agent that made the call. */
  agentName: string;
  /** Header naming the chat user on every call, so the gate knows who is asking. */
  requesterHeader: string;
  /** Longer than any human review: a parked call must not time out here first. */
  callTimeoutMs: number;
  /** How long to keep trying to reach the gateway at start. */
  connectForMs: number;
  log: Logger;
}

/** The requester of the calls made inside `asUser`, and the user's signed approval of them if any. */
const onBehalf = new AsyncLocalStorage<{ user: string; approval?: string }>();

export class GatewayTools {
  private constructor(
    readonly tools: GatewayTool[],
    private readonly clients: Map<EndpointName, Client>,
    private readonly callTimeoutMs: number,
  ) {}

  /** Connects to every endpoint, retrying with backoff until the gateway answers or time runs out. */
  static async connect(options: GatewayToolsOptions): Promise<GatewayTools> {
    const clients = new Map<EndpointName, Client>();
    const tools: GatewayTool[] = [];
    const deadline = Date.now() + options.connectForMs;
    for (const endpoint of Object.values(endpoints)) {
      const client = await connectWithRetry(`${options.gatewayUrl}${endpoint.path}`, options, deadline);
      clients.set(endpoint.name, client);
      for (const tool of (await client.listTools()).tools) {
        tools.push({ name: tool.name, description: tool.description ?? '', inputSchema: tool.inputSchema, endpoint: endpoint.name });
      }
    }
    return new GatewayTools(tools, clients, options.callTimeoutMs);
  }

  /** Runs `work` with every tool call in it made on behalf of `user`, carrying their signed `approval` when given. */
  asUser<T>(user: string, work: () => Promise<T>, approval?: string): Promise<T> {
    return onBehalf.run({ user, approval }, work);
  }

  async call(name: string, args: Record<string, unknown>): Promise<ToolOutcome> {
    const tool = this.tools.find((t) => t.name === name);
    if (!tool) return { ok: false, text: `there is no tool named ${name}` };
    try {
      const result = await this.clients.get(tool.endpoint)!.callTool({ name, arguments: args }, undefined, { timeout: this.callTimeoutMs });
      const text = (result.content as { type: string; text?: string }[]).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
      if (!result.isError) return { ok: true, text };
      return { ok: false, text, gate: gateDetailsOf(result) };
    } catch (err) {
      return { ok: false, text: denialText(err) };
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
  }
}

async function connectWithRetry(url: string, options: GatewayToolsOptions, deadline: number): Promise<Client> {
  const backoff = new Backoff(250, 5_000);
  for (;;) {
    const client = new Client({ name: options.agentName, version: '0.1.0' });
    const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: gatewayFetch(options) });
    try {
      await client.connect(transport);
      return client;
    } catch (err) {
      const waitMs = backoff.next();
      if (Date.now() + waitMs > deadline) throw new Error(`cannot reach the MCP endpoint ${url} through the gateway: ${(err as Error).message}`);
      options.log.warn({ url, err: (err as Error).message, retryInMs: waitMs }, 'gateway not reachable yet');
      await pause(waitMs);
    }
  }
}

/**
 * The transport's fetch: names the agent and the chat user on every request, and waits as
 * long as a call may be parked (fetch's default gives up on response headers after five minutes).
 */
function gatewayFetch({ agentName, requesterHeader, callTimeoutMs }: GatewayToolsOptions): typeof fetch {
  const dispatcher = new Agent({ headersTimeout: callTimeoutMs, bodyTimeout: callTimeoutMs });
  return ((input: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    headers.set('user-agent', agentName);
    const caller = onBehalf.getStore();
    if (caller) headers.set(requesterHeader, caller.user);
    if (caller?.approval) headers.set(USER_APPROVAL_TOKEN_HEADER, caller.approval);
    return undiciFetch(input, { ...(init as object), headers: Object.fromEntries(headers), dispatcher });
  }) as unknown as typeof fetch;
}

/** What a refused call tells the model: the gate's own reason, exactly as it gave it. */
function denialText(err: unknown): string {
  if (err instanceof StreamableHTTPError) {
    const body = /\{.*\}$/s.exec(err.message)?.[0];
    try {
      const reason = JSON.parse(body ?? '').reason;
      if (typeof reason === 'string') return `denied (HTTP ${err.code}): ${reason}`;
    } catch {
      // not the gate's JSON: fall through to the transport's own words
    }
  }
  return (err as Error).message;
}
