/**
 * `hitl review`: the platform reviewer's terminal client for the ext-auth admin API. It decides
 * nothing itself: ext-auth applies the same rules (groups, self-approval, N-of-M) to it as to
 * the web queue, and this client says why when it refuses.
 *
 * Exit codes a script can act on: 0 done, 1 refused (the server's reason is printed),
 * 2 bad usage, 3 ext-auth unreachable or unable to answer.
 */
import { readFileSync } from 'node:fs';
import { defineCommand, type Service } from '../shared/command.js';
import { ConfigError, type FlagValues } from '../shared/flags.js';
import type { Logger } from '../shared/log.js';
import type { ApprovalRequest } from '../contracts/admin-api.js';
import { AdminClient, AdminError } from '../shared/admin-client.js';
import { MigrationPreviews, showsMigrationPlan } from '../shared/migration-preview.js';
import type { Credential } from '../contracts/reviewer-session.js';
import { reviewApproveFlags, reviewConnectionFlags, reviewRejectFlags, reviewShowFlags } from './flags.js';
import { cannotDecide, changeLine, decisionOutcome, pendingTable, requestCard } from './render.js';

export const EXIT = { done: 0, refused: 1, usage: 2, unreachable: 3 } as const;

type Connection = FlagValues<typeof reviewConnectionFlags>;

interface Reviewing {
  admin: AdminClient;
  as: Credential;
  json: boolean;
}

