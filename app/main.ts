#!/usr/bin/env node
/**
 * `hitl`: one binary, one subcommand per service. Each Deployment in a cluster runs the same
 * image with a different subcommand; locally they can all run side by side.
 */
import { commands } from './commands.js';
import { ConfigError, commonFlags, flagHelp, parseFlags, type LogLevel } from './shared/flags.js';
import { createLogger, type Logger } from './shared/log.js';
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
  const usageLine = command.positionals ? ['', `Usage: ${invocation(command)}`] : [];
  return [`hitl ${command.name}: ${command.summary}`, ...usageLine, '', 'Flags:', flagHelp({ ...command.flags, ...commonFlags })].join('\n');
}

const invocation = (command: Subcommand) => ['hitl', command.name, ...(command.positionals ?? []), '[flags]'].join(' ');

/** The subcommands under a group name such as "review", for `hitl review` alone. */
function groupUsage(group: string): string | undefined {
  const members = commands.filter((c) => c.name.startsWith(`${group} `));
  if (members.length === 0) return undefined;
  const width = Math.max(...members.map((c) => c.name.length)) + 2;
  return [`Usage: hitl ${group} <subcommand> [flags]`, '', ...members.map((c) => `  ${c.name.padEnd(width)}${c.summary}`)].join('\n');
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
    const group = groupUsage(name);
    if (group && (rest.includes('--help') || rest.includes('-h'))) {
      console.log(group);
      return 0;
    }
    console.error(group ?? `hitl: unknown subcommand "${name}" (see hitl --help)`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(commandHelp(command));
    return 0;
  }

  let config;
  const args: string[] = [];
  try {
    config = parseFlags({ ...command.flags, ...commonFlags }, rest, process.env, command.positionals && args);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`hitl ${command.name}: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (command.positionals && args.length !== command.positionals.length) {
    console.error(`hitl ${command.name}: expected ${invocation(command)}, got ${args.length ? args.join(' ') : 'no arguments'}`);
    return 2;
  }

  const log = createLogger(command.name, config.logLevel as LogLevel);
  const stop = stopRequested(log);
  let service: Service | void;
  try {
    service = await command.run(config, log, args);
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
  stop.started();
  return stopWhenAsked(service, await stop.reason, log);
}

const STARTING_GRACE_MS = 2_000;

/**
 * Resolves with what asked this process to stop. The handlers are in place before the service
 * starts: a signal sent the moment it reports ready (before `run` has returned) must stop it
 * gracefully, not kill it. One that comes while it is still starting gives the start
 * STARTING_GRACE_MS to finish, then the process exits 1.
 */
function stopRequested(log: Logger): { reason: Promise<string>; started(): void } {
  let starting = true;
  let startDeadline: NodeJS.Timeout | undefined;
  const reason = new Promise<string>((resolve) => {
    const request = (why: string) => {
      if (starting) {
        startDeadline = setTimeout(() => {
          log.error({ reason: why }, 'asked to stop while starting, and the start did not finish in time');
          process.exit(1);
        }, STARTING_GRACE_MS);
      }
      resolve(why);
    };
    process.once('SIGTERM', () => request('SIGTERM'));
    process.once('SIGINT', () => request('SIGINT'));
    // Started by `hitl dev`: if it dies without stopping this service (killed outright), the
    // channel closes and the service stops rather than run on unsupervised. Its log went
    // through the supervisor's pipe, which has no reader now, so nothing more is written.
    process.once('disconnect', () => {
      log.level = 'silent';
      request('supervisor gone');
    });
  });
  return {
    reason,
    started() {
      starting = false;
      clearTimeout(startDeadline);
    },
  };
}

/** Stops `running` within its deadline; resolves with the exit code. */
async function stopWhenAsked(running: Service, reason: string, log: Logger): Promise<number> {
  log.info({ signal: reason }, 'shutting down');
  let deadline: NodeJS.Timeout | undefined;
  const overdue = new Promise<number>((resolve) => {
    deadline = setTimeout(() => {
      log.error('shutdown deadline passed; exiting');
      resolve(1);
    }, running.shutdownDeadlineMs ?? SHUTDOWN_DEADLINE_MS);
  });
  const stopped = running.close().then(
    () => {
      log.info('stopped');
      // A service that stopped because something failed has set the exit code already.
      return Number(process.exitCode ?? 0);
    },
    (err) => {
      log.error({ err }, 'shutdown failed');
      return 1;
    },
  );
  const code = await Promise.race([stopped, overdue]);
  clearTimeout(deadline);
  return code;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
