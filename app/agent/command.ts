import { readExport, reportChain, type ChainedEntry } from '../shared/audit-chain.js';
import { defineCommand } from '../shared/command.js';
import { ConfigError, type FlagValues } from '../shared/flags.js';
import { listen, withOps } from '../shared/http.js';
import type { Logger } from '../shared/log.js';
import { openDatabase } from '../shared/sql.js';
import { a2aApp, AGENT_NAME, agentCard, ApprovalGuard } from './a2a-server.js';
import { auditExportApp } from './audit-export.js';
import { CallerIdentity } from './caller-identity.js';
import { chatApp } from './chat-page.js';
import { DurableCheckpointer } from './checkpoints.js';
import { DecisionAudit } from './decision-audit.js';
import { AssistantExecutor } from './executor.js';
import { GatewayTools } from './gateway-tools.js';
import { buildGraph } from './graph.js';
import { chooseModel } from './model.js';
import { createAgentTables } from './schema.js';
import { SqlTaskStore } from './task-store.js';
import { UserApprovalSigner } from './user-approval.js';
import { keyFromFlag } from '../shared/key-flags.js';
import { agentFlags, agentVerifyAuditFlags } from './flags.js';

export const agentCommand = defineCommand({
  name: 'agent',
  summary: 'the BYO LangGraph DBA assistant over A2A, pausing in the chat before user-tier tools',
  flags: agentFlags,
  async run(config, log) {
    const running = await startAgent(config, log);
    log.info({ url: running.url, model: running.model }, 'agent listening');
    return running;
  },
});

export type AgentConfig = FlagValues<typeof agentCommand.flags> & { host: string };

export async function startAgent(config: AgentConfig, log: Logger) {
  if ((config.jwtIssuer || config.jwtAudience) && !config.jwtJwks) throw new ConfigError('jwt-jwks', 'is needed to check --jwt-issuer and --jwt-audience');
  const identity = new CallerIdentity({
    requesterHeader: config.requesterHeader.toLowerCase(),
    anonymousUser: config.anonymousUser,
    jwks: config.jwtJwks,
    issuer: config.jwtIssuer,
    audience: config.jwtAudience,
  });
  // A bad key stops the start here, before minutes of waiting for the gateway.
  const signer = config.approvalKey ? new UserApprovalSigner(keyFromFlag('approval-key', config.approvalKey, 'private')) : undefined;
  const tools = await GatewayTools.connect({
    gatewayUrl: config.gatewayUrl,
    agentName: AGENT_NAME,
    requesterHeader: config.requesterHeader,
    callTimeoutMs: config.toolTimeout,
    connectForMs: config.connectTimeout,
    log,
  });
  const sql = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const model = chooseModel(config.model, tools.tools);
    await createAgentTables(sql);
    const graph = buildGraph({ model: model.chat, tools, checkpointer: new DurableCheckpointer(sql), signer });
    const tasks = new SqlTaskStore(sql);
    // Without --public-url the card names the address it was fetched from.
    const cardFor = (origin: string) => agentCard(config.publicUrl ?? `${origin}/`, identity.usesJwt);
    const audit = new DecisionAudit(sql);
    const guard = new ApprovalGuard(cardFor('http://127.0.0.1'), tasks, new AssistantExecutor(graph, audit, log), graph);
    const app = withOps(a2aApp(guard, cardFor, identity).route('/', chatApp()).route('/', auditExportApp(audit, config.auditToken)), { log, ready: () => sql.ping() });
    const server = await listen(app, config.port, config.host);
    return {
      url: server.url,
      model: model.name,
      async close() {
        await server.close();
        await tools.close();
        await sql.close();
      },
    };
  } catch (err) {
    await tools.close();
    await sql.close();
    throw err;
  }
}

export const agentVerifyAuditCommand = defineCommand({
  name: 'agent verify-audit',
  summary: 'check that the chat decisions\' audit (the store, or an exported audit.jsonl) is an unbroken hash chain',
  flags: agentVerifyAuditFlags,
  async run(config) {
    let entries: ChainedEntry[];
    if (config.file) {
      entries = readExport(config.file);
    } else {
      const sql = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      try {
        await createAgentTables(sql);
        entries = await new DecisionAudit(sql).chain();
      } finally {
        await sql.close();
      }
    }
    reportChain(entries);
  },
});