/** The reviewer's token: from --token-file (or HITL_TOKEN_FILE), else HITL_TOKEN itself. */
function credential(config: Connection): Credential {
  if (config.tokenFile) {
    let token: string;
    try {
      token = readFileSync(config.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new ConfigError('token-file', `cannot be read: ${(err as Error).message}`);
    }
    if (!token) throw new ConfigError('token-file', `${config.tokenFile} is empty`);
    return { kind: 'bearer', token };
  }
  const token = process.env.HITL_TOKEN?.trim();
  if (token) return { kind: 'bearer', token };
  throw new ConfigError('token-file', 'is needed, or the token in HITL_TOKEN: the admin API answers one reviewer at a time');
}

/** A one-off job: runs `work`, and turns what went wrong into a message and an exit code. */
async function review(config: Connection, log: Logger, work: (session: Reviewing) => Promise<void>): Promise<void> {
  // This client talks to a person or a script, not to a log collector.
  log.level = 'silent';
  const session = { admin: new AdminClient(config.adminUrl), as: credential(config), json: config.json };
  try {
    await work(session);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    fail(session.json, failureOf(err, config.adminUrl));
  }
}

interface Failure {
  exitCode: number;
  error: string;
  status?: number;
  explanation?: string;
}

function failureOf(err: unknown, adminUrl: string): Failure {
  if (err instanceof AdminError && err.status < 500) return { exitCode: EXIT.refused, error: err.message, status: err.status };
  if (err instanceof AdminError) return { exitCode: EXIT.unreachable, error: `ext-auth at ${adminUrl} could not answer (${err.status}): ${err.message}`, status: err.status };
  const cause = (err as Error & { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (err as Error).message;
  return { exitCode: EXIT.unreachable, error: `ext-auth at ${adminUrl} cannot be reached: ${why}` };
}

function fail(json: boolean, failure: Failure): void {
  const { exitCode, ...said } = failure;
  if (json) console.log(JSON.stringify(said));
  else console.error([`hitl review: ${failure.exitCode === EXIT.refused ? 'refused: ' : ''}${failure.error}`, failure.explanation].filter(Boolean).join('\n'));
  process.exitCode = exitCode;
}

const print = (json: boolean, value: unknown, words: string) => console.log(json ? JSON.stringify(value, null, 2) : words);

export const reviewPendingCommand = defineCommand({
  name: 'review pending',
  summary: 'the requests waiting for a platform reviewer, as a table',
  flags: reviewConnectionFlags,
  async run(config, log) {
    await review(config, log, async ({ admin, as, json }) => {
      const pending = await admin.pending(as);
      print(json, pending, pendingTable(pending, Date.now()));
    });
  },
});

export const reviewShowCommand = defineCommand({
  name: 'review show',
  summary: 'one request as its card: arguments, the SQL a migration would run, approvals so far',
  positionals: ['ID'],
  flags: reviewShowFlags,
  async run(config, log, [id]) {
    await review(config, log, async ({ admin, as, json }) => {
      const [request, me] = await Promise.all([admin.request(as, id), admin.whoami(as)]);
      const target = migrationTarget(request);
      const preview = target === undefined ? undefined : await new MigrationPreviews(config.mcpUrl).preview(target);
      const verdict = cannotDecide(request, me.name);
      print(json, { ...request, ...(preview && { migration: preview }), ...(verdict && { cannotDecide: verdict }) }, requestCard(request, me.name, Date.now(), preview));
    });
  },
});

/** The target version of a request whose card shows the SQL it would run; undefined for other tools. */
function migrationTarget(request: ApprovalRequest): unknown {
  return showsMigrationPlan(request.toolName) ? request.toolArgs.version : undefined;
}

/** Approves or rejects; on a refusal, says why as the web queue would. */
async function decide({ admin, as, json }: Reviewing, id: string, approved: boolean, reason: string): Promise<void> {
  try {
    await admin.decide(as, id, approved, reason);
  } catch (err) {
    if (!(err instanceof AdminError) || err.status >= 500 || err.status === 401) throw err;
    const [request, me] = await Promise.all([admin.request(as, id).catch(() => undefined), admin.whoami(as)]);
    fail(json, { exitCode: EXIT.refused, error: err.message, status: err.status, explanation: request && cannotDecide(request, me.name) });
    return;
  }
  const after = await admin.request(as, id);
  const outcome = { id, decision: approved ? 'approve' : 'reject', status: after.status, approvals: after.approvals.length, approvalsRequired: after.approvalsRequired };
  print(json, outcome, decisionOutcome(after, approved));
}

export const reviewApproveCommand = defineCommand({
  name: 'review approve',
  summary: 'approve a request (one of the approvals its rule needs)',
  positionals: ['ID'],
  flags: reviewApproveFlags,
  async run(config, log, [id]) {
    await review(config, log, (session) => decide(session, id, true, config.reason));
  },
});

export const reviewRejectCommand = defineCommand({
  name: 'review reject',
  summary: 'reject a request; the reason is recorded and shown to the agent',
  positionals: ['ID'],
  flags: reviewRejectFlags,
  async run(config, log, [id]) {
    await review(config, log, (session) => decide(session, id, false, config.reason));
  },
});

export const reviewWatchCommand = defineCommand({
  name: 'review watch',
  summary: 'follow the queue live: one line per change, until interrupted',
  flags: reviewConnectionFlags,
  async run(config, log): Promise<Service | void> {
    let watching: Service | undefined;
    await review(config, log, async (session) => {
      watching = await watch(session, config.adminUrl);
    });
    return watching;
  },
});

/**
 * Opens the admin API's event stream and prints each change once it is ready. If the stream
 * ends while nobody asked to stop, the process says so and stops with exit code 3.
 */
async function watch({ admin, as, json }: Reviewing, adminUrl: string): Promise<Service> {
  const stop = new AbortController();
  const events = admin.events(as, stop.signal);
  await events.next(); // 'ready', or the refusal / unreachable error
  // Said once the stream is live, so whoever reads this knows no later change is missed.
  if (json) console.log(JSON.stringify({ at: new Date().toISOString(), type: 'ready' }));
  else console.log(`Watching the queue at ${adminUrl}; Ctrl-C stops.`);
  const following = (async () => {
    let lost: unknown;
    try {
      for await (const change of events) {
        if (change === 'ready') continue;
        const at = new Date();
        const request = await admin.request(as, change.id).catch(() => undefined);
        if (json) console.log(JSON.stringify({ at: at.toISOString(), ...change, request }));
        else console.log(changeLine(change, at, request));
      }
    } catch (err) {
      lost = err;
    }
    if (stop.signal.aborted) return;
    const why = lost === undefined ? 'the stream ended' : failureOf(lost, adminUrl).error;
    fail(json, { exitCode: EXIT.unreachable, error: `lost the queue at ${adminUrl}: ${why}` });
    process.kill(process.pid, 'SIGTERM');
  })();
  return {
    async close() {
      stop.abort();
      await following;
    },
  };
}

export const reviewCommands = [reviewPendingCommand, reviewShowCommand, reviewApproveCommand, reviewRejectCommand, reviewWatchCommand];
