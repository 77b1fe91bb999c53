/**
 * WIRING STUB (helper orgwire), not the handler: the lead's functions/resume-target-run.ts replaces this
 * file. It exists so the construct, the package build and the infra tests can register the
 * ResumeTargetRun function before its code lands. It refuses every event.
 * The real handler's ledger calls, as infra/lib/ledger-access.ts declares them: ledger.getRun(…), ledger.getLock(…).
 */
import type { Ledger } from './adapters/ledger/index.ts';
import { lazyHandler, ledgerFromEnv } from './commons/deps.ts';

export interface ResumeTargetRunDeps {
  readonly ledger: Pick<Ledger, 'getRun' | 'getLock'>;
}

export class ResumeTargetRunNotBuiltError extends Error {
  override readonly name = 'ResumeTargetRunNotBuiltError';
}

export function createResumeTargetRunHandler(_deps: ResumeTargetRunDeps): (event: unknown) => Promise<never> {
  return async () => {
    throw new ResumeTargetRunNotBuiltError(
      'ResumeTargetRun is a wiring stub: nothing was read, recorded or deleted',
    );
  };
}

export const handler = lazyHandler(() => createResumeTargetRunHandler({ ledger: ledgerFromEnv() }));
