import type { Hono } from 'hono';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { defineCommand } from '../shared/command.js';
import { ConfigError, type FlagValues } from '../shared/flags.js';
import { keyFromFlag } from '../shared/key-flags.js';
import type { Logger } from '../shared/log.js';
import { listen, withOps } from '../shared/http.js';
import { openDatabase } from '../shared/sql.js';
import { adminApp } from './admin.js';
import { verifyExportFile, verifyStoredChain } from '../shared/audit-proof.js';
import { keepCheckpoints } from './checkpoints.js';
import { Gate } from './gate.js';
import { serveGrpc } from './grpc.js';
import { createMetrics } from './metrics.js';
import { ReviewerSessions } from './sessions.js';
import { ApprovalStore } from './store.js';
import { extAuthFlags, verifyAuditFlags } from './flags.js';

export const extAuthCommand = defineCommand({
  name: 'ext-auth',
  summary: 'the gateway gate: gRPC ext_authz that parks privileged tool calls until reviewers decide',
  flags: extAuthFlags,
  async run(config, log) {
    const running = await startExtAuth(config, log);
    log.info({ url: running.adminUrl, grpcPort: running.grpcPort, engine: running.engine }, 'ext-auth listening');
    return running;
  },
});

export type ExtAuthConfig = FlagValues<typeof extAuthCommand.flags> & { host: string };

export interface RunningExtAuth {
  adminUrl: string;
  /** The admin API as served at adminUrl, for a caller in this process to ask without a socket (`app.request()`). */
  adminApi: Hono;
  grpcPort: number;
  engine: string;
  gate: Gate;
  replica: string;
  close(): Promise<void>;
}

/** Opens the store, recovers from a crash, and serves gRPC and the admin API. */
export async function startExtAuth(config: ExtAuthConfig, log: Logger): Promise<RunningExtAuth> {
  if (!config.tokensFile && !config.identityHeader) {
    throw new ConfigError('tokens-file', 'reviewers need a way to sign in: give --tokens-file or --identity-header');
  }
  const approvalKey = config.approvalKey ? keyFromFlag('approval-key', config.approvalKey, 'private') : undefined;
  const sql = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  let gate: Gate | undefined;
  const metrics = createMetrics({ parkedHere: () => gate?.parkedHere ?? 0, writesWaiting: () => store.writesWaiting });
  const store = new ApprovalStore(sql, (size) => metrics.batchSize.observe(size));
  await store.init();
  const sessions = new ReviewerSessions(sql);
  await sessions.init();
  const auth = {
    tokensFile: config.tokensFile,
    identityHeader: config.identityHeader,
    groupsHeader: config.groupsHeader,
    // A token taken out of the file also ends every session signed in with it.
    onTokensChanged: (listed: { sha256: string[] } | { problem: string }) => {
      if ('problem' in listed) return log.error({ err: listed.problem }, 'the tokens file cannot be read; no reviewer token is accepted until it is fixed');
      sessions
        .endUnlisted(listed.sha256)
        .then((count) => log.info({ tokens: listed.sha256.length, sessionsEnded: count }, 'tokens file read again'))
        .catch((err) => log.error({ err: (err as Error).message }, 'could not end the sessions of revoked tokens'));
    },
  };
  // The embedded store is opened by one process at a time, so whatever is pending belongs to a
  // process that is gone. On PostgreSQL other replicas may be holding calls: the sweep below
  // abandons only those whose replica stopped its heartbeat.
  if (sql.engine === 'embedded') {
    const abandoned = await store.abandonLeftovers('ext-auth restarted while the request waited');
    if (abandoned.length) log.warn({ ids: abandoned }, 'requests left pending by a previous run recorded as abandoned');
  }
  const replica = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  await store.heartbeat(replica);

  gate = new Gate({
    store,
    log,
    metrics,
    parkTimeoutMs: config.parkTimeout,
    holdMs: config.hold,
    grantTtlMs: config.grantTtl,
    flood: { overall: config.maxPending, perRequester: config.maxPendingPerRequester },
    defaults: { gate: config.gate, approvalsRequired: config.approvals, reviewerGroup: config.reviewerGroup },
    denyAs: config.denyAs,
    requesterHeader: config.requesterHeader.toLowerCase(),
    requesterMetadata: config.requesterMetadata,
    allowAnonymous: config.allowAnonymous,
    approvalKey,
    redactHeaders: config.redactHeaders,
    replica,
  });
  const stopFeed = await gate.start();
  const checkpoints = approvalKey ? await keepCheckpoints(store, approvalKey, log) : undefined;
  const heartbeat = setInterval(() => {
    store.heartbeat(replica).catch((err) => log.warn({ err: (err as Error).message }, 'heartbeat failed'));
  }, config.replicaTimeout / 3);
  const sweep = setInterval(() => {
    store
      .sweepDeadReplicas(config.replicaTimeout)
      .then((ids) => ids.length && log.warn({ ids }, 'calls held by a dead replica recorded as abandoned'))
      .catch((err) => log.warn({ err: (err as Error).message }, 'sweep failed'));
    store
      .expireOverdue()
      .then((ids) => ids.length && log.info({ ids }, 'queued requests nobody held timed out'))
      .catch((err) => log.warn({ err: (err as Error).message }, 'expiry sweep failed'));
  }, config.replicaTimeout / 2);
  const shuttingDown = new AbortController();
  const adminApi = withOps(adminApp({ gate, store, sessions, metrics, auth, shutdown: shuttingDown.signal, approvalKey, log }), { log, ready: () => sql.ping() });
  const admin = await listen(adminApi, config.adminPort, config.host, 'admin-port');
  const grpcServer = await serveGrpc(gate, metrics, log, config.grpcPort, config.host);
  return {
    adminUrl: admin.url,
    adminApi,
    grpcPort: grpcServer.port,
    engine: sql.engine,
    gate,
    replica,
    async close() {
      clearInterval(heartbeat);
      clearInterval(sweep);
      shuttingDown.abort();
      await Promise.all([grpcServer.close(), admin.close()]);
      await stopFeed();
      // Callers let go while closing record their end; those changes commit before the store closes.
      await store.settled();
      await checkpoints?.stop();
      await store.leave(replica).catch(() => {});
      await sql.close();
    },
  };
}

export const verifyAuditCommand = defineCommand({
  name: 'ext-auth verify-audit',
  summary: 'check that an audit log (the store, or an exported audit.jsonl) is an unbroken hash chain, signed when a key is given',
  flags: verifyAuditFlags,
  async run(config) {
    const key = config.verifyKey.map((file) => keyFromFlag('verify-key', file, 'public'));
    let verdict: { ok: string } | { problem: string };
    if (config.file) {
      verdict = await verifyExportFile(config.file, key);
    } else {
      const sql = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
      try {
        const store = new ApprovalStore(sql);
        verdict = await verifyStoredChain(await store.auditChain(), await store.checkpoints(), key);
      } finally {
        await sql.close();
      }
    }
    if ('problem' in verdict) {
      console.error(`audit chain broken at ${verdict.problem}`);
      process.exitCode = 1;
      return;
    }
    console.log(verdict.ok);
  },
});
