import type { Test } from 'uvu';

/**
 * `register` itself when what its cases need is here; otherwise a stand-in that counts every
 * case it registers as skipped (never as passed) and never runs its hooks, which would reach
 * for what is missing.
 */
export function skippedUnless<T>(available: boolean, register: Test<T>): Test<T> {
  if (available) return register;
  const ignoredHook = Object.assign(() => {}, { each: () => {} });
  return Object.assign((name: string) => register.skip(name), {
    only: register.only,
    skip: register.skip,
    before: ignoredHook,
    after: ignoredHook,
    run: register.run,
  });
}
