import type { ExtAuthConfig, RunningExtAuth } from '../../app/ext-auth/command.js';
import { ExtAuthClient } from '../../app/gateway/ext-auth-client.js';
import { gatewayApp } from '../../app/gateway/proxy.js';
import { listen, withOps, type Listening } from '../../app/shared/http.js';
import { createLogger } from '../../app/shared/log.js';
import { extAuthConfig, startGate } from './ext-auth.js';
import { startMcp, type McpUnderTest } from './mcp.js';
import { tempDir } from './temp.js';
import { readVerifyKey } from '../../app/contracts/approval-token.js';
import { writeApprovalKeys } from './keys.js';

export interface Stack {
  mcp: McpUnderTest;
  ext: RunningExtAuth;
  gatewayUrl: string;
  close(): Promise<void>;
}

/**
 * MCP server, ext-auth and the gateway in this process, each on its own loopback port, with
 * one approval key pair: ext-auth signs, the MCP server verifies.
 */
export async function startStack(options: { maxBody?: number; context?: Record<string, string>; extAuth?: Partial<ExtAuthConfig> } = {}): Promise<Stack> {
  const dir = tempDir('stack');
  const keys = writeApprovalKeys(dir.path);
  const mcp = await startMcp({ dataDir: `${dir.path}/mcp`, approvalKeys: { platform: readVerifyKey(keys.publicKey) } });
  const ext = await startGate(extAuthConfig(dir.path, { approvalKey: keys.privateKey, ...options.extAuth }));
  const gateway = await startGateway(mcp.url, `127.0.0.1:${ext.grpcPort}`, options);
  return {
    mcp,
    ext,
    gatewayUrl: gateway.url,
    async close() {
      await gateway.close();
      await ext.close();
      await mcp.close();
      dir.remove();
    },
  };
}

export async function startGateway(upstream: string, extAuthTarget: string, options: { maxBody?: number; context?: Record<string, string> } = {}): Promise<Listening> {
  const log = createLogger('gateway', 'silent');
  const extAuth = new ExtAuthClient(extAuthTarget);
  const app = gatewayApp({ upstream, gates: ['/privileged'], maxBody: options.maxBody ?? 65536, context: options.context ?? {}, extAuth, log });
  const server = await listen(withOps(app, { log, ready: async () => true }), 0, '127.0.0.1');
  return {
    ...server,
    async close() {
      await server.close();
      extAuth.close();
    },
  };
}
