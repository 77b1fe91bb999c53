/**
 * WIRING STUB (helper orgwire), not the handler: the lead's functions/combine-plans.ts replaces this
 * file. It exists so the construct, the package build and the infra tests can register the
 * CombinePlans function before its code lands. It refuses every event.
 * The real handler's ledger calls, as infra/lib/ledger-access.ts declares them: ledger.getRun(…), ledger.updateRun(…).
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';

export interface CombinePlansDeps {
  readonly ledger: Pick<Ledger, 'getRun' | 'updateRun'>;
}

export class CombinePlansNotBuiltError extends Error {
  override readonly name = 'CombinePlansNotBuiltError';
}

export function createCombinePlansHandler(_deps: CombinePlansDeps): (event: unknown) => Promise<never> {
  return async () => {
    throw new CombinePlansNotBuiltError(
      'CombinePlans is a wiring stub: nothing was read, recorded or deleted',
    );
  };
}

export const handler = lazyHandler(() => createCombinePlansHandler({ ledger: ledgerFromEnv() }));
