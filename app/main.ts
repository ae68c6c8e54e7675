#!/usr/bin/env node
/**
 * `hitl`: one binary, one subcommand per service. Each Deployment in a cluster runs the same
 * image with a different subcommand; locally they can all run side by side.
 */
import { commands } from './commands.js';
import { ConfigError, commonFlags, flagHelp, parseFlags, type LogLevel } from './shared/flags.js';
import { createLogger } from './shared/log.js';
import { SHUTDOWN_DEADLINE_MS, type Service, type Subcommand } from './shared/command.js';

function usage(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'hitl: human approval gates for MCP agents',
    '',
    'Usage: hitl <subcommand> [flags]   (hitl <subcommand> --help for its flags)',
    '',
    'Subcommands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
  ].join('\n');
}

function commandHelp(command: Subcommand): string {
  return [`hitl ${command.name}: ${command.summary}`, '', 'Flags:', flagHelp({ ...command.flags, ...commonFlags })].join('\n');
}

async function main(argv: string[]): Promise<number> {
  // Longest name first, so "ext-auth verify-audit" is found before "ext-auth".
  const twoWords = argv.slice(0, 2).join(' ');
  const [name, ...rest] = commands.some((c) => c.name === twoWords) ? [twoWords, ...argv.slice(2)] : argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`hitl: unknown subcommand "${name}" (see hitl --help)`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(command));
    return 0;
  }

  let config;
  try {
    config = parseFlags({ ...command.flags, ...commonFlags }, rest);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hitl ${command.name}: ${err.message}`);
      return 2;
    }
    throw err;
  }

  const log = createLogger(command.name, config.logLevel as LogLevel);
  let service: Service | void;
  try {
    service = await command.run(config, log);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hitl ${command.name}: ${err.message}`);
      return 2;
    }
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`hitl ${command.name}: ${(err as Error).message}`);
      return 1;
    }
    log.fatal({ err }, 'failed to start');
    return 1;
  }
  if (!service) return Number(process.exitCode ?? 0);

  const running = service;
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        log.error('shutdown deadline passed; exiting');
        resolve(1);
      }, running.shutdownDeadlineMs ?? SHUTDOWN_DEADLINE_MS);
      running.close().then(
        () => {
          clearTimeout(deadline);
          log.info('stopped');
          // A service that stopped because something failed has set the exit code already.
          resolve(Number(process.exitCode ?? 0));
        },
        (err) => {
          clearTimeout(deadline);
          log.error({ err }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    // Started by `hitl dev`: if it dies without stopping this service (killed outright), the
    // channel closes and the service stops rather than run on unsupervised. Its log went
    // through the supervisor's pipe, which has no reader now, so nothing more is written.
    process.once('disconnect', () => {
      log.level = 'silent';
      stop('supervisor gone');
    });
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
