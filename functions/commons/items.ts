/**
 * Loading the ledger item a per-item deletion step acts on, with the checks every such step
 * makes first: the item exists, belongs to this plan, and is in a status the step may act on.
 */
import type { ItemKind, Ledger, LedgerItem } from '../adapters/ledger/index.ts';
import type { ItemStatus } from '../core/workflow.ts';
import { NotApprovedError } from './errors.ts';

export type ItemCheck =
  /** Act on the item. */
  | { readonly act: true; readonly item: LedgerItem }
  /** The step already happened (a retry or a re-run): do nothing. */
  | { readonly act: false; readonly item: LedgerItem };

/**
 * `actOn`: statuses the step acts on. `done`: statuses meaning the step (or a later one) already
 * ran, so a repeat is a no-op. Any other status, a missing item or another plan hash throws
 * NotApprovedError: acting on it could delete something nobody approved.
 */
export async function loadItem(
  ledger: Ledger,
  target: { readonly runId: string; readonly planHash: string; readonly kind: ItemKind; readonly id: string },
  statuses: { readonly actOn: readonly ItemStatus[]; readonly done: readonly ItemStatus[] },
): Promise<ItemCheck> {
  const { runId, planHash, kind, id } = target;
  const item = await ledger.getItem(runId, kind, id);
  const what = `${kind === 'IMAGE' ? 'AMI' : 'snapshot'} ${id} of run ${runId}`;
  if (!item) throw new NotApprovedError(`${what} is not in the ledger`);
  if (item.planHash !== planHash)
    throw new NotApprovedError(`${what} belongs to another plan than ${planHash}`);
  if (statuses.done.includes(item.status)) return { act: false, item };
  if (!statuses.actOn.includes(item.status)) {
    throw new NotApprovedError(`${what} is ${item.status}, not ${statuses.actOn.join(' or ')}`);
  }
  return { act: true, item };
}
