/** `hitl gateway`'s flags: read by the command, `hitl dev` and the tests. No dependencies, so any of them may import it. */
import { DEFAULT_PORTS, localUrl } from '../contracts/ports.js';
import { hostPort, int, listeningPort, text, url, type FlagSpec } from '../shared/flags.js';

function keyValue(raw: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new Error('is not KEY=VALUE');
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

export const gatewayFlags = {
  port: listeningPort('http', 'HTTP port', DEFAULT_PORTS.gateway),
  upstream: { help: 'base URL of the MCP server', default: localUrl(DEFAULT_PORTS.mcp), parse: url(), metavar: 'URL' },
  extAuth: { help: 'host:port of the ext-auth gRPC server', default: `127.0.0.1:${DEFAULT_PORTS.extAuthGrpc}`, parse: hostPort, metavar: 'HOST:PORT' },
  gate: { help: 'path prefix that needs ext-auth', repeatable: true, default: ['/privileged'], parse: text, metavar: 'PREFIX' },
  maxBody: { help: 'largest body forwarded to ext-auth; a longer one is cut to this and sent with size -1, as agentgateway does', default: 65536, parse: int({ min: 1, max: 16 * 1024 * 1024 }), metavar: 'BYTES' },
  context: { help: 'context_extensions entry sent with every Check', repeatable: true, parse: keyValue, metavar: 'KEY=VALUE', toArg: ([key, value]: [string, string]) => `${key}=${value}` },
} satisfies FlagSpec;
