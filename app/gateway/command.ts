import { defineCommand } from '../shared/command.js';
import { listen, withOps } from '../shared/http.js';
import { ExtAuthClient } from './ext-auth-client.js';
import { gatewayApp } from './proxy.js';
import { gatewayFlags } from './flags.js';

export const gatewayCommand = defineCommand({
  name: 'gateway',
  summary: 'local stand-in for agentgateway: routes to the MCP server, gated prefixes ask ext-auth (not for production)',
  flags: gatewayFlags,
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
