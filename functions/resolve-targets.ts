/**
 * WIRING STUB (helper orgwire), not the handler: the lead's functions/resolve-targets.ts replaces this
 * file. It exists so the construct, the package build and the infra tests can register the
 * ResolveTargets function before its code lands. It refuses every event.
 * The real handler's ledger calls, as infra/lib/ledger-access.ts declares them: ledger.putRun(…).
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';

export interface ResolveTargetsDeps {
  readonly ledger: Pick<Ledger, 'putRun'>;
}

export class ResolveTargetsNotBuiltError extends Error {
  override readonly name = 'ResolveTargetsNotBuiltError';
}

export function createResolveTargetsHandler(_deps: ResolveTargetsDeps): (event: unknown) => Promise<never> {
  return async () => {
    throw new ResolveTargetsNotBuiltError(
      'ResolveTargets is a wiring stub: nothing was read, recorded or deleted',
    );
  };
}

export const handler = lazyHandler(() => createResolveTargetsHandler({ ledger: ledgerFromEnv() }));
