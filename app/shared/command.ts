import { commonFlags, type FlagSpec, type FlagValues } from './flags.js';
import type { Logger } from './log.js';

/** How long a service may take to stop unless it says otherwise. */
export const SHUTDOWN_DEADLINE_MS = 10_000;

/** A running service; `close` stops it gracefully (the caller bounds how long that may take). */
export interface Service {
  close(): Promise<void>;
  /** How long `close` may take before the process gives up and exits 1; SHUTDOWN_DEADLINE_MS when unset. */
  shutdownDeadlineMs?: number;
}

export interface Subcommand<S extends FlagSpec = FlagSpec> {
  name: string;
  /** One line for `hitl --help`. */
  summary: string;
  flags: S;
  /** Names of the arguments it takes besides flags, in order (e.g. ID); none when unset. */
  positionals?: string[];
  /** Starts a long-running service, or does a one-off job and returns nothing. */
  run(config: FlagValues<S & typeof commonFlags>, log: Logger, args: string[]): Promise<Service | void>;
}

export function defineCommand<S extends FlagSpec>(command: Subcommand<S>): Subcommand<S> {
  return command;
}
