/**
 * One-shot planning for the CLI: the same core steps the workflow's Lambdas run one by one
 * (map, filter in-use, sharing check, rotate, AWS's reference check, orphans), here in a single process.
 */

import type { AwsClients } from '../functions/adapters/clients.ts';
import { readInventory } from '../functions/adapters/inventory.ts';
import { rotateWithAwsChecks } from '../functions/adapters/reference-checks.ts';
import type { Plan } from '../functions/core/model.ts';
import { assemblePlan, filterInUseStep, mapStep, orphanStep } from '../functions/core/plan.ts';
import type { PlanSettings } from '../functions/core/settings.ts';

export async function planAccount(
  clients: AwsClients,
  settings: PlanSettings,
  options: {
    region: string;
    now: () => Date;
    /** The run's cap (`--max-deletions`): at most this many AMIs are checked for sharing. */
    maxDeletionsPerRun: number;
  },
): Promise<Plan> {
  const inventory = await readInventory(clients, {
    region: options.region,
    ssmParameterPaths: settings.ssmParameterPaths,
    includeSnapshots: settings.checkOrphans,
    now: options.now,
  });
  const now = options.now();
  const mapped = mapStep({ images: inventory.images, settings });
  const filtered = filterInUseStep({ inventory, mapped });
  // Launch permissions cost one call per AMI, so only would-be candidates are looked up, and no
  // more than a run may delete (oldest first); the others are kept MAX_DELETIONS_PER_RUN. Then
  // AWS's DescribeImageReferences must agree that each candidate is unused.
  const limit = options.maxDeletionsPerRun;
  const usage = { runId: `cli-${now.toISOString().replace(/[^0-9]/g, '')}` };
  const groups = await rotateWithAwsChecks(clients.ec2, { filtered, settings, now, limit, usage });
  const orphanSnapshots = orphanStep({ inventory, settings });
  return assemblePlan({
    region: inventory.region,
    now,
    groups,
    orphanSnapshots,
    images: inventory.images,
    maxDeletionsPerRun: limit,
  });
}
