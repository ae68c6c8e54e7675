/**
 * One small SQL interface over two engines: PGlite (PostgreSQL compiled to WebAssembly,
 * persisted in a local directory) when no database URL is given, and a real PostgreSQL
 * server otherwise. Both speak the same dialect, so every query in the project runs
 * unchanged on either: the embedded default is not a separate code path.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { Backoff } from './backoff.js';

export interface QueryResult<Row> {
  rows: Row[];
  fields: string[];
  rowCount: number;
}

export interface SqlSession {
  /**
   * Runs exactly one statement with the extended protocol, so a string holding several
   * statements is refused by the server rather than run in part.
   */
  query<Row = Record<string, unknown>>(text: string, params?: unknown[]): Promise<QueryResult<Row>>;
}

export interface Sql extends SqlSession {
  readonly engine: 'embedded' | 'postgres';
  /** Runs `work` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  /**
   * A connection of its own for short queries that say this process is alive (heartbeats,
   * readiness): under load the shared pool is busy for seconds, and a heartbeat queued behind
   * the work would get a busy replica declared dead.
   */
  readonly liveness: SqlSession;
  ping(): Promise<boolean>;
  /**
   * Receives NOTIFY payloads on `channel`. On PostgreSQL a dedicated connection listens and
   * reconnects after a loss; `onReconnect` then runs, because notifications sent while the
   * connection was down are gone and the listener must catch up from the tables.
   */
  listen(channel: string, onMessage: (payload: string) => void, onReconnect?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Where the embedded engine keeps its files. */
  dataDir: string;
  /** postgres://… — when set, the embedded engine is not used. */
  databaseUrl?: string;
}

export async function openDatabase(options: DatabaseOptions): Promise<Sql> {
  return options.databaseUrl ? openPostgres(options.databaseUrl) : openEmbedded(options.dataDir);
}

async function openEmbedded(dataDir: string): Promise<Sql> {
  mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const session = (runner: Pick<PGlite, 'query'>): SqlSession => ({
    async query(text, params = []) {
      const result = await runner.query<any>(text, params);
      return { rows: result.rows, fields: result.fields.map((f) => f.name), rowCount: result.affectedRows ?? result.rows.length };
    },
  });
  let closed = false;
  return {
    engine: 'embedded',
    ...session(db),
    // One process owns the embedded engine, and it runs one query at a time anyway.
    liveness: session(db),
    transaction: (work) => db.transaction((tx) => work(session(tx))),
    ping: async () => !closed && !db.closed,
    listen: (channel, onMessage) => db.listen(channel, onMessage),
    async close() {
      if (closed) return;
      closed = true;
      await db.close();
    },
  };
}

/** 64-bit integers as PGlite gives them: a number when exact, a BigInt beyond 2^53. */
function parseInt8(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const sameTypesAsPglite = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? parseInt8 : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

async function openPostgres(databaseUrl: string): Promise<Sql> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, connectionTimeoutMillis: 5000, types: sameTypesAsPglite });
  const livenessPool = new pg.Pool({ connectionString: databaseUrl, max: 1, connectionTimeoutMillis: 5000, types: sameTypesAsPglite });
  // A client losing its connection must not crash the process, whether it sits idle in the pool
  // or is checked out between two statements of a transaction: the next query reports the loss.
  for (const p of [pool, livenessPool]) {
    p.on('error', () => {});
    p.on('connect', (client) => client.on('error', () => {}));
  }
  const session = (runner: pg.Pool | pg.PoolClient): SqlSession => ({
    async query(text, params = []) {
      const result = await runner.query({ text, values: params, queryMode: 'extended' } as pg.QueryConfig);
      return { rows: result.rows, fields: result.fields.map((f) => f.name), rowCount: result.rowCount ?? result.rows.length };
    },
  });
  await pool.query('SELECT 1');
  return {
    engine: 'postgres',
    ...session(pool),
    liveness: session(livenessPool),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await work(session(client));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    async ping() {
      try {
        await livenessPool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    listen: (channel, onMessage, onReconnect) => listenPostgres(databaseUrl, channel, onMessage, onReconnect),
    close: async () => {
      await Promise.all([pool.end(), livenessPool.end()]);
    },
  };
}

async function listenPostgres(
  databaseUrl: string,
  channel: string,
  onMessage: (payload: string) => void,
  onReconnect?: () => void,
): Promise<() => Promise<void>> {
  let client: pg.Client | undefined;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 5000 });
    next.on('notification', (n) => n.channel === channel && n.payload !== undefined && onMessage(n.payload));
    next.on('error', () => reconnect(next));
    next.on('end', () => reconnect(next));
    await next.connect();
    await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
    client = next;
  };
  const reconnect = (lost: pg.Client) => {
    if (stopped || client !== lost || retry) return;
    client = undefined;
    const backoff = new Backoff(250, 5_000);
    const attempt = () => {
      retry = setTimeout(async () => {
        try {
          await connect();
          retry = undefined;
          onReconnect?.();
        } catch {
          attempt();
        }
      }, backoff.next());
    };
    attempt();
  };
  await connect();
  return async () => {
    stopped = true;
    clearTimeout(retry);
    await client?.end().catch(() => {});
  };
}
