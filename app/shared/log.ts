import { pino, type Logger } from 'pino';
import type { LogLevel } from './flags.js';

export type { Logger };

/** One JSON object per line on stdout, tagged with the subcommand that wrote it. */
export function createLogger(service: string, level: LogLevel): Logger {
  return pino({
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
