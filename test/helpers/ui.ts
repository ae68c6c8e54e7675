import type { ExtAuthConfig, RunningExtAuth } from '../../app/ext-auth/command.js';
import { createLogger } from '../../app/shared/log.js';
import { configWith } from '../../app/shared/invocation.js';
import { startUi, type UiConfig } from '../../app/ui/command.js';
import { uiFlags } from '../../app/ui/flags.js';
import type { McpUnderTest } from './mcp.js';
import { startStack } from './stack.js';

export interface UiStack {
  mcp: McpUnderTest;
  ext: RunningExtAuth;
  uiUrl: string;
  close(): Promise<void>;
}

/** `hitl ui` as a test runs it in-process: the defaults, on a free port, with a fixed session secret. */
export function uiConfig(extAuthUrl: string, mcpUrl: string, overrides: Partial<UiConfig> = {}): UiConfig {
  return configWith(uiFlags, {
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    extAuthUrl,
    mcpUrl,
    sessionSecret: 'test-session-secret',
    sessionTtl: 3_600_000,
    ...overrides,
  });
}

/** The MCP server, ext-auth (and the gateway) as startStack makes them, and `hitl ui` in this process. */
export async function startUiStack(overrides: Partial<UiConfig> = {}, extAuth: Partial<ExtAuthConfig> = {}): Promise<UiStack> {
  const stack = await startStack({ extAuth });
  const ui = await startUi(uiConfig(stack.ext.adminUrl, stack.mcp.url, overrides), createLogger('ui', 'silent')).catch(async (err) => {
    await stack.close();
    throw err;
  });
  return {
    mcp: stack.mcp,
    ext: stack.ext,
    uiUrl: ui.url,
    async close() {
      await ui.close();
      await stack.close();
    },
  };
}
