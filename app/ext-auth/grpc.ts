/**
 * The gRPC face of the gate: envoy.service.auth.v3.Authorization/Check, as agentgateway
 * calls it. No deadline is set by the gateway, so a Check may stay open for as long as a
 * human needs; if the gateway cancels, the request is abandoned.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../shared/log.js';
import { unreadableDenial, type CheckAnswer, type CheckInput, type Gate } from './gate.js';
import type { Caller } from './held-call.js';
import type { GateMetrics } from './metrics.js';
import { authorizationService } from '../contracts/ext-authz.js';
import { validTraceparent } from '../contracts/traceparent.js';

export interface GrpcServer {
  port: number;
  close(): Promise<void>;
}

/** A Check's gRPC call as the gate's caller: gone when the gateway cancels it. */
class GatewayCall implements Caller {
  private listener: (() => void) | null = null;

  constructor(private readonly call: grpc.ServerUnaryCall<unknown, unknown>) {}

  get gone(): boolean {
    return this.call.cancelled;
  }

  /**
   * grpc-js says "cancelled" whenever a call's stream closes, answered or not; the gate stops
   * listening before it answers, so only a caller leaving first is heard.
   */
  onGone(listener: (() => void) | null): void {
    if (this.listener) this.call.off('cancelled', this.listener);
    this.listener = listener;
    if (listener) this.call.on('cancelled', listener);
  }
}

export async function serveGrpc(gate: Gate, metrics: GateMetrics, log: Logger, port: number, host: string): Promise<GrpcServer> {
  const server = new grpc.Server({ 'grpc.keepalive_permit_without_calls': 1 });
  server.addService(authorizationService().service, {
    Check: (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      const started = performance.now();
      const input = toCheckInput(call.request);
      // A parked call stays open for minutes, and grpc-js keeps the decoded message and the
      // metadata it arrived with until the call ends: emptied here, they hold nothing of the call.
      for (const field of Object.keys(call.request)) delete call.request[field];
      for (const key of Object.keys(call.metadata.getMap())) call.metadata.remove(key);
      gate
        .check(input, new GatewayCall(call))
        .then((answer) => {
          if (!answer.allowed || Object.keys(answer.headers).length === 0) {
            metrics.checkLatency.observe({ verdict: answer.allowed ? 'pass' : 'deny' }, (performance.now() - started) / 1000);
          }
          callback(null, toCheckResponse(answer));
        })
        .catch((err) => {
          // Fail closed: a gate that cannot decide denies, and says why.
          log.error({ err }, 'check failed');
          callback(null, toCheckResponse(unreadableDenial(`approval gate unavailable: ${(err as Error).message}`, 'unavailable')));
        });
    },
  });
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port: bound,
    close: () =>
      new Promise((resolve) => {
        // Parked calls cannot finish on their own; after the grace period they are cut and
        // the gateway fails them closed.
        const force = setTimeout(() => server.forceShutdown(), 5000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}

function toCheckInput(request: any): CheckInput {
  const http = request.attributes?.request?.http ?? {};
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(http.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const raw: Buffer = http.raw_body?.length ? http.raw_body : Buffer.from(http.body ?? '', 'utf8');
  const metadata: Record<string, string | null> = {};
  for (const [namespace, struct] of Object.entries<any>(request.attributes?.metadata_context?.filter_metadata ?? {})) {
    for (const [key, value] of Object.entries<any>(struct?.fields ?? {})) {
      // A value of another type is kept as null: present, but not a name.
      metadata[`${namespace}.${key}`] = typeof value?.string_value === 'string' && value.kind === 'string_value' ? value.string_value : null;
    }
  }
  return {
    method: http.method || headers[':method'] || '',
    path: http.path || headers[':path'] || '',
    headers,
    body: raw,
    size: Number(http.size ?? -1),
    decodedByGateway: !http.raw_body?.length,
    contextExtensions: request.attributes?.context_extensions ?? {},
    metadata,
    traceparent: validTraceparent(http.id),
  };
}

const PERMISSION_DENIED = 7;
const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

function toCheckResponse(answer: CheckAnswer): any {
  if (answer.allowed) {
    return {
      status: { code: 0, message: '' },
      ok_response: {
        headers: Object.entries(answer.headers).map(([key, value]) => ({ header: { key, value } })),
        headers_to_remove: answer.removeHeaders ?? [],
      },
    };
  }
  const code = { denied: PERMISSION_DENIED, exhausted: RESOURCE_EXHAUSTED, unavailable: UNAVAILABLE }[answer.kind];
  const { httpStatus, contentType, body } = answer.response;
  return {
    status: { code, message: answer.reason },
    denied_response: { status: { code: httpStatus }, headers: [{ header: { key: 'content-type', value: contentType } }], body },
  };
}
