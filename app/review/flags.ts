/** `hitl review`'s flags, one spec per subcommand: read by the commands and the tests. No dependencies, so any of them may import it. */
import { DEFAULT_PORTS, localUrl } from '../contracts/ports.js';
import { bool, text, url, type FlagSpec } from '../shared/flags.js';

/** How every review subcommand reaches the admin API, as whom, and how it answers. */
export const reviewConnectionFlags = {
  adminUrl: { help: 'the ext-auth admin API', default: localUrl(DEFAULT_PORTS.extAuthAdmin), parse: url(), metavar: 'URL' },
  tokenFile: { help: 'file holding your reviewer token (or put the token itself in HITL_TOKEN)', parse: text, metavar: 'FILE' },
  json: { help: 'print JSON for scripts instead of text', default: false, parse: bool, metavar: '' },
} satisfies FlagSpec;

export const reviewShowFlags = {
  ...reviewConnectionFlags,
  mcpUrl: { help: 'the MCP server, for the SQL a migration would run', default: localUrl(DEFAULT_PORTS.mcp), parse: url(), metavar: 'URL' },
} satisfies FlagSpec;

export const reviewApproveFlags = {
  ...reviewConnectionFlags,
  reason: { help: 'why, recorded in the audit', default: '', parse: (raw: string) => raw, metavar: 'TEXT' },
} satisfies FlagSpec;

// A rejection must say why: the agent is shown the reason.
export const reviewRejectFlags = {
  ...reviewConnectionFlags,
  reason: { help: 'why, recorded in the audit and shown to the agent', required: true, parse: text, metavar: 'TEXT' },
} satisfies FlagSpec;
