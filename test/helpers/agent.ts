import { agentFlags } from '../../app/agent/flags.js';
import type { AgentConfig } from '../../app/agent/command.js';
import { configWith } from '../../app/shared/invocation.js';

/** `hitl agent` as a test runs it in-process: the defaults, on a free port, with the offline model and short waits. */
export function agentConfig(gatewayUrl: string, dataDir: string, overrides: Partial<AgentConfig> = {}): AgentConfig {
  return configWith(agentFlags, {
    port: 0,
    host: '127.0.0.1',
    logLevel: 'silent',
    gatewayUrl,
    dataDir,
    model: 'offline',
    toolTimeout: 60_000,
    connectTimeout: 5_000,
    ...overrides,
  });
}
