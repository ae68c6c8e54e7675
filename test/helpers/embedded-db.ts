import { PGlite } from '@electric-sql/pglite';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PGLITE_VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.resolve('@electric-sql/pglite')), 'utf8')).version as string;
/** One per engine version, shared by every run on this machine: what the engine writes when it creates an empty database. */
const TEMPLATE = join(tmpdir(), `hitl-embedded-template-${PGLITE_VERSION}`);

/**
 * Fills `dataDir`, which must not exist yet, with an empty database of the embedded engine.
 * Creating one runs the engine's initdb, which takes seconds (more than ten on a loaded
 * machine); a copy of one made earlier takes a fraction of that. The server under test then
 * opens it as it opens any data directory it finds, so only the cost of creating one is saved.
 */
export async function seedEmbeddedDataDir(dataDir: string): Promise<void> {
  if (existsSync(dataDir)) throw new Error(`${dataDir} already exists; a seeded data directory must be new`);
  if (!existsSync(TEMPLATE)) await makeTemplate();
  cpSync(TEMPLATE, dataDir, { recursive: true });
}

async function makeTemplate(): Promise<void> {
  // Made aside and renamed into place, so a run in parallel never copies a half-written one.
  const aside = mkdtempSync(`${TEMPLATE}-making-`);
  const db = await PGlite.create(aside);
  await db.close();
  try {
    renameSync(aside, TEMPLATE);
  } catch (err) {
    // Another run made it first; theirs is as good.
    rmSync(aside, { recursive: true, force: true });
    if (!existsSync(TEMPLATE)) throw err;
  }
}
