/**
 * WIRING STUB (helper orgwire), not the handler: the lead's functions/finalize-organization-run.ts replaces this
 * file. It exists so the construct, the package build and the infra tests can register the
 * FinalizeOrganizationRun function before its code lands. It refuses every event.
 * The real handler's ledger calls, as infra/lib/ledger-access.ts declares them: ledger.getRun(…), ledger.updateRun(…).
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';

export interface FinalizeOrganizationRunDeps {
  readonly ledger: Pick<Ledger, 'getRun' | 'updateRun'>;
}

export class FinalizeOrganizationRunNotBuiltError extends Error {
  override readonly name = 'FinalizeOrganizationRunNotBuiltError';
}

export function createFinalizeOrganizationRunHandler(
  _deps: FinalizeOrganizationRunDeps,
): (event: unknown) => Promise<never> {
  return async () => {
    throw new FinalizeOrganizationRunNotBuiltError(
      'FinalizeOrganizationRun is a wiring stub: nothing was read, recorded or deleted',
    );
  };
}

export const handler = lazyHandler(() => createFinalizeOrganizationRunHandler({ ledger: ledgerFromEnv() }));
