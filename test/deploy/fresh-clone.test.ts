// A clone stands alone: the committed HEAD, in a folder with nothing beside it, passes its deploy
// tests. Without the upstream CRDs their validation cases are reported as skipped (and fail under
// CI=true); pointed at them with HITL_CRDS, they run. The clone borrows this checkout's
// node_modules through a symlink, as installing would only fetch the same lockfile's packages.
// The suites run are the ones that read the manifests and the CRDs; image-layout has its own test
// of a standalone copy and needs a built binary.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { crdFolder, onCrds } from '../helpers/schemas.js';
import { tempDir } from '../helpers/temp.js';

const repository = new URL('../..', import.meta.url).pathname;
const DEPLOY_SUITES = 'deploy/(manifests|binary-flags)\\.test\\.ts$';

interface Outcome {
  code: number;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
}

const folder = tempDir('fresh-clone');
const clone = join(folder.path, 'hitl-gates');

/** Runs a command in the clone with only the given HITL_CRDS and CI, never this run's own. */
async function inClone(command: string, args: string[], env: { HITL_CRDS?: string; CI?: string } = {}): Promise<{ code: number; output: string }> {
  const { HITL_CRDS: _crds, CI: _ci, ...inherited } = process.env;
  const child = spawn(command, args, { cwd: clone, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const [code] = await once(child, 'exit');
  return { code: code as number, output };
}

async function deployTests(env: { HITL_CRDS?: string; CI?: string } = {}): Promise<Outcome> {
  const { code, output } = await inClone(process.execPath, ['test/run.mjs', DEPLOY_SUITES], env);
  const summary = /(\d+) passed, (\d+) failed, (\d+) skipped/.exec(output);
  if (!summary) assert.unreachable(`the test run printed no summary:\n${output}`);
  const [passed, failed, skipped] = summary!.slice(1).map(Number);
  return { code, passed, failed, skipped, output };
}

test.before(() => {
  // The committed HEAD alone: what a clone gets, without this checkout's uncommitted files.
  execFileSync('git', ['init', '--quiet', clone]);
  execFileSync('git', ['fetch', '--quiet', '--depth', '1', repository, 'HEAD'], { cwd: clone });
  execFileSync('git', ['checkout', '--quiet', '--detach', 'FETCH_HEAD'], { cwd: clone });
  symlinkSync(join(repository, 'node_modules'), join(clone, 'node_modules'));
});

test.after(() => folder.remove());

let withoutCrds: Outcome;

test('with no CRDs anywhere, the deploy tests pass and report the CRD cases skipped, saying where they looked', async () => {
  assert.not.ok(existsSync(join(folder.path, 'shared')), 'nothing beside the clone');
  withoutCrds = await deployTests();
  assert.is(withoutCrds.code, 0, withoutCrds.output);
  assert.is(withoutCrds.failed, 0, withoutCrds.output);
  assert.ok(withoutCrds.passed > 0, withoutCrds.output);
  assert.ok(withoutCrds.skipped > 0, `the CRD cases are counted as skipped\n${withoutCrds.output}`);
  assert.ok(withoutCrds.output.includes(`looked in ${join(folder.path, 'shared/crds')}, then ${join(clone, '.crds')}`), withoutCrds.output);
  assert.match(withoutCrds.output, /Run `npm run crds`/);
});

test('under CI=true the same missing CRDs fail the run instead of shrinking it', async () => {
  const run = await deployTests({ CI: 'true' });
  assert.is(run.code, 1);
  assert.is(run.failed, withoutCrds.skipped, `each CRD case fails\n${run.output}`);
  assert.is(run.skipped, 0);
  assert.match(run.output, /the upstream CRDs were not found; looked in/);
});

test('npm run import says where it looked, and leaves imports/ as it was', async () => {
  const run = await inClone('bash', ['scripts/import.sh']);
  assert.is(run.code, 1);
  assert.ok(run.output.includes(`the upstream CRDs were not found; looked in ${join(folder.path, 'shared/crds')}, then ${join(clone, '.crds')}`), run.output);
  assert.ok(existsSync(join(clone, 'imports')), 'imports/ is not removed before the CRDs are found');
});

onCrds(test)('pointed at the CRDs with HITL_CRDS, every case runs and passes', async () => {
  assert.ok(crdFolder.folder, `this checkout has no CRDs to point the clone at: looked in ${crdFolder.looked.join(', ')}`);
  const run = await deployTests({ HITL_CRDS: crdFolder.folder });
  assert.is(run.code, 0, run.output);
  assert.is(run.failed, 0, run.output);
  assert.is(run.skipped, 0, run.output);
  assert.is(run.passed, withoutCrds.passed + withoutCrds.skipped, 'the skipped cases now pass');
});

test.run();
