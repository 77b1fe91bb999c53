/**
 * Names of the counted suites' tests. `bench/safety.ts` counts the tests whose names start with
 * these prefixes, so every hostile row is named through `hostile()` and every fault case starts
 * with `fault:`; nothing else may use the prefixes.
 */
export const HOSTILE_PREFIX = 'hostile:';
export const FAULT_PREFIX = 'fault:';

/** `hostile: <surface>: <what>`; `what` may hold vitest's `%s` placeholders. */
export function hostile(surface: string, what: string): string {
  return `${HOSTILE_PREFIX} ${surface}: ${what}`;
}
