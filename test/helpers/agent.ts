import type { AgentConfig } from '../../app/agent/command.js';

/** `hitl agent` as a test runs it in-process: the offline model, no identity or signing options unless given. */
export function agentConfig(gatewayUrl: string, dataDir: string, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    gatewayUrl,
    dataDir,
    databaseUrl: undefined,
    model: 'offline',
    publicUrl: undefined,
    requesterHeader: 'x-user-id',
    jwtJwks: undefined,
    jwtIssuer: undefined,
    jwtAudience: undefined,
    anonymousUser: undefined,
    auditToken: undefined,
    approvalKey: undefined,
    toolTimeout: 60_000,
    connectTimeout: 5_000,
    ...overrides,
  } as AgentConfig;
}
