/** `hitl dev`'s flags. No dependencies, so any module may import it. */
import { DEFAULT_PORTS } from '../contracts/ports.js';
import { bool, port, text, type FlagSpec } from '../shared/flags.js';

export const devFlags = {
  dataDir: { help: 'where every service keeps its data', default: '.hitl', parse: text, metavar: 'DIR' },
  reset: { help: 'delete the data directory first and start fresh', default: false, parse: bool, metavar: '' },
  mcpPort: { help: 'port of the MCP server', default: DEFAULT_PORTS.mcp, parse: port, metavar: 'PORT' },
  gatewayPort: { help: 'port of the stand-in gateway', default: DEFAULT_PORTS.gateway, parse: port, metavar: 'PORT' },
  grpcPort: { help: 'gRPC port of ext-auth', default: DEFAULT_PORTS.extAuthGrpc, parse: port, metavar: 'PORT' },
  adminPort: { help: 'port of the ext-auth admin API', default: DEFAULT_PORTS.extAuthAdmin, parse: port, metavar: 'PORT' },
  uiPort: { help: 'port of the reviewer queue', default: DEFAULT_PORTS.ui, parse: port, metavar: 'PORT' },
  agentPort: { help: 'port of the agent and its chat page', default: DEFAULT_PORTS.agent, parse: port, metavar: 'PORT' },
} satisfies FlagSpec;
