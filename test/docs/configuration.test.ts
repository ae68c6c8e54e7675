import { execFileSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('docs/configuration.md matches every subcommand\'s --help', () => {
  try {
    execFileSync(process.execPath, ['scripts/configuration.mjs', '--check'], { stdio: 'pipe' });
  } catch (err) {
    assert.unreachable(String((err as { stderr?: Buffer }).stderr ?? err));
  }
});

test.run();
