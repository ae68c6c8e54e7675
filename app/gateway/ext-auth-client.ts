import * as grpc from '@grpc/grpc-js';
import { authorizationService } from '../contracts/ext-authz.js';

export type AuthDecision =
  | { allowed: true; headers: [string, string][]; removeHeaders: string[] }
  | { allowed: false; status: number; headers: [string, string][]; body: string };

export interface CheckAttributes {
  /** The request id: a W3C traceparent, as agentgateway sends it. */
  id: string;
  method: string;
  path: string;
  host: string;
  scheme: string;
  headers: Record<string, string>;
  /** The body's bytes as buffered; sent as agentgateway sends them (see check()). */
  body: Buffer;
  /** The original body's size, or -1 when `body` was cut. */
  size: number;
  contextExtensions: Record<string, string>;
}

/**
 * Calls Check the way agentgateway v1.4.1 does: no deadline, cancelled if the client leaves,
 * and the body in the `body` string field, decoded lossily (bytes that are not UTF-8 arrive as
 * U+FFFD), never in `raw_body`: its controller does not pack the body as bytes.
 */
export class ExtAuthClient {
  private readonly client: grpc.Client & { Check: Function };

  constructor(target: string) {
    const Authorization = authorizationService();
    this.client = new Authorization(target, grpc.credentials.createInsecure()) as any;
  }

  check(attributes: CheckAttributes, abort: AbortSignal): Promise<AuthDecision> {
    const request = {
      attributes: {
        request: {
          http: {
            id: attributes.id,
            method: attributes.method,
            path: attributes.path,
            host: attributes.host,
            scheme: attributes.scheme,
            protocol: 'HTTP/1.1',
            headers: attributes.headers,
            size: attributes.size,
            body: attributes.body.toString('utf8'),
          },
        },
        context_extensions: attributes.contextExtensions,
      },
    };
    return new Promise((resolve, reject) => {
      const call = this.client.Check(request, (err: grpc.ServiceError | null, response: any) => {
        abort.removeEventListener('abort', hangUp);
        if (err) return reject(err);
        const pairs = (list: any[] = []) => list.map((h) => [h.header.key, h.header.value] as [string, string]);
        if (response.status?.code === 0) {
          return resolve({ allowed: true, headers: pairs(response.ok_response?.headers), removeHeaders: response.ok_response?.headers_to_remove ?? [] });
        }
        const denied = response.denied_response;
        resolve({ allowed: false, status: denied?.status?.code || 403, headers: pairs(denied?.headers), body: denied?.body ?? '' });
      });
      const hangUp = () => call.cancel();
      abort.addEventListener('abort', hangUp, { once: true });
    });
  }

  close(): void {
    this.client.close();
  }
}
