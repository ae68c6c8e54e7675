import type { ExtAuthConfig, RunningExtAuth } from '../../app/ext-auth/command.js';
import { createLogger } from '../../app/shared/log.js';
import { startUi, type UiConfig } from '../../app/ui/command.js';
import type { McpUnderTest } from './mcp.js';
import { startStack } from './stack.js';

export interface UiStack {
  mcp: McpUnderTest;
  ext: RunningExtAuth;
  uiUrl: string;
  close(): Promise<void>;
}

export function uiConfig(extAuthUrl: string, mcpUrl: string, overrides: Partial<UiConfig> = {}): UiConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    extAuthUrl,
    mcpUrl,
    publicUrl: undefined,
    sessionSecret: 'test-session-secret',
    sessionTtl: 3_600_000,
    sessionIdle: 1_800_000,
    identityHeader: undefined,
    groupsHeader: 'x-forwarded-groups',
    notifyUrl: undefined,
    notifySecret: undefined,
    notifyToken: undefined,
    slackChannel: undefined,
    slackBotTokenFile: undefined,
    slackSigningSecretFile: undefined,
    slackBridgeTokenFile: undefined,
    slackApiUrl: 'https://slack.com/api/',
    ...overrides,
  } as UiConfig;
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
