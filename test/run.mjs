// Runs every uvu suite under test/ in one process (TypeScript through tsx) and ends with the
// plain summary line CI reads: "N passed, N failed, N skipped" (a case that could not run here,
// such as one needing an unreachable PostgreSQL, is skipped, never passed). A suite that hangs is stopped after
// HITL_TEST_DEADLINE_MINUTES (60), naming the file it was in, rather than holding CI until
// its own limit.
import { spawn } from 'node:child_process';

// Found by module resolution, not by a fixed path: a copy of the project (a worktree, a
// mutation-testing sandbox) may reach node_modules through a parent folder.
const uvu = new URL('../bin.js', import.meta.resolve('uvu')).pathname;
const filter = process.argv.slice(2).filter((arg) => !arg.startsWith('--'));
// `--bail`: stop at the first failing case. Mutation testing wants only whether a suite fails,
// and most mutants fail the first file they meet, so the rest need not run.
const bail = process.argv.includes('--bail');
const deadlineMinutes = Number(process.env.HITL_TEST_DEADLINE_MINUTES ?? 60);

// Its own process group, so that stopping it also stops the servers the tests started.
const child = spawn(
  process.execPath,
  ['--import', 'tsx', uvu, 'test', filter[0] ?? '.*\\.test\\.ts$', '--ignore', 'helpers', ...(bail ? ['--bail'] : [])],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' }, detached: true },
);
const stopTests = () => {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
};
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    stopTests();
    process.exit(1);
  });
}

let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk;
});

let timedOut = false;
const deadline = setTimeout(() => {
  timedOut = true;
  const files = [...output.matchAll(/([\w./-]+\.test\.ts)/g)];
  console.log(`\nthe tests ran past ${deadlineMinutes} minutes and were stopped, in ${files.at(-1)?.[1] ?? 'the first file'}`);
  stopTests();
}, deadlineMinutes * 60_000);

child.on('close', (code) => {
  clearTimeout(deadline);
  // A run that stopped early (a bail, a crash) skipped the suites' own teardown; servers they
  // started are still in the group.
  stopTests();
  const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
  const total = count('Total');
  const passed = count('Passed');
  const skipped = count('Skipped');
  // uvu's Total counts the cases that ran; skipped ones are counted apart.
  const failed = Math.max(total - passed, code === 0 && !timedOut ? 0 : 1);
  console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
  process.exit(failed === 0 ? 0 : 1);
});
