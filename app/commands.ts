import { agentCommand, agentVerifyAuditCommand } from './agent/command.js';
import { devCommand } from './dev/command.js';
import { extAuthCommand, verifyAuditCommand } from './ext-auth/command.js';
import { gatewayCommand } from './gateway/command.js';
import { mcpCommand } from './mcp/command.js';
import { reviewCommands } from './review/command.js';
import type { Subcommand } from './shared/command.js';
import { uiCommand } from './ui/command.js';

/** Every `hitl` subcommand, in the order `hitl --help` lists them. */
export const commands: Subcommand<any>[] = [mcpCommand, extAuthCommand, verifyAuditCommand, gatewayCommand, uiCommand, ...reviewCommands, agentCommand, agentVerifyAuditCommand, devCommand];
