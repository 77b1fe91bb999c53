/** MapGroups: groups the inventory's AMIs by name or tags (scoped to the trigger AMI's group, if any). */
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { requireRecord, requireRun, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import type { Inventory } from './core/model.ts';
import { mapStep } from './core/plan.ts';
import type { RunContext } from './core/workflow.ts';

export interface MapGroupsEvent {
  readonly run: RunContext;
  readonly inventoryKey: string;
}

export interface MapGroupsResult {
  readonly groupsKey: string;
  /** Groups that may have candidates (the excluded group is not counted). */
  readonly groups: number;
  /** AMIs in `no-tags (excluded)`. */
  readonly excluded: number;
}

export interface MapGroupsDeps {
  readonly workspace: RunWorkspace;
  readonly logger?: HandlerLogger;
}

export function createMapGroupsHandler(
  deps: MapGroupsDeps,
): (event: MapGroupsEvent) => Promise<MapGroupsResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('MapGroups', async (event) => {
    const record = requireRecord(event, 'event');
    const run = requireRun(record.run);
    const inventory = await deps.workspace.getJson<Inventory>(requireString(record, 'inventoryKey'));
    const mapped = mapStep({
      images: inventory.images,
      settings: run.settings,
      ...(run.triggerImageId === undefined ? {} : { triggerImageId: run.triggerImageId }),
    });
    const groupsKey = runKey(run.runId, 'groups');
    await deps.workspace.putJson(groupsKey, mapped);
    const result = { groupsKey, groups: mapped.groups.length, excluded: mapped.excluded.length };
    logger.info('images grouped', { runId: run.runId, ...result });
    return result;
  });
}

export const handler = lazyHandler(() =>
  createMapGroupsHandler({ workspace: workspaceFromEnv(), logger: createLogger('map-groups') }),
);
