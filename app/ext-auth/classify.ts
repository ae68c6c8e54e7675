/**
 * What the gate does with one request on a gated route. Pure: no I/O, no clock.
 *
 * Only frames positively recognised as harmless MCP protocol traffic pass without a human;
 * every tool call is parked; anything the gate cannot read with certainty is denied. The
 * lab's version let unparseable bodies through, so a batch, a cut body or a compressed body
 * reached the privileged server with nobody asked. Here doubt means deny.
 */
import type { ToolCall } from '../contracts/tool-call.js';
import { JsonError, parseStrictJson } from './strict-json.js';

export interface GatedRequest {
  method: string;
  /** Header names in lower case. */
  headers: Record<string, string>;
  /** The body as the gateway forwarded it, as bytes. */
  body: Uint8Array;
  /** The original body size the gateway reports; -1 when it cut the body. */
  size: number;
  /**
   * The gateway sent the body as text it decoded itself (agentgateway's `body`), where every
   * sequence it could not decode became U+FFFD; false when it sent the bytes (`raw_body`).
   */
  decodedByGateway?: boolean;
}

export type Verdict =
  | { action: 'pass'; reason: string }
  | { action: 'park'; rpcMethod: string; calls: ToolCall[]; batch: boolean }
  | { action: 'deny'; reason: string };

const HARMLESS = new Set(['initialize', 'ping']);
const isHarmless = (method: string) => HARMLESS.has(method) || /^notifications\/[a-z_/]+$/i.test(method) || /^[a-z]+(\/[a-z]+)*\/list$/i.test(method);

export function classify(request: GatedRequest): Verdict {
  switch (request.method.toUpperCase()) {
    case 'GET':
      return request.headers.accept?.includes('text/event-stream')
        ? { action: 'pass', reason: 'server-to-client event stream' }
        : deny('GET that is not an event stream');
    case 'DELETE':
      return request.headers['mcp-session-id'] ? { action: 'pass', reason: 'session end' } : deny('DELETE without a session id');
    case 'POST':
      return classifyPost(request);
    default:
      return deny(`HTTP method ${request.method} is not MCP traffic`);
  }
}

function classifyPost(request: GatedRequest): Verdict {
  const encoding = (request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding !== 'identity') return deny(`body is encoded (${encoding}); the gate reads only plain bodies`);
  if (request.size === -1) return deny('the gateway cut the body; it must be read whole');
  if (request.body.length !== request.size) {
    return deny(`body has ${request.body.length} bytes but the request had ${request.size}; it must be read whole`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(request.body);
  } catch {
    return deny('body is not valid UTF-8');
  }
  // A U+FFFD the gateway wrote stands for bytes nobody can see any more, and an invalid
  // sequence can be replaced by one of the same length, so the size check cannot tell. The
  // server would get those bytes, not what a reviewer read. A client that means the character
  // itself can send it escaped, \ufffd, which is plain ASCII.
  if (request.decodedByGateway && text.includes('\ufffd')) {
    return deny('body holds U+FFFD as decoded by the gateway, which stands for bytes that were not UTF-8; send the character escaped (\\ufffd)');
  }
  let message: unknown;
  try {
    message = parseStrictJson(text);
  } catch (err) {
    return deny(`body is not valid JSON: ${(err as JsonError).message}`);
  }
  if (Array.isArray(message)) return classifyBatch(message);
  if (isObject(message)) return classifyMessages([message], false);
  return deny('body is neither a JSON-RPC message nor a batch');
}

function classifyBatch(messages: unknown[]): Verdict {
  if (messages.length === 0) return deny('empty batch');
  if (!messages.every(isObject)) return deny('a batch element is not a JSON-RPC message');
  return classifyMessages(messages as Record<string, unknown>[], true);
}

function classifyMessages(messages: Record<string, unknown>[], batch: boolean): Verdict {
  const calls: ToolCall[] = [];
  for (const message of messages) {
    if (message.jsonrpc !== '2.0') return deny('not a JSON-RPC 2.0 message');
    // A client answering a server's request (sampling, elicitation, roots): it cannot call a tool.
    if (isResponse(message)) continue;
    const method = message.method;
    if (typeof method !== 'string') return deny('JSON-RPC message without a string method');
    if (method === 'tools/call') {
      const params = message.params;
      if (!isObject(params) || typeof params.name !== 'string' || (params.arguments !== undefined && !isObject(params.arguments))) {
        return deny('tools/call without a tool name and an arguments object');
      }
      calls.push({ rpcId: JSON.stringify(message.id ?? null), name: params.name, args: (params.arguments as Record<string, unknown>) ?? {} });
    } else if (!isHarmless(method)) {
      return deny(`method ${JSON.stringify(method)} is not known to be harmless`);
    }
  }
  if (calls.length === 0) return { action: 'pass', reason: `protocol traffic: ${messages.map((m) => m.method ?? 'response').join(', ')}` };
  // A reviewer's card is one decision about one call. MCP 2025-06-18 has no batches; a batch
  // is read only when it is one call, alone or with messages nothing answers (notifications,
  // responses), and then as that call.
  if (calls.length > 1) return deny(`a batch holds ${calls.length} tool calls; send each call alone so each gets its own decision`);
  if (messages.some((m) => m.method !== 'tools/call' && !isNotification(m) && !isResponse(m))) {
    return deny('a batch with a tool call may hold only notifications or responses beside it');
  }
  return { action: 'park', rpcMethod: 'tools/call', calls, batch };
}

/** A notification has a notifications/* method and no id: nothing answers it. */
function isNotification(message: Record<string, unknown>): boolean {
  return typeof message.method === 'string' && message.method.startsWith('notifications/') && !('id' in message);
}

const RESPONSE_KEYS = new Set(['jsonrpc', 'id', 'result', 'error']);

/** A JSON-RPC response: an id and exactly one of result or error, and nothing else (no method). */
function isResponse(message: Record<string, unknown>): boolean {
  const keys = Object.keys(message);
  const id = message.id;
  return (
    keys.every((key) => RESPONSE_KEYS.has(key)) &&
    (typeof id === 'string' || Number.isFinite(id)) &&
    ('result' in message) !== ('error' in message) &&
    (!('error' in message) || isObject(message.error))
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deny(reason: string): Verdict {
  return { action: 'deny', reason };
}
