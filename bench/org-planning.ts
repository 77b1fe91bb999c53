/**
 * Planning across an organization (issue 9 §6): 10 targets × 10,000 AMIs in one region of the
 * simulated organization, every call through the member role. Phase 1 runs CollectReferences in
 * every target; phase 2 plans each target (Inventory, MapGroups, FilterInUse with the 9 other
 * targets' references, Rotate), 10 at once as the parent's inline Map would. No rate limits: this
 * measures our code and the SDK (EC2's buckets are the throughput bench's business).
 *
 * Printed: wall time of each phase, peak RSS, and the API calls made beside the fewest the page
 * sizes allow (every page full: ceil(items / page size), at least one call per read).
 */

import { SimulatedOrganization } from '../cli/simulated-account/organization.ts';
import { generatedScenario } from '../cli/simulated-account/seeds.ts';
import { type AwsClients, createAwsClients } from '../functions/adapters/clients.ts';
import { IMAGE_REFERENCES_BATCH } from '../functions/adapters/image-references.ts';
import { PAGE_SIZE } from '../functions/adapters/inventory.ts';
import { memberClients } from '../functions/adapters/organization.ts';
import { MemoryWorkspace } from '../functions/adapters/workspace.ts';
import { createCollectReferencesHandler } from '../functions/collect-references.ts';
import { DEFAULT_MAX_DELETIONS_PER_RUN } from '../functions/core/quotas.ts';
import { DEFAULT_PLAN_SETTINGS } from '../functions/core/settings.ts';
import { crossTargets, DEFAULT_MEMBER_ROLE_NAME, type Target } from '../functions/core/target.ts';
import type { RunContext } from '../functions/core/workflow.ts';
import { createFilterInUseHandler } from '../functions/filter-in-use.ts';
import { createInventoryHandler } from '../functions/inventory.ts';
import { createMapGroupsHandler } from '../functions/map-groups.ts';
import { createRotateHandler, rotateToPlan } from '../functions/rotate.ts';
import { int, ms, printTable, type Row, type SummaryRow } from './harness.ts';

const TARGETS = 10;
const IMAGES = 10_000;
const GROUPS = 50;
const REGION = 'eu-west-1';
const RUN_ID = 'org-bench';
/** The construct's default cap, so the figure is the shipped configuration's. */
const CAP = DEFAULT_MAX_DELETIONS_PER_RUN;
const HUB_ROLE = 'arn:aws:iam::123456789012:role/AmiCleaner-Bench';

const pages = (items: number, size: number): number => Math.max(1, Math.ceil(items / size));

