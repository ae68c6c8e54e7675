import pg from 'pg';

/** The PostgreSQL the tests use; CI and developer machines run one on loopback with trust auth. */
export const ADMIN_URL = process.env.HITL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh, empty database for one suite, dropped by `drop()`. Returns null when PostgreSQL is
 * unreachable on a developer machine; under CI=true an unreachable server fails the suite.
 */
export async function freshDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (err) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL at ${ADMIN_URL} is unreachable under CI: ${(err as Error).message}`);
    console.warn(`PostgreSQL unreachable (${(err as Error).message}); skipping PostgreSQL cases`);
    return null;
  }
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
