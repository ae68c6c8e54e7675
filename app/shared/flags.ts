/**
 * Typed command-line flags with `HITL_*` environment fallbacks.
 *
 * Each subcommand declares its flags once; parsing, validation, `--help` and the
 * environment fallback all come from that declaration. The flag always wins over the
 * environment, and a bad value is reported as one line naming the flag.
 */

export class ConfigError extends Error {
  constructor(readonly flag: string, problem: string) {
    super(`--${flag}: ${problem}`);
  }
}

export interface Flag<T> {
  help: string;
  /** Shown in --help; a flag without a default is optional unless `required`. */
  default?: T;
  required?: boolean;
  /** Repeatable flags collect every occurrence; from the environment they are comma-separated. */
  repeatable?: boolean;
  /** Turns one raw value into T, throwing an Error whose message says what is wrong. */
  parse: (raw: string) => T;
  /** Placeholder in --help, e.g. PORT. */
  metavar: string;
  /** How --help shows the default, when String() would not read well. */
  show?: (value: T) => string;
  /** How an invocation writes a value back as text `parse` reads, when String() would not do. */
  toArg?: (value: T) => string;
  /** Set on a port the service listens on: the port's name, as a Service or container names it. */
  listens?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each flag has its own value type
export type FlagSpec = Record<string, Flag<any>>;

// Inferred from `parse`, so a repeatable flag's default (a list) does not widen its value type.
type ValueOf<F> = F extends { parse: (raw: string) => infer T }
  ? F extends { repeatable: true }
    ? T[]
    : F extends { default: unknown } | { required: true }
      ? T
      : T | undefined
  : never;

export type FlagValues<S extends FlagSpec> = { [K in keyof S]: ValueOf<S[K]> };

export const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
export const envName = (key: string) => `HITL_${kebab(key).replace(/-/g, '_').toUpperCase()}`;

/**
 * Reads `argv` against `spec`. Arguments that are not flags (nor a flag's value) are collected
 * into `positional` when the caller takes any, and refused otherwise.
 */
export function parseFlags<S extends FlagSpec>(
  spec: S,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  positional?: string[],
): FlagValues<S> {
  const byName = new Map(Object.keys(spec).map((key) => [kebab(key), key]));
  const raw = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--') && positional) {
      positional.push(arg);
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(arg, 'unexpected argument (flags look like --name value)');
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const key = byName.get(name);
    if (!key) throw new ConfigError(name, 'unknown flag (see --help)');
    let value: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    if (value === undefined) {
      if (spec[key].metavar === '') value = 'true';
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new ConfigError(name, 'needs a value');
    }
    const seen = raw.get(key) ?? [];
    if (seen.length > 0 && !spec[key].repeatable) throw new ConfigError(name, 'given more than once');
    raw.set(key, [...seen, value]);
  }

  const values: Record<string, unknown> = {};
  for (const [key, flag] of Object.entries(spec)) {
    const name = kebab(key);
    let given = raw.get(key);
    if (!given) {
      const fromEnv = env[envName(key)];
      if (fromEnv !== undefined && fromEnv !== '') {
        given = flag.repeatable ? fromEnv.split(',').map((s) => s.trim()).filter(Boolean) : [fromEnv];
      }
    }
    if (!given) {
      if (flag.required) throw new ConfigError(name, `is required (or set ${envName(key)})`);
      values[key] = flag.repeatable ? (flag.default ?? []) : flag.default;
      continue;
    }
    const parsed = given.map((text) => {
      try {
        return flag.parse(text);
      } catch (err) {
        throw new ConfigError(name, `${JSON.stringify(text)} ${(err as Error).message}`);
      }
    });
    values[key] = flag.repeatable ? parsed : parsed[0];
  }
  return values as FlagValues<S>;
}

export function flagHelp(spec: FlagSpec): string {
  const rows = Object.entries(spec).map(([key, flag]) => {
    const left = `  --${kebab(key)}${flag.metavar ? ` ${flag.metavar}` : ''}`;
    const shown = flag.default === undefined ? '' : ` (default ${flag.show ? flag.show(flag.default) : describeDefault(flag.default)})`;
    const repeat = flag.repeatable ? ' (repeatable)' : '';
    return [left, `${flag.help}${shown}${repeat} [${envName(key)}]`] as const;
  });
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  return rows.map(([left, right]) => left.padEnd(width) + right).join('\n');
}

function describeDefault(value: unknown): string {
  if (Array.isArray(value)) return value.length ? value.join(',') : 'none';
  return String(value);
}

// ---- value parsers -------------------------------------------------------------------

export function int(opts: { min?: number; max?: number } = {}) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw)) throw new Error('is not a whole number');
    const n = Number(raw);
    if (opts.min !== undefined && n < opts.min) throw new Error(`is below ${opts.min}`);
    if (opts.max !== undefined && n > opts.max) throw new Error(`is above ${opts.max}`);
    return n;
  };
}

export const port = int({ min: 0, max: 65535 });

/** A port the service listens on, named as a Service names it (`http`, `grpc`, `admin`). */
export function listeningPort<N extends string>(name: N, help: string, defaultPort: number): Flag<number> & { default: number; listens: N } {
  return { help, default: defaultPort, parse: port, metavar: 'PORT', listens: name };
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses "500ms", "30s", "10m", "1h", "1m30s" into milliseconds. */
export function durationMs(raw: string): number {
  const parts = [...raw.matchAll(/(\d+)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== raw) {
    throw new Error('is not a duration (like 30s, 10m, 1h30m)');
  }
  const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * units[unit], 0);
  if (ms <= 0) throw new Error('must be longer than zero');
  return ms;
}

/** A duration flag: given and shown as text ("10m"), held in milliseconds. */
export function duration(help: string, defaultText: string): Flag<number> & { default: number } {
  return {
    help,
    default: durationMs(defaultText),
    parse: durationMs,
    metavar: 'DURATION',
    show: formatDuration,
    toArg: (ms) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`),
  };
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

export function oneOf<T extends string>(...choices: T[]) {
  return (raw: string): T => {
    if (!choices.includes(raw as T)) throw new Error(`is not one of ${choices.join(', ')}`);
    return raw as T;
  };
}

export function url(protocols: string[] = ['http:', 'https:']) {
  return (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new Error('is not a URL');
    }
    if (!protocols.includes(parsed.protocol)) throw new Error(`must use ${protocols.join(' or ')}`);
    return raw.replace(/\/+$/, '');
  };
}

export function text(raw: string): string {
  if (raw.trim() === '') throw new Error('is empty');
  return raw;
}

export function bool(raw: string): boolean {
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new Error('is not true or false');
}

/** "host:port" with a numeric port. */
export function hostPort(raw: string): string {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(raw);
  if (!match) throw new Error('is not host:port');
  port(match[2]);
  return raw;
}

// ---- flags every service shares ---------------------------------------------------------

export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

export const commonFlags = {
  host: { help: 'address to listen on', default: '0.0.0.0', parse: text, metavar: 'ADDR' },
  logLevel: { help: 'log level', default: 'info' as LogLevel, parse: oneOf(...logLevels), metavar: 'LEVEL' },
} satisfies FlagSpec;
