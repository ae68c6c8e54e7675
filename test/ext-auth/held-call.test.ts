// A held call stops waiting once, however many of its endings arrive: a caller that goes
// while its hold is ending must not be recorded as leaving twice (each leaving lowers the
// request's count of waiting callers in the store).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HeldCall, type Caller, type HoldEnd } from '../../app/ext-auth/held-call.js';

class TestCaller implements Caller {
  gone = false;
  listener: (() => void) | null = null;

  onGone(listener: (() => void) | null): void {
    this.listener = listener;
  }

  leave(): void {
    this.gone = true;
    this.listener?.();
  }
}

const REQUEST = { id: 'request-1', gate: 'platform', expiresAt: new Date(Date.now() + 60_000).toISOString() };

const held = (caller: Caller) => new HeldCall(REQUEST, null, '{}', Date.now(), caller, () => undefined);

/**
 * For a timer that must not fire: resolves after every timer already due within `ms`, since
 * Node runs timers in the order they fall due. A timer that must fire is awaited itself.
 */
const timersDueWithin = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms + 1));

test('the hold running out gives up with the reason it was set for', async () => {
  const why = await new Promise<HoldEnd>((resolve) => held(new TestCaller()).wait(0, 'hold_ended', (_, why) => resolve(why)));
  assert.is(why, 'hold_ended');
});

test('a caller gone before the hold starts gives up at once as abandoned, and its timer never fires', async () => {
  const caller = new TestCaller();
  caller.gone = true;
  const endings: HoldEnd[] = [];
  held(caller).wait(0, 'hold_ended', (_, why) => endings.push(why));
  assert.equal(endings, ['abandoned']);
  await timersDueWithin(0);
  assert.equal(endings, ['abandoned']);
  assert.is(caller.listener, null, 'nobody listens to a caller that already left');
});

test('a caller leaving after its hold ran out is not heard', async () => {
  const caller = new TestCaller();
  const endings: HoldEnd[] = [];
  await new Promise<void>((resolve) =>
    held(caller).wait(0, 'timed_out', (_, why) => {
      endings.push(why);
      resolve();
    }),
  );
  assert.is(caller.listener, null, 'the listener is removed as the hold gives up');
  caller.leave();
  assert.equal(endings, ['timed_out']);
});

test('a caller leaving stops the timer', async () => {
  const caller = new TestCaller();
  const endings: HoldEnd[] = [];
  held(caller).wait(0, 'hold_ended', (_, why) => endings.push(why));
  caller.leave();
  caller.leave();
  await timersDueWithin(0);
  assert.equal(endings, ['abandoned']);
});

test('a call is answered once: ending it again says so, and it stops listening', async () => {
  const caller = new TestCaller();
  const endings: HoldEnd[] = [];
  const call = held(caller);
  call.wait(0, 'hold_ended', (_, why) => endings.push(why));
  assert.is(call.end(), true);
  assert.is(call.end(), false);
  assert.is(caller.listener, null);
  call.leave('abandoned');
  await timersDueWithin(0);
  assert.equal(endings, [], 'an answered call neither times out nor hears its caller');
});

test('a call that is giving up can still be answered, once', () => {
  const call = held(new TestCaller());
  call.wait(60_000, 'hold_ended', () => undefined);
  call.leave('abandoned');
  assert.is(call.end(), true);
  assert.is(call.end(), false);
});

test.run();
