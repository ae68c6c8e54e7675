// Runs every uvu suite under test/ in one process (TypeScript through tsx) and ends with the
// plain summary line CI reads: "N passed, N failed".
import { spawn } from 'node:child_process';

const uvu = new URL('../node_modules/uvu/bin.js', import.meta.url).pathname;
const filter = process.argv.slice(2);
const child = spawn(
  process.execPath,
  ['--import', 'tsx', uvu, 'test', filter[0] ?? '.*\\.test\\.ts$', '--ignore', 'helpers'],
  { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NO_COLOR: '1' } },
);
let output = '';
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  output += chunk;
});
child.on('close', (code) => {
  const count = (label) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(output)?.[1] ?? 0);
  const total = count('Total');
  const passed = count('Passed');
  const failed = Math.max(total - passed - count('Skipped'), code === 0 ? 0 : 1);
  console.log(`\n${passed} passed, ${failed} failed`);
  process.exit(code === 0 && failed === 0 ? 0 : 1);
});
