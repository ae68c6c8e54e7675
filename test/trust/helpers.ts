import { request } from 'node:http';
import { join } from 'node:path';
import { extAuthFlags } from '../../app/ext-auth/flags.js';
import { gatewayFlags } from '../../app/gateway/flags.js';
import { mcpFlags } from '../../app/mcp/flags.js';
import { commonFlags } from '../../app/shared/flags.js';
import { argv } from '../../app/shared/invocation.js';
import { writeTokensFile } from '../helpers/ext-auth.js';
import { writeApprovalKeys } from '../helpers/keys.js';
import { startBinary, type Running } from '../helpers/process.js';
import { tempDir } from '../helpers/temp.js';

export interface BinaryStack {
  dir: string;
  keys: { privateKey: string; publicKey: string };
  mcp: { url: string; process: Running };
  ext: { adminUrl: string; grpcPort: number; process: Running };
  gateway: { url: string; process: Running };
  close(): Promise<void>;
}

const LOCAL = argv(commonFlags, { host: '127.0.0.1' });

/** `hitl mcp`, `hitl ext-auth` and `hitl gateway` as real processes, wired as `hitl dev` wires them. */
export async function startBinaryStack(extAuthArgs: string[] = []): Promise<BinaryStack> {
  const dir = tempDir('trust');
  const keys = writeApprovalKeys(dir.path);
  const mcpProcess = startBinary(['mcp', ...LOCAL, ...argv(mcpFlags, { port: 0, dataDir: join(dir.path, 'mcp'), approvalVerifyKey: keys.publicKey })]);
  const extProcess = startBinary([
    'ext-auth',
    ...LOCAL,
    ...argv(extAuthFlags, { grpcPort: 0, adminPort: 0, dataDir: join(dir.path, 'ext-auth'), tokensFile: writeTokensFile(dir.path), approvalKey: keys.privateKey }),
    ...extAuthArgs,
  ]);
  const mcp = (await mcpProcess.waitForLog((l) => l.msg === 'mcp listening')) as { url: string };
  const ext = (await extProcess.waitForLog((l) => l.msg === 'ext-auth listening')) as { url: string; grpcPort: number };
  const gatewayProcess = startBinary(['gateway', ...LOCAL, ...argv(gatewayFlags, { port: 0, upstream: mcp.url, extAuth: `127.0.0.1:${ext.grpcPort}`, context: [['gate', 'platform']] })]);
  const gateway = (await gatewayProcess.waitForLog((l) => l.msg === 'gateway listening')) as { url: string };
  return {
    dir: dir.path,
    keys,
    mcp: { url: mcp.url, process: mcpProcess },
    ext: { adminUrl: ext.url, grpcPort: ext.grpcPort, process: extProcess },
    gateway: { url: gateway.url, process: gatewayProcess },
    async close() {
      await gatewayProcess.stop();
      await extProcess.stop();
      await mcpProcess.stop();
      dir.remove();
    },
  };
}

export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

export const rpcCall = (name: string, args: Record<string, unknown>, id: number | string = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});

/**
 * One HTTP request with the target written exactly as given (fetch would resolve dot segments
 * first), and headers that may repeat.
 */
export function rawRequest(
  baseUrl: string,
  target: string,
  options: { method?: string; headers?: [string, string][]; body?: string } = {},
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method: options.method ?? 'POST', path: target, setHost: false }, (res) => {
      let body = '';
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.setHeader('host', `${hostname}:${port}`);
    const headers = new Map<string, string[]>();
    for (const [name, value] of [...Object.entries(MCP_HEADERS), ...(options.headers ?? [])]) headers.set(name, [...(headers.get(name) ?? []), value]);
    for (const [name, values] of headers) req.setHeader(name, values.length === 1 ? values[0] : values);
    req.end(options.body ?? '');
  });
}

/** The reviewers' admin API of the stack's ext-auth, as one reviewer. */
export function reviewer(stack: BinaryStack, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  return {
    pending: async () => (await (await fetch(`${stack.ext.adminUrl}/pending`, { headers: auth })).json()).pending as any[],
    decide: (id: string, body: string) => fetch(`${stack.ext.adminUrl}/decide/${id}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body }),
    get: (path: string) => fetch(`${stack.ext.adminUrl}${path}`, { headers: auth }),
  };
}

/** Resolves with the first pending request `match` accepts, waiting on the admin API's event stream. */
export async function nextPending(stack: BinaryStack, token: string, match: (request: any) => boolean = () => true): Promise<any> {
  const events = await fetch(`${stack.ext.adminUrl}/events`, { headers: { authorization: `Bearer ${token}` } });
  const reader = events.body!.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const found = (await reviewer(stack, token).pending()).find(match);
      if (found) return found;
      // Wait for the next queue change, then look again.
      const { done, value } = await reader.read();
      if (done) throw new Error('event stream ended');
      decoder.decode(value);
    }
  } finally {
    await reader.cancel();
  }
}

export async function mcpState(stack: BinaryStack): Promise<any> {
  return (await fetch(`${stack.mcp.url}/state`)).json();
}
