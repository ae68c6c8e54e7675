/**
 * The words and the wire of a refusal. A refused tools/call is answered, by default, as the
 * call's own JSON-RPC response with HTTP 200 and a tool-error result (app/contracts/denial.ts),
 * so the model reads who decided what and why. `--deny-as http` keeps the older 403/429 with a
 * JSON body, which MCP clients surface as a transport error.
 */
import { toolErrorResult, type GateDetails } from '../contracts/denial.js';
import { formatDuration } from '../shared/flags.js';

export type DenyAs = 'jsonrpc' | 'http';

export interface DeniedHttp {
  httpStatus: number;
  contentType: string;
  body: string;
}

/** One sentence or two a person (or a model) can act on, the reviewer's reason verbatim. */
export function refusalText(details: GateDetails): string {
  const at = `${details.gate} gate`;
  switch (details.status) {
    case 'rejected':
      return `Rejected by ${details.reviewers.join(', ') || 'a reviewer'} (${at}): ${details.reason ? JSON.stringify(details.reason) : 'no reason given'}`;
    case 'timed_out':
      return `Not approved (${at}): ${details.reason ?? 'nobody decided in time'}; the call did not run`;
    case 'abandoned':
      return `Not approved (${at}): ${details.reason ?? 'the call ended before a decision'}; the call did not run`;
    case 'flood_denied':
      return `Refused by the ${at}: ${details.reason}`;
    case 'waiting':
      return (
        `Waiting for a platform reviewer (${at}, request ${details.requestId}, open until ${details.expiresAt}). ` +
        `The call has not run. Make the same call again after it is approved and it will run once` +
        (details.grantTtlSeconds ? `, within ${formatDuration(details.grantTtlSeconds * 1000)} of the approval.` : '.')
      );
  }
}

/**
 * The denied response for a refused call. `rpcBody` is the request as the gate read it (a
 * parked body is valid JSON-RPC); every request in it gets its answer with its own id:
 * a tool error for a tools/call, a JSON-RPC error for anything else beside it in a batch.
 */
export function deniedResponse(details: GateDetails, rpcBody: string, denyAs: DenyAs): DeniedHttp {
  const text = refusalText(details);
  if (denyAs === 'jsonrpc') {
    const answers = answersFor(rpcBody, text, details);
    if (answers) return { httpStatus: 200, contentType: 'application/json', body: JSON.stringify(answers) };
  }
  return {
    httpStatus: details.status === 'flood_denied' ? 429 : 403,
    contentType: 'application/json',
    body: JSON.stringify({ approved: false, status: details.status, reason: httpReason(details, text), id: details.requestId }),
  };
}

/** The 403 body's reason: the decision's own words, as it always was; the full sentence when there are none. */
function httpReason(details: GateDetails, text: string): string {
  return details.status === 'waiting' || details.reason === null ? text : details.reason;
}

function answersFor(rpcBody: string, text: string, details: GateDetails): object | object[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(rpcBody);
  } catch {
    return undefined;
  }
  const batch = Array.isArray(parsed);
  const messages = (batch ? parsed : [parsed]) as Record<string, unknown>[];
  const answers = messages
    .filter((m) => m !== null && typeof m === 'object' && typeof m.method === 'string' && 'id' in m)
    .map((m) =>
      m.method === 'tools/call'
        ? { jsonrpc: '2.0', id: m.id, result: toolErrorResult(text, details) }
        : { jsonrpc: '2.0', id: m.id, error: { code: -32001, message: text } },
    );
  if (answers.length === 0) return undefined;
  return batch ? answers : answers[0];
}