export async function runOrgPlanning(): Promise<SummaryRow[]> {
  const now = new Date();
  const organization = new SimulatedOrganization({ seed: 'org-bench', clock: () => now });
  const accountIds = Array.from({ length: TARGETS }, (_, i) => `1000000000${String(i + 1).padStart(2, '0')}`);
  const seeded = accountIds.map((accountId) => {
    organization.addAccount({ accountId, name: `workload-${accountId.slice(-2)}` });
    organization.addRole(accountId, DEFAULT_MEMBER_ROLE_NAME, {
      hubAccountId: organization.managementAccountId,
      hubPrincipalArns: [HUB_ROLE],
    });
    const account = organization.account(accountId, REGION);
    return {
      account,
      scenario: generatedScenario(account, { images: IMAGES, groups: GROUPS, now, seed: accountId }),
    };
  });
  // Each account runs one image of the next: the union has something to find.
  seeded.forEach(({ account }, i) => {
    const next = seeded[(i + 1) % seeded.length]?.scenario.inUseImageIds[0] as string;
    account.addInstance({ imageId: next, launchTime: now });
  });
  const hubIdentity = organization.credentialsFor(HUB_ROLE);
  const clientsIn = (each: Target): AwsClients => {
    const clients = memberClients(each, {
      roleName: DEFAULT_MEMBER_ROLE_NAME,
      sessionName: `amicleaner-${RUN_ID}`,
      sourceCredentials: hubIdentity,
      stsPlugins: [organization.plugin()],
      stsRegion: REGION,
    });
    for (const client of Object.values(clients)) organization.attach(client);
    return clients;
  };
  const workspace = new MemoryWorkspace();
  const targets = crossTargets(accountIds, [REGION]);
  const parentRun = {
    runId: RUN_ID,
    executionArn: `arn:aws:states:${REGION}:123456789012:execution:sm:${RUN_ID}`,
    trigger: 'manual',
    dryRun: true,
    settings: DEFAULT_PLAN_SETTINGS,
    startedAt: now.toISOString(),
    maxDeletionsPerRun: CAP,
  } as RunContext;
  for (const { account } of seeded) account.calls.length = 0;

  const collect = createCollectReferencesHandler({
    workspace,
    clients: createAwsClients({ region: REGION }),
    region: REGION,
    hubAccountId: organization.managementAccountId,
    memberClientsFor: (each) => clientsIn(each),
    now: () => now,
  });
  const t0 = performance.now();
  const collected = await Promise.all(targets.map((each) => collect({ runId: RUN_ID, target: each })));
  const t1 = performance.now();
  const plans = await Promise.all(
    targets.map(async (each) => {
      const clients = clientsIn(each);
      // Each target plans in a child execution with a run id of its own (its own workspace keys).
      const run = { ...parentRun, runId: `${RUN_ID}-${each.key}` };
      const inventory = await createInventoryHandler({ clients, workspace, region: REGION, now: () => now })({
        run,
      });
      const groups = await createMapGroupsHandler({ workspace })({ run, ...inventory });
      const consumerReferenceKeys = collected
        .filter((c) => c.target.key !== each.key)
        .map((c) => c.referencesKey);
      const filtered = await createFilterInUseHandler({ workspace })({
        run,
        inventoryKey: inventory.inventoryKey,
        groupsKey: groups.groupsKey,
        target: each,
        consumerReferenceKeys,
        referencesRunId: RUN_ID,
      });
      return rotateToPlan(createRotateHandler({ clients, region: REGION, workspace }), {
        run,
        ...inventory,
        ...groups,
        ...filtered,
      });
    }),
  );
  const t2 = performance.now();
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;

  // Calls made, summed over the targets, beside the fewest full pages could make.
  const made = new Map<string, number>();
  for (const { account } of seeded) {
    for (const call of account.calls) made.set(call.command, (made.get(call.command) ?? 0) + 1);
  }
  const candidates = plans.reduce((n, p) => n + p.candidates, 0);
  const perTarget = {
    // Inventory's owned images, and CollectReferences' images shared with the account (none here).
    DescribeImages: pages(IMAGES, PAGE_SIZE.describeImages) + 1,
    // Every reference source is read twice: CollectReferences, then the target's own Inventory.
    DescribeInstances: 2 * pages(2, PAGE_SIZE.describeInstances),
    DescribeLaunchTemplates: 2 * pages(GROUPS, PAGE_SIZE.describeLaunchTemplates),
    DescribeLaunchTemplateVersions: 2 * pages(2 * GROUPS, PAGE_SIZE.describeLaunchTemplateVersions),
    DescribeLaunchConfigurations: 2,
    DescribeAutoScalingGroups: 2,
    ListImageRecipes: 2 * 2,
    ListContainerRecipes: 2 * 2,
  };
  const minimum = new Map<string, number>(Object.entries(perTarget).map(([c, n]) => [c, n * TARGETS]));
  // Per-AMI reads: launch permissions of the would-be candidates (each group's AMIs but its
  // keepPrevious newest and its in-use one), at most the cap per target; references of the
  // candidates, 10 a call.
  const wouldBe = IMAGES - GROUPS * (DEFAULT_PLAN_SETTINGS.keepPrevious + 1);
  minimum.set('DescribeImageAttribute', Math.min(CAP, wouldBe) * TARGETS);
  minimum.set('DescribeImageReferences', Math.ceil(candidates / IMAGE_REFERENCES_BATCH));
  const rows: Row[] = [...new Set([...made.keys(), ...minimum.keys()])].sort().map((command) => {
    const n = made.get(command) ?? 0;
    const min = minimum.get(command);
    return {
      command,
      calls: int(n),
      minimum: min === undefined ? '-' : int(min),
      ratio: min === undefined || min === 0 ? '-' : (n / min).toFixed(2),
    };
  });
  const totalMade = [...made.values()].reduce((a, b) => a + b, 0);
  const totalMin = [...minimum.values()].reduce((a, b) => a + b, 0);
  printTable(
    `Org planning: ${TARGETS} targets × ${int(IMAGES)} AMIs (${REGION}), calls through the member role`,
    [
      ...rows,
      {
        command: 'total',
        calls: int(totalMade),
        minimum: int(totalMin),
        ratio: (totalMade / totalMin).toFixed(2),
      },
    ],
  );
  printTable('Org planning: time and memory', [
    { phase: 'CollectReferences ×10', wall: ms(t1 - t0) },
    { phase: 'plan ×10 (Inventory, MapGroups, FilterInUse + 9 consumers, Rotate)', wall: ms(t2 - t1) },
    { phase: 'total', wall: ms(t2 - t0) },
    { phase: 'peak RSS', wall: `${peakRssMiB.toFixed(0)} MiB` },
    { phase: 'candidates (all targets)', wall: int(candidates) },
  ]);
  return [
    { bench: 'org-planning', case: `${TARGETS}×${int(IMAGES)} AMIs, wall`, figure: ms(t2 - t0) },
    { bench: 'org-planning', case: 'peak RSS', figure: `${peakRssMiB.toFixed(0)} MiB` },
    {
      bench: 'org-planning',
      case: 'API calls / minimum',
      figure: `${int(totalMade)} / ${int(totalMin)} (${(totalMade / totalMin).toFixed(2)})`,
    },
  ];
}
