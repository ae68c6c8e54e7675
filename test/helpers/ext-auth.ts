import * as grpc from '@grpc/grpc-js';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GATE_META_KEY, type GateDetails } from '../../app/contracts/denial.js';
import { startExtAuth, type ExtAuthConfig, type RunningExtAuth } from '../../app/ext-auth/command.js';
import { extAuthFlags } from '../../app/ext-auth/flags.js';
import { configWith } from '../../app/shared/invocation.js';
import type { QueueChange } from '../../app/contracts/admin-api.js';
import type { Gate } from '../../app/ext-auth/gate.js';
import { authorizationService } from '../../app/contracts/ext-authz.js';
import { tokenSha256Hex } from '../../app/contracts/reviewer-tokens.js';
import { createLogger, type Logger } from '../../app/shared/log.js';
import { seedEmbeddedDataDir } from './embedded-db.js';

/** Reviewers and their tokens; alice also asks for changes, dave is not a platform reviewer. */
export const TOKENS = { alice: 'token-alice', bob: 'token-bob', carol: 'token-carol', dave: 'token-dave' } as const;
export type Who = keyof typeof TOKENS;

export function writeTokensFile(dir: string): string {
  const path = join(dir, 'tokens.json');
  const entries = Object.entries(TOKENS).map(([name, token]) => ({
    name,
    groups: name === 'dave' ? ['developers'] : ['platform'],
    sha256: tokenSha256Hex(token),
  }));
  writeFileSync(path, JSON.stringify(entries));
  return path;
}

/** `hitl ext-auth` as a test runs it in-process: the defaults, on free ports, reviewers from TOKENS, calls held as long as they wait. */
export function extAuthConfig(dir: string, overrides: Partial<ExtAuthConfig> = {}): ExtAuthConfig {
  return configWith(extAuthFlags, {
    grpcPort: 0,
    adminPort: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    dataDir: join(dir, 'ext-auth'),
    hold: 600_000,
    tokensFile: writeTokensFile(dir),
    ...overrides,
  });
}

/** `hitl ext-auth` in-process; a new embedded store starts from a copy of an empty one rather than being created. */
export async function startGate(config: ExtAuthConfig, log: Logger = createLogger('ext-auth', 'silent')): Promise<RunningExtAuth> {
  if (!config.databaseUrl && !existsSync(config.dataDir)) await seedEmbeddedDataDir(config.dataDir);
  return startExtAuth(config, log);
}

export interface CheckOptions {
  /** The request id; agentgateway sends the W3C traceparent of its span. */
  id?: string;
  method?: string;
  /** The body as agentgateway forwards it: a string, invalid UTF-8 already replaced by U+FFFD. */
  body?: string;
  headers?: Record<string, string>;
  /** The original body's size; defaults to the body's UTF-8 length. */
  size?: number;
  context?: Record<string, string>;
  path?: string;
}

export const CHECK_TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A Check as agentgateway v1.4.1 sends it: the body in the `body` string, never in `raw_body`. */
export function checkRequest(options: CheckOptions = {}) {
  const body = options.body ?? '';
  return {
    attributes: {
      request: {
        http: {
          id: options.id ?? CHECK_TRACEPARENT,
          method: options.method ?? 'POST',
          path: options.path ?? '/privileged/mcp',
          host: 'gateway',
          headers: { 'content-type': 'application/json', 'x-user-id': 'alice', authorization: 'Bearer agent-secret', ...options.headers },
          size: options.size ?? Buffer.byteLength(body, 'utf8'),
          body,
        },
      },
      context_extensions: options.context ?? {},
    },
  };
}

/** A Check from a gateway that packs the body as bytes (`raw_body`), as Envoy does with pack_as_bytes. */
export function checkRequestPackedAsBytes(bytes: Buffer, options: Omit<CheckOptions, 'body'> = {}) {
  const request = checkRequest({ ...options, size: options.size ?? bytes.length });
  const { body: _sentAsBytesInstead, ...http } = request.attributes.request.http;
  return { attributes: { ...request.attributes, request: { http: { ...http, raw_body: bytes } } } };
}

export const toolCall = (name: string, args: Record<string, unknown>, id: number | string = 1) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

export interface CheckResult {
  code: number;
  headers: Record<string, string>;
  /** An allowed call's headers_to_remove. */
  removeHeaders: string[];
  httpStatus?: number;
  contentType?: string;
  body?: any;
  /** A refused tools/call answered in its own terms: the tool error's text and the gate's details. */
  toolError?: { id: unknown; text: string; details: GateDetails };
}

function toolErrorOf(body: any): CheckResult['toolError'] {
  const result = body?.result;
  if (body?.jsonrpc !== '2.0' || result?.isError !== true) return undefined;
  return { id: body.id, text: result.content[0].text, details: result._meta[GATE_META_KEY] };
}

export function grpcClient(port: number) {
  const Authorization = authorizationService();
  const client = new Authorization(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as any;
  return {
    /** Sends one Check; `cancel` hangs up like a gateway whose client went away. */
    check(request: object): { result: Promise<CheckResult>; cancel(): void } {
      let call: grpc.ClientUnaryCall;
      const result = new Promise<CheckResult>((resolve, reject) => {
        call = client.Check(request, (err: grpc.ServiceError | null, response: any) => {
          if (err) return reject(err);
          const headers: Record<string, string> = {};
          for (const h of response.ok_response?.headers ?? []) headers[h.header.key] = h.header.value;
          const denied = response.denied_response;
          const body = denied?.body ? JSON.parse(denied.body) : undefined;
          resolve({
            code: response.status.code,
            headers,
            removeHeaders: response.ok_response?.headers_to_remove ?? [],
            httpStatus: denied?.status?.code,
            contentType: denied?.headers?.find((h: any) => h.header.key === 'content-type')?.header.value,
            body,
            toolError: toolErrorOf(body),
          });
        });
      });
      return { result, cancel: () => call.cancel() };
    },
    close: () => client.close(),
  };
}

/** Resolves on the next queue change matching `predicate`. */
export function nextChange(gate: Gate, predicate: (c: QueueChange) => boolean = () => true): Promise<QueueChange> {
  return new Promise((resolve) => {
    const listener = (change: QueueChange) => {
      if (!predicate(change)) return;
      gate.off('change', listener);
      resolve(change);
    };
    gate.on('change', listener);
  });
}

export function admin(baseUrl: string, who?: Who) {
  const auth: Record<string, string> = who ? { authorization: `Bearer ${TOKENS[who]}` } : {};
  return {
    get: (path: string) => fetch(`${baseUrl}${path}`, { headers: auth }),
    decide: (id: string, approved: boolean, reason = '') =>
      fetch(`${baseUrl}/decide/${id}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ approved, reason }) }),
  };
}
