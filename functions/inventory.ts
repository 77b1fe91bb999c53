/**
 * Inventory: reads every AMI, snapshot and reference source of the region, every page, and
 * stores the result in the run workspace. Fails closed: a read that fails or stops early fails
 * the run (retryable failures first surface as TransientAwsError, which the state retries).
 */
import { type InventoryClients, readInventory } from './adapters/inventory.ts';
import { type RunWorkspace, runKey } from './adapters/workspace.ts';
import { lazyHandler, targetClientsFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { classifyFailures } from './commons/errors.ts';
import { requireRecord, requireRun } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import type { Inventory } from './core/model.ts';
import type { RunContext } from './core/workflow.ts';

export interface InventoryEvent {
  readonly run: RunContext;
}

export interface InventoryCounts {
  readonly images: number;
  readonly snapshots: number;
  readonly instances: number;
  readonly launchTemplates: number;
  readonly launchTemplateVersions: number;
  readonly launchConfigurations: number;
  readonly autoScalingGroups: number;
  readonly ssmParameters: number;
}

export interface InventoryResult {
  readonly inventoryKey: string;
  readonly counts: InventoryCounts;
}

/** `clients`/`region`: the hub's own; a run with a `target` is read there (commons/target-clients.ts). */
export interface InventoryDeps extends TargetClientsDeps<InventoryClients> {
  readonly workspace: RunWorkspace;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

export function createInventoryHandler(
  deps: InventoryDeps,
): (event: InventoryEvent) => Promise<InventoryResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('Inventory', async (event) => {
    const run = requireRun(requireRecord(event, 'event').run);
    const { clients, region } = await targetClients(deps, run);
    const inventory = await readInventory(clients, {
      region,
      ssmParameterPaths: run.settings.ssmParameterPaths,
      // The orphan sweep never runs in a triggered run (see orphanStep), so its snapshots are not read.
      includeSnapshots: run.settings.checkOrphans && run.triggerImageId === undefined,
      now: deps.now,
    });
    const inventoryKey = runKey(run.runId, 'inventory');
    await deps.workspace.putJson(inventoryKey, inventory);
    const counts = countInventory(inventory);
    logger.info('inventory read', { runId: run.runId, inventoryKey, ...counts });
    return { inventoryKey, counts };
  });
}

export function countInventory(inventory: Inventory): InventoryCounts {
  return {
    images: inventory.images.length,
    snapshots: inventory.snapshots.length,
    instances: inventory.instances.length,
    launchTemplates: inventory.launchTemplates.length,
    launchTemplateVersions: inventory.launchTemplateVersions.length,
    launchConfigurations: inventory.launchConfigurations.length,
    autoScalingGroups: inventory.autoScalingGroups.length,
    ssmParameters: inventory.ssmParameters.length,
  };
}

export const handler = lazyHandler(() =>
  createInventoryHandler({
    ...targetClientsFromEnv(),
    workspace: workspaceFromEnv(),
    now: () => new Date(),
    logger: createLogger('inventory'),
  }),
);
