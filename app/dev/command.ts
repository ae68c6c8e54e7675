import { mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { defineCommand } from '../shared/command.js';
import { commonFlags, ConfigError } from '../shared/flags.js';
import { argv } from '../shared/invocation.js';
import { agentFlags } from '../agent/flags.js';
import { extAuthFlags } from '../ext-auth/flags.js';
import { gatewayFlags } from '../gateway/flags.js';
import { mcpFlags } from '../mcp/flags.js';
import { uiFlags } from '../ui/flags.js';
import { portInUse } from '../shared/http.js';
import { localApprovalKeys } from './approval-keys.js';
import { localReviewer } from './reviewer-token.js';
import { startChild, stopAll, stopAllDeadline, type ChildSpec, type StartedChild } from './supervisor.js';
import { devFlags } from './flags.js';

const LOCAL = '127.0.0.1';

/**
 * `npm start`: the whole story on one machine, each service in its own child process with
 * the same flags a Deployment would pass it, wired to the addresses the others report, and
 * all data under one directory.
 */
export const devCommand = defineCommand({
  name: 'dev',
  summary: 'run every service on this machine with embedded storage (what npm start runs)',
  flags: devFlags,
  async run(config) {
    const print = (line: string) => process.stdout.write(`${line}\n`);
    const ports = { 'mcp-port': config.mcpPort, 'gateway-port': config.gatewayPort, 'grpc-port': config.grpcPort, 'admin-port': config.adminPort, 'ui-port': config.uiPort, 'agent-port': config.agentPort };
    for (const [flag, value] of Object.entries(ports)) await ensureFree(flag, value);
    if (config.reset) {
      rmSync(config.dataDir, { recursive: true, force: true });
      print(`reset: removed ${config.dataDir}`);
    }
    const logDir = join(config.dataDir, 'logs');
    mkdirSync(logDir, { recursive: true });
    const reviewer = localReviewer(config.dataDir);
    const keys = localApprovalKeys(config.dataDir, 'approval');
    const userApprovalKeys = localApprovalKeys(config.dataDir, 'user-approval');
    const local = argv(commonFlags, { host: LOCAL });

    const started: StartedChild[] = [];
    const start = async (spec: ChildSpec) => {
      print(`starting ${spec.name}…`);
      const child = await startChild(spec, logDir, print);
      started.push(child);
      print(`  ${spec.name} ready at ${child.url}`);
      return child;
    };
    try {
      const mcp = await start({
        name: 'mcp',
        args: [...local, ...argv(mcpFlags, {
          port: config.mcpPort,
          dataDir: join(config.dataDir, 'mcp'),
          approvalVerifyKey: keys.publicKey,
          userApprovalVerifyKey: userApprovalKeys.publicKey,
        })],
      });
      const extAuth = await start({
        name: 'ext-auth',
        args: [...local, ...argv(extAuthFlags, {
          grpcPort: config.grpcPort,
          adminPort: config.adminPort,
          dataDir: join(config.dataDir, 'ext-auth'),
          tokensFile: reviewer.tokensFile,
          approvalKey: keys.privateKey,
        })],
      });
      const gateway = await start({
        name: 'gateway',
        args: [...local, ...argv(gatewayFlags, {
          port: config.gatewayPort,
          upstream: mcp.url,
          extAuth: `${LOCAL}:${extAuth.listening.grpcPort}`,
          context: [['gate', 'platform']],
        })],
      });
      await start({
        name: 'ui',
        args: [...local, ...argv(uiFlags, { port: config.uiPort, extAuthUrl: extAuth.url, mcpUrl: mcp.url })],
        env: { HITL_SESSION_SECRET: reviewer.sessionSecret },
      });
      // The local chat has one user and no kagent in front to name them.
      await start({
        name: 'agent',
        args: [...local, ...argv(agentFlags, {
          port: config.agentPort,
          gatewayUrl: gateway.url,
          dataDir: join(config.dataDir, 'agent'),
          anonymousUser: 'local-user',
          approvalKey: userApprovalKeys.privateKey,
        })],
      });
    } catch (err) {
      await stopAll(started, print);
      throw err;
    }

    let stopping = false;
    for (const child of started) {
      child.process.once('exit', (code) => {
        if (stopping) return;
        print(`hitl ${child.name} stopped unexpectedly (exit ${code}); see ${join(logDir, `${child.name}.log`)}. Stopping everything.`);
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      });
    }
    const url = Object.fromEntries(started.map((s) => [s.name, s.url]));
    const model = started.find((s) => s.name === 'agent')?.listening.model;
    print('');
    print('Open these side by side:');
    print(`  end-user chat     ${url.agent}/chat   (model: ${model})`);
    print(`  reviewer queue    ${url.ui}   (sign in with the token ${reviewer.token})`);
    print('');
    print(`Type "What's in the orders table?" in the chat, then "Truncate the orders table." and "Apply migration v3."`);
    print(`Database state: ${url.mcp}/state   Logs: ${logDir}`);
    print('Ctrl-C stops everything; npm start again keeps the data, npm start -- --reset starts fresh.');
    return {
      async close() {
        stopping = true;
        const { clean } = await stopAll(started, print);
        if (!clean) process.exitCode = 1;
      },
      shutdownDeadlineMs: stopAllDeadline(started.length),
    };
  },
});

/** A busy port is reported with the flag that moves it, before anything starts. */
function ensureFree(flag: string, value: number): Promise<void> {
  if (value === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', () => reject(new ConfigError(flag, portInUse(value, LOCAL, flag))));
    probe.listen(value, LOCAL, () => probe.close(() => resolve()));
  });
}
