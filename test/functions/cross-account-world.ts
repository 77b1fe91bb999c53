/**
 * The simulated organization of test/functions/cross-account.test.ts and test/hostile/
 * consumer-references.test.ts: the hub's CollectReferences, and one target's planning
 * (Inventory → MapGroups → FilterInUse → Rotate) through the member role, on the organization's clock.
 */
import { organizationScenario, SimulatedOrganization } from '../../cli/simulated-account/index.ts';
import { type AwsClients, createAwsClients } from '../../functions/adapters/clients.ts';
import { memberClients } from '../../functions/adapters/organization.ts';
import { MemoryWorkspace } from '../../functions/adapters/workspace.ts';
import { createCollectReferencesHandler } from '../../functions/collect-references.ts';
import type { Plan } from '../../functions/core/model.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';
import { type Target, target } from '../../functions/core/target.ts';
import type { RunContext } from '../../functions/core/workflow.ts';
import { createFilterInUseHandler } from '../../functions/filter-in-use.ts';
import { createInventoryHandler } from '../../functions/inventory.ts';
import { createMapGroupsHandler } from '../../functions/map-groups.ts';
import { createRotateHandler, rotateToPlan } from '../../functions/rotate.ts';

// The SDK checks an assumed role's Expiration against the real clock, so the simulated clock starts now.
export const START = new Date();
const HUB_ROLE = 'arn:aws:iam::123456789012:role/AmiCleaner-Inventory';
export const RUN_ID = 'org-run-1';
export const EU = 'eu-west-1';

export function world() {
  let now = START.getTime();
  const clock = () => new Date(now);
  const organization = new SimulatedOrganization({ seed: 'cross-account', clock });
  const scenario = organizationScenario(organization, { now: START });
  const hubIdentity = organization.credentialsFor(HUB_ROLE);
  const hub = target(organization.managementAccountId, EU);
  const clientsIn = (each: Target): AwsClients => {
    const clients = memberClients(each, {
      roleName: scenario.roleName,
      sessionName: `amicleaner-${RUN_ID}`,
      sourceCredentials: hubIdentity,
      stsPlugins: [organization.plugin()],
      stsRegion: EU,
    });
    for (const client of Object.values(clients)) organization.attach(client);
    return clients;
  };
  const hubClients = createAwsClients({ region: EU, maxAttempts: 1 });
  for (const client of Object.values(hubClients)) organization.attach(client, hubIdentity);
  const workspace = new MemoryWorkspace();
  const collect = createCollectReferencesHandler({
    workspace,
    clients: hubClients,
    region: EU,
    hubAccountId: hub.accountId,
    memberClientsFor: (each) => clientsIn(each),
    now: clock,
  });
  // The usage reports' bounded wait runs on the organization's clock.
  const usageReports = {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
    maxWaitMs: 180_000,
    pollIntervalMs: 10_000,
  };
  return { organization, scenario, workspace, collect, clientsIn, usageReports, clock };
}

export function runContext(settings: Partial<PlanSettings>): RunContext {
  return {
    runId: RUN_ID,
    executionArn: `arn:aws:states:eu-west-1:123456789012:execution:sm:${RUN_ID}`,
    trigger: 'manual',
    dryRun: true,
    settings: { ...DEFAULT_PLAN_SETTINGS, mappingValues: ['Team', 'Role'], ...settings },
    startedAt: START.toISOString(),
    maxDeletionsPerRun: 500,
  } as RunContext;
}

/** Inventory → MapGroups → FilterInUse → Rotate for one target, as its child execution would run them. */
export async function planTarget(
  w: ReturnType<typeof world>,
  each: Target,
  settings: Partial<PlanSettings>,
  consumers: { consumerReferenceKeys?: string[]; unreadableConsumers?: string[] } = {},
): Promise<Plan> {
  const clients = w.clientsIn(each);
  const run = runContext(settings);
  const inventory = await createInventoryHandler({
    clients,
    workspace: w.workspace,
    region: each.region,
    now: w.clock,
  })({ run });
  const groups = await createMapGroupsHandler({ workspace: w.workspace })({ run, ...inventory });
  const filtered = await createFilterInUseHandler({ workspace: w.workspace })({
    run,
    inventoryKey: inventory.inventoryKey,
    groupsKey: groups.groupsKey,
    target: each,
    ...consumers,
  });
  const rotate = createRotateHandler({
    clients,
    region: each.region,
    workspace: w.workspace,
    usageReports: w.usageReports,
  });
  const rotated = await rotateToPlan(rotate, {
    run,
    inventoryKey: inventory.inventoryKey,
    groupsKey: groups.groupsKey,
    filteredKey: filtered.filteredKey,
  });
  return w.workspace.getJson<Plan>(rotated.planKey);
}
