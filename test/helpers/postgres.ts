import pg from 'pg';
import type { Test } from 'uvu';
import { skippedUnless } from './skip.js';

/** The PostgreSQL the tests use; CI and developer machines run one on loopback with trust auth. */
export const ADMIN_URL = process.env.HITL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether that PostgreSQL answers, asked once when a suite loads. Under CI=true it must: an
 * unreachable server fails the run instead of quietly shrinking it.
 */
export const postgresReachable: boolean = await (async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.end();
    return true;
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable under CI: ${(err as Error).message}`);
    console.warn(`PostgreSQL at ${ADMIN_URL} is unreachable (${(err as Error).message}); its cases are reported as skipped`);
    return false;
  }
})();

/**
 * A test or suite that needs PostgreSQL: itself when the server answers; otherwise every case
 * it registers is counted as skipped and its hooks, which would open the database, never run.
 */
export function onPostgres<T>(register: Test<T>): Test<T> {
  return skippedUnless(postgresReachable, register);
}

/** A fresh, empty database for one suite, dropped by `drop()`. */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (!postgresReachable) throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable; register the case with onPostgres()`);
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  await admin.connect();
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`.toLowerCase();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}
