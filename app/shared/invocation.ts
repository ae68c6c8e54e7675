/**
 * Invocations built from the flag specs, so whatever starts a subcommand (a Deployment, `hitl
 * dev`, a test) says what it wants in the spec's own typed terms and cannot name a flag the
 * binary lacks, or a port the container does not open.
 */
import { commonFlags, kebab, parseFlags, type FlagSpec, type FlagValues } from './flags.js';

/** The argv that gives `values`, flag by flag in the order given; unset values are left to the defaults. */
export function argv<S extends FlagSpec>(spec: S, values: Partial<FlagValues<S>>): string[] {
  const args: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    const flag = spec[key];
    if (!flag) throw new Error(`no flag ${key} in this spec`);
    if (value === undefined) continue;
    const name = `--${kebab(key)}`;
    for (const item of flag.repeatable ? (value as unknown[]) : [value]) {
      if (flag.metavar === '') args.push(item ? name : `${name}=false`);
      else args.push(name, flag.toArg ? flag.toArg(item) : String(item));
    }
  }
  return args;
}

export interface ListeningPort<N extends string = string> {
  /** The port's name, as a Service names it. */
  name: N;
  /** The flag that sets it, e.g. `admin-port`. */
  flag: string;
  port: number;
}

/** The names of the ports a spec's service listens on, e.g. `'grpc' | 'admin'`. */
export type PortName<S extends FlagSpec> = { [K in keyof S]: S[K] extends { listens: infer N extends string } ? N : never }[keyof S];

/** The ports a service started with `values` listens on: the spec's listening flags, given or defaulted. */
export function listeningPorts<S extends FlagSpec>(spec: S, values: Partial<FlagValues<S>> = {}): ListeningPort<PortName<S>>[] {
  return Object.entries(spec)
    .filter(([, flag]) => flag.listens)
    .map(([key, flag]) => ({ name: flag.listens as PortName<S>, flag: kebab(key), port: ((values as Record<string, unknown>)[key] ?? flag.default) as number }));
}

/** A whole configuration: every flag's default (as the binary would take it with no flags and no environment), then `overrides`. */
export function configWith<S extends FlagSpec>(spec: S, overrides: Partial<FlagValues<S & typeof commonFlags>> = {}): FlagValues<S & typeof commonFlags> {
  return { ...parseFlags({ ...commonFlags, ...spec }, [], {}), ...overrides } as FlagValues<S & typeof commonFlags>;
}
