import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { defineCommand } from '../shared/command.js';
import { bool, port, text } from '../shared/flags.js';
import { localReviewer } from './reviewer-token.js';
import { startChild, stopAll, type ChildSpec, type StartedChild } from './supervisor.js';

/**
 * `npm start`: the whole story on one machine, each service in its own child process with
 * the same flags a Deployment would pass it, and all data under one directory.
 */
export const devCommand = defineCommand({
  name: 'dev',
  summary: 'run every service on this machine with embedded storage (what npm start runs)',
  flags: {
    dataDir: { help: 'where every service keeps its data', default: '.hitl', parse: text, metavar: 'DIR' },
    reset: { help: 'delete the data directory first and start fresh', default: false, parse: bool, metavar: '' },
    mcpPort: { help: 'port of the MCP server', default: 8080, parse: port, metavar: 'PORT' },
    gatewayPort: { help: 'port of the stand-in gateway', default: 8000, parse: port, metavar: 'PORT' },
    grpcPort: { help: 'gRPC port of ext-auth', default: 9001, parse: port, metavar: 'PORT' },
    adminPort: { help: 'port of the ext-auth admin API', default: 8081, parse: port, metavar: 'PORT' },
  },
  async run(config) {
    const print = (line: string) => process.stdout.write(`${line}\n`);
    if (config.reset) {
      rmSync(config.dataDir, { recursive: true, force: true });
      print(`reset: removed ${config.dataDir}`);
    }
    const reviewer = localReviewer(config.dataDir);
    const local = ['--host', '127.0.0.1'];
    const specs: ChildSpec[] = [
      { name: 'mcp', args: [...local, '--port', String(config.mcpPort), '--data-dir', join(config.dataDir, 'mcp')] },
      {
        name: 'ext-auth',
        args: [...local, '--grpc-port', String(config.grpcPort), '--admin-port', String(config.adminPort), '--data-dir', join(config.dataDir, 'ext-auth'), '--tokens-file', reviewer.tokensFile],
      },
      {
        name: 'gateway',
        args: [...local, '--port', String(config.gatewayPort), '--upstream', `http://127.0.0.1:${config.mcpPort}`, '--ext-auth', `127.0.0.1:${config.grpcPort}`, '--context', 'gate=platform'],
      },
    ];
    const started: StartedChild[] = [];
    try {
      for (const spec of specs) {
        print(`starting ${spec.name}…`);
        started.push(await startChild(spec, print));
      }
    } catch (err) {
      await stopAll(started.map((s) => s.process));
      throw err;
    }
    let stopping = false;
    for (const child of started) {
      child.process.once('exit', (code) => {
        if (stopping) return;
        print(`hitl ${child.name} stopped unexpectedly (exit ${code}); stopping everything`);
        process.exitCode = 1;
        process.kill(process.pid, 'SIGTERM');
      });
    }
    const byName = Object.fromEntries(started.map((s) => [s.name, s.url]));
    print('');
    print(`  MCP through the gateway   ${byName.gateway}/public/mcp  and  ${byName.gateway}/privileged/mcp (gated)`);
    print(`  reviewer queue (API)      curl -H 'authorization: Bearer ${reviewer.token}' ${byName['ext-auth']}/pending`);
    print(`  database state            ${byName.mcp}/state`);
    print('');
    print('Press Ctrl-C to stop everything; npm start again keeps the data, npm start -- --reset starts fresh.');
    return {
      close() {
        stopping = true;
        return stopAll(started.map((s) => s.process));
      },
    };
  },
});
