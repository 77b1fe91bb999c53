/**
 * FilterInUse: resolves every reference in the inventory and sets referenced AMIs aside (kept
 * IN_USE, with what references them). An unresolvable reference fails the run (fail closed).
 *
 * In a run over several targets it also unions, before any rotation, the references the other
 * targets of the same region wrote (`consumerReferenceKeys`, from CollectReferences): an AMI any
 * of those accounts uses is kept IN_USE_BY_ACCOUNT, naming the account. A key that is missing,
 * unreadable, of another run or region, or whose document does not match it fails the run.
 */
import { readConsumerReferences } from './adapters/consumer-references.ts';
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { RUN_ID, requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { consumersOfTargetRun } from './commons/target-consumers.ts';
import type { Inventory } from './core/model.ts';
import { type ConsumerAccounts, filterInUseStep, type MappedGroups } from './core/plan.ts';
import { isAccountId, target } from './core/target.ts';
import type { RunContext } from './core/workflow.ts';

export interface FilterInUseEvent {
  readonly run: RunContext;
  readonly inventoryKey: string;
  readonly groupsKey: string;
  /** The planned target; absent in a single-target run (the hub's own account and region). */
  readonly target?: { readonly accountId: string; readonly region: string };
  /** The `referencesKey`s of the OTHER targets in the same region. Default: none. */
  readonly consumerReferenceKeys?: readonly string[];
  /**
   * The run whose CollectReferences wrote those keys: the parent's, when this is a child execution
   * with a run id of its own. Default: `run.runId`. Keys of any other run are refused.
   */
  readonly referencesRunId?: string;
  /** Accounts of the same region whose CollectReferences failed: a shared AMI is then kept. */
  readonly unreadableConsumers?: readonly string[];
}

export interface FilterInUseResult {
  readonly filteredKey: string;
  /** AMIs of the mapped groups kept because something references them (here or in another account). */
  readonly inUse: number;
}

export interface FilterInUseDeps {
  readonly workspace: RunWorkspace;
  readonly logger?: HandlerLogger;
}

function optionalList(record: Record<string, unknown>, field: string): readonly unknown[] {
  const value = record[field];
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidEventError(`${field} must be a list`);
  return value;
}

export function createFilterInUseHandler(
  deps: FilterInUseDeps,
): (event: FilterInUseEvent) => Promise<FilterInUseResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('FilterInUse', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const given =
      record.target === undefined
        ? undefined
        : (() => {
            const value = requireRecord(record.target, 'target');
            return target(value.accountId, value.region);
          })();
    // A target run plans its own target: the event's, if given, must be the run's.
    const own = run.target === undefined ? undefined : target(run.target.accountId, run.target.region);
    if (given !== undefined && own !== undefined && given.key !== own.key)
      throw new InvalidEventError(`target ${given.key} is not the run's target ${own.key}`);
    const planned = given ?? own;
    // A target run of an organization run finds its consumers itself, from the parent's workspace.
    const derived =
      record.consumerReferenceKeys === undefined
        ? await consumersOfTargetRun(deps.workspace, run)
        : undefined;
    if (derived) Object.assign(record, derived);
    const consumerKeys = optionalList(record, 'consumerReferenceKeys');
    const unreadable = optionalList(record, 'unreadableConsumers');
    if (!unreadable.every(isAccountId))
      throw new InvalidEventError('unreadableConsumers must be a list of account ids');
    const [inventory, mapped] = await Promise.all([
      deps.workspace.getJson<Inventory>(requireString(record, 'inventoryKey')),
      deps.workspace.getJson<MappedGroups>(requireString(record, 'groupsKey')),
    ]);
    if (planned !== undefined && planned.region !== inventory.region)
      throw new InvalidEventError(`target ${planned.key} is not the inventory's region ${inventory.region}`);
    const multiTarget = consumerKeys.length > 0 || unreadable.length > 0;
    const consumerReferences = multiTarget
      ? await readConsumerReferences(
          deps.workspace,
          record.referencesRunId === undefined ? run.runId : requireString(record, 'referencesRunId', RUN_ID),
          { region: inventory.region, ...(planned === undefined ? {} : { accountId: planned.accountId }) },
          consumerKeys,
        )
      : undefined;
    const consumers: ConsumerAccounts | undefined =
      consumerReferences === undefined
        ? undefined
        : {
            readable: consumerReferences.documents.map((d) => d.accountId).sort(),
            unreadable: [...new Set(unreadable as string[])].sort(),
          };
    const filtered = filterInUseStep({
      inventory,
      mapped,
      ...(consumerReferences === undefined ? {} : { consumerUse: consumerReferences.useByImage }),
      ...(consumers === undefined ? {} : { consumers }),
    });
    const filteredKey = runKey(run.runId, 'filtered');
    await deps.workspace.putJson(filteredKey, filtered);
    const inUse = filtered.groups.reduce((sum, group) => sum + group.inUse.length, 0);
    logger.info('in-use images set aside', {
      runId: run.runId,
      filteredKey,
      inUse,
      consumers: consumers?.readable.length ?? 0,
      unreadableConsumers: consumers?.unreadable.length ?? 0,
    });
    return { filteredKey, inUse };
  });
}

export const handler = lazyHandler(() =>
  createFilterInUseHandler({ workspace: workspaceFromEnv(), logger: createLogger('filter-in-use') }),
);
