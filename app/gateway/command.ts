import { defineCommand } from '../shared/command.js';
import { hostPort, int, port, text, url } from '../shared/flags.js';
import { listen, withOps } from '../shared/http.js';
import { ExtAuthClient } from './ext-auth-client.js';
import { gatewayApp } from './proxy.js';

function keyValue(raw: string): [string, string] {
  const eq = raw.indexOf('=');
  if (eq <= 0) throw new Error('is not KEY=VALUE');
  return [raw.slice(0, eq), raw.slice(eq + 1)];
}

export const gatewayCommand = defineCommand({
  name: 'gateway',
  summary: 'local stand-in for agentgateway: routes to the MCP server, gated prefixes ask ext-auth (not for production)',
  flags: {
    port: { help: 'HTTP port', default: 8000, parse: port, metavar: 'PORT' },
    upstream: { help: 'base URL of the MCP server', default: 'http://127.0.0.1:8080', parse: url(), metavar: 'URL' },
    extAuth: { help: 'host:port of the ext-auth gRPC server', default: '127.0.0.1:9001', parse: hostPort, metavar: 'HOST:PORT' },
    gate: { help: 'path prefix that needs ext-auth', repeatable: true, default: ['/privileged'], parse: text, metavar: 'PREFIX' },
    maxBody: { help: 'largest body forwarded to ext-auth; a longer one is cut to this and sent with size -1, as agentgateway does', default: 65536, parse: int({ min: 1, max: 16 * 1024 * 1024 }), metavar: 'BYTES' },
    context: { help: 'context_extensions entry sent with every Check', repeatable: true, parse: keyValue, metavar: 'KEY=VALUE' },
  },
  async run(config, log) {
    const extAuth = new ExtAuthClient(config.extAuth);
    const app = gatewayApp({
      upstream: config.upstream,
      gates: config.gate,
      maxBody: config.maxBody,
      context: Object.fromEntries(config.context),
      extAuth,
      log,
    });
    const server = await listen(withOps(app, { log, ready: async () => (await fetch(`${config.upstream}/readyz`).catch(() => null))?.ok ?? false }), config.port, config.host);
    log.info({ url: server.url, upstream: config.upstream, gates: config.gate }, 'gateway listening');
    return {
      async close() {
        await server.close();
        extAuth.close();
      },
    };
  },
});
