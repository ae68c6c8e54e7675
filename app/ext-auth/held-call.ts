/**
 * A parked Check while it waits. Tens of thousands may wait at once, each for minutes, so a
 * held call is one plain object (a timer and one listener on its caller), not a handful of
 * closures, and keeps what answering it needs, nothing of the request it came from: the
 * card's data is in the store.
 */
import type { ApprovalRequest } from '../contracts/admin-api.js';
import type { CheckAnswer } from './gate.js';

/**
 * The gateway's side of one Check, as the gate sees it. Not an AbortSignal: a signal with its
 * listener cost each parked call about 0.7 KiB (every signal gets a hidden class of its own),
 * where listening to the transport's own event costs one closure.
 */
export interface Caller {
  /** The gateway gave up on the call before its answer. */
  readonly gone: boolean;
  /** `listener` runs when the caller goes before its answer; null stops listening. */
  onGone(listener: (() => void) | null): void;
}

/** Why a held call stops waiting without a decision. */
export type HoldEnd = 'timed_out' | 'abandoned' | 'hold_ended';

export class HeldCall {
  readonly id: string;
  readonly gate: string;
  readonly expiresAt: string;
  private timer: NodeJS.Timeout | undefined;
  private giveUp: ((call: HeldCall, why: HoldEnd) => void) | undefined;
  private state: 'waiting' | 'giving up' | 'ended' = 'waiting';

  constructor(
    request: Pick<ApprovalRequest, 'id' | 'gate' | 'expiresAt'>,
    readonly traceparent: string | null,
    /** The call as sent, to answer a refusal in its own JSON-RPC terms. */
    readonly rpcBody: string,
    readonly parkedAt: number,
    readonly caller: Caller,
    /** Answers the Check. */
    readonly answer: (answer: Promise<CheckAnswer>) => void,
  ) {
    this.id = request.id;
    this.gate = request.gate;
    this.expiresAt = request.expiresAt;
  }

  /** Waits: `giveUp` runs once, with `due` after `ms`, or with 'abandoned' as soon as the caller goes. */
  wait(ms: number, due: Exclude<HoldEnd, 'abandoned'>, giveUp: (call: HeldCall, why: HoldEnd) => void): void {
    this.giveUp = giveUp;
    this.timer = setTimeout(leave, ms, this, due);
    if (this.caller.gone) this.leave('abandoned');
    else this.caller.onGone(() => this.leave('abandoned'));
  }

  /**
   * Stops waiting for time or the caller, once: a caller that goes while its hold is ending
   * must not be counted as leaving twice.
   */
  leave(why: HoldEnd): void {
    if (this.state !== 'waiting') return;
    this.state = 'giving up';
    this.stopListening();
    this.giveUp!(this, why);
  }

  /** Marks the call answered; false when it already was. */
  end(): boolean {
    if (this.state === 'ended') return false;
    this.state = 'ended';
    this.stopListening();
    return true;
  }

  private stopListening(): void {
    clearTimeout(this.timer);
    this.caller.onGone(null);
  }
}

/** The timer's callback, shared by every held call: its arguments name the call and why. */
const leave = (call: HeldCall, why: HoldEnd) => call.leave(why);
