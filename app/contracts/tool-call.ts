/**
 * The canonical form of one MCP tool call, and its hash: what an approval is bound to.
 *
 * The gate hashes the call it parked, the MCP server hashes the call it is about to run, and
 * the two must agree byte for byte, so both sides build the same text: the method, the tool's
 * name and its arguments, object keys sorted at every depth, no whitespace. Key order and
 * spacing are the caller's choice and change nothing a tool does, so they must not change the
 * hash either; any other difference (a value, a type, a nested key) does.
 */
import { createHash } from 'node:crypto';

export interface BoundCall {
  name: string;
  args: Record<string, unknown>;
}

/** JSON with object keys sorted at every depth; arrays keep their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

/** The text both sides hash: `tools/call`, the tool's name and its arguments. */
export function canonicalCall(call: BoundCall): string {
  return canonicalJson({ method: 'tools/call', name: call.name, arguments: call.args });
}

/** SHA-256 of the canonical call, as lower-case hex. */
export function callHash(call: BoundCall): string {
  return createHash('sha256').update(canonicalCall(call)).digest('hex');
}

/** One call of a parked request (a batch holds several), as the gate read it off the wire. */
export interface ToolCall extends BoundCall {
  /** JSON-RPC id of the call, as text. */
  rpcId: string;
}
