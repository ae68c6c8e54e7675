import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff, pause } from '../../app/shared/backoff.js';

test('each wait doubles the last, up to the cap; a reset starts again from the first', () => {
  const backoff = new Backoff(250, 5_000);
  assert.equal([1, 2, 3, 4, 5, 6, 7].map(() => backoff.next()), [250, 500, 1000, 2000, 4000, 5000, 5000]);
  backoff.reset();
  assert.is(backoff.next(), 250);
});

test('a pause ends when its signal aborts, however long it was to last', async () => {
  const stop = new AbortController();
  const paused = pause(24 * 3_600_000, stop.signal).then(() => 'ended');
  stop.abort();
  assert.is(await paused, 'ended');
});

test('a pause asked for after the abort ends at once', async () => {
  const stop = new AbortController();
  stop.abort();
  assert.is(await pause(24 * 3_600_000, stop.signal).then(() => 'ended'), 'ended');
});

test.run();
