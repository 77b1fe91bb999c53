/**
 * FilterInUse: resolves every reference in the inventory and sets referenced AMIs aside (kept
 * IN_USE, with what references them). An unresolvable reference fails the run (fail closed).
 */
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import type { Inventory } from './core/model.ts';
import { filterInUseStep, type MappedGroups } from './core/plan.ts';
import type { RunContext } from './core/workflow.ts';

export interface FilterInUseEvent {
  readonly run: RunContext;
  readonly inventoryKey: string;
  readonly groupsKey: string;
}

export interface FilterInUseResult {
  readonly filteredKey: string;
  /** AMIs of the mapped groups kept because something references them. */
  readonly inUse: number;
}

export interface FilterInUseDeps {
  readonly workspace: RunWorkspace;
  readonly logger?: HandlerLogger;
}

export function createFilterInUseHandler(
  deps: FilterInUseDeps,
): (event: FilterInUseEvent) => Promise<FilterInUseResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('FilterInUse', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const [inventory, mapped] = await Promise.all([
      deps.workspace.getJson<Inventory>(requireString(record, 'inventoryKey')),
      deps.workspace.getJson<MappedGroups>(requireString(record, 'groupsKey')),
    ]);
    const filtered = filterInUseStep({ inventory, mapped });
    const filteredKey = runKey(run.runId, 'filtered');
    await deps.workspace.putJson(filteredKey, filtered);
    const inUse = filtered.groups.reduce((sum, group) => sum + group.inUse.length, 0);
    logger.info('in-use images set aside', { runId: run.runId, filteredKey, inUse });
    return { filteredKey, inUse };
  });
}

export const handler = lazyHandler(() =>
  createFilterInUseHandler({ workspace: workspaceFromEnv(), logger: createLogger('filter-in-use') }),
);
