/**
 * Issue 9 §3 on the simulated organization: CollectReferences in consumer accounts through the
 * member role, FilterInUse unioning them for the golden-AMI account, and Rotate deciding shared
 * AMIs from image usage reports (`sharedAmis: delete-when-unused`), with the fault and hostile rows.
 */
import { describe, expect, it } from 'vitest';
import { organizationScenario, SimulatedOrganization } from '../../cli/simulated-account/index.ts';
import { type AwsClients, createAwsClients } from '../../functions/adapters/clients.ts';
import { referencesKey } from '../../functions/adapters/consumer-references.ts';
import { memberClients } from '../../functions/adapters/organization.ts';
import { MemoryWorkspace } from '../../functions/adapters/workspace.ts';
import { createCollectReferencesHandler } from '../../functions/collect-references.ts';
import type { KeptImage, Plan } from '../../functions/core/model.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';
import { type Target, target } from '../../functions/core/target.ts';
import type { RunContext } from '../../functions/core/workflow.ts';
import { createFilterInUseHandler } from '../../functions/filter-in-use.ts';
import { createInventoryHandler } from '../../functions/inventory.ts';
import { createMapGroupsHandler } from '../../functions/map-groups.ts';
import { createRotateHandler, rotateToPlan } from '../../functions/rotate.ts';

// The SDK checks an assumed role's Expiration against the real clock, so the simulated clock starts now.
const START = new Date();
const HUB_ROLE = 'arn:aws:iam::123456789012:role/AmiCleaner-Inventory';
const RUN_ID = 'org-run-1';
const EU = 'eu-west-1';

function world() {
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

function runContext(settings: Partial<PlanSettings>): RunContext {
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
async function planTarget(
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

const keptOf = (plan: Plan, imageId: string): KeptImage | undefined =>
  plan.groups.flatMap((g) => g.kept).find((k) => k.imageId === imageId);
const candidateIds = (plan: Plan) => plan.groups.flatMap((g) => g.candidates.map((c) => c.imageId));

describe('CollectReferences', () => {
  it('reads a consumer account through the member role, with both opinions on the images shared with it', async () => {
    // Prepare
    const w = world();
    const workloadA = target('333333333333', EU);
    const [usedByA] = w.scenario.usedByOtherAccounts;

    // Act
    const result = await w.collect({ runId: RUN_ID, target: workloadA });

    // Assess
    expect(result.referencesKey).toBe(referencesKey(RUN_ID, workloadA));
    const doc = await w.workspace.getJson<{
      accountId: string;
      images: { imageId: string; sources: string[] }[];
    }>(result.referencesKey);
    expect(doc.accountId).toBe('333333333333');
    const sources = doc.images.find((i) => i.imageId === usedByA?.imageId)?.sources ?? [];
    expect(sources.some((s) => s.startsWith('instance i-'))).toBe(true);
    expect(
      sources.some((s) => s.startsWith('AWS ec2:Instance arn:aws:ec2:eu-west-1:333333333333:instance/')),
    ).toBe(true);
    // The consumer was read in its own account: the golden account saw no call of it.
    const consumerAccount = w.organization.account('333333333333', EU);
    expect(consumerAccount.callsTo('DescribeImages')[0]?.input.ExecutableUsers).toEqual(['self']);
    expect(consumerAccount.mutatingCalls()).toEqual([]);
  });

  it('fails closed, writing nothing, when the consumer denies the role (AccessDenied)', async () => {
    // Prepare
    const w = world();
    w.organization.addRole('333333333333', w.scenario.roleName, {
      hubAccountId: w.organization.managementAccountId,
      hubPrincipalArns: ['arn:aws:iam::123456789012:role/SomeoneElse'],
    });

    // Act
    const act = w.collect({ runId: RUN_ID, target: target('333333333333', EU) });

    // Assess
    await expect(act).rejects.toMatchObject({ name: 'AssumeRoleError', code: 'AccessDenied' });
    expect(w.workspace.keys()).toEqual([]);
  });

  it.each([
    ['a target that is not a target', { runId: RUN_ID, target: { accountId: '../etc', region: EU } }],
    [
      'a key that does not match',
      { runId: RUN_ID, target: { accountId: '333333333333', region: EU, key: 'x' } },
    ],
    ['a run id with a path', { runId: '../other', target: { accountId: '333333333333', region: EU } }],
    [
      'a role name with a slash',
      { runId: RUN_ID, target: { accountId: '333333333333', region: EU }, roleName: 'a/b' },
    ],
  ])('refuses %s before any call', async (_what, event) => {
    const w = world();
    await expect(w.collect(event as never)).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(w.organization.calls).toEqual([]);
  });
});

describe('planning the golden-AMI account with its consumers', () => {
  it("keeps, with sharedAmis 'keep', every shared golden AMI as before, and one a consumer runs as IN_USE_BY_ACCOUNT", async () => {
    // Prepare
    const w = world();
    const golden = target(w.scenario.golden.accountId, EU);
    const { referencesKey: key } = await w.collect({ runId: RUN_ID, target: target('333333333333', EU) });
    const [usedByA] = w.scenario.usedByOtherAccounts;

    // Act
    const plan = await planTarget(w, golden, {}, { consumerReferenceKeys: [key] });

    // Assess
    expect(candidateIds(plan)).toEqual([]);
    expect(keptOf(plan, usedByA?.imageId as string)).toMatchObject({
      reason: 'IN_USE_BY_ACCOUNT',
      detail: expect.stringContaining('account 333333333333: instance i-'),
    });
    expect(w.organization.account(golden.accountId, EU).callsTo('CreateImageUsageReport')).toEqual([]);
  });

  it("deletes, with 'delete-when-unused', only shared AMIs every source calls unused, and says why it kept the rest", async () => {
    // Prepare
    const w = world();
    const golden = target(w.scenario.golden.accountId, EU);
    const { referencesKey: key } = await w.collect({ runId: RUN_ID, target: target('333333333333', EU) });
    const ids = w.scenario.golden.imageIds[EU] ?? [];
    const oldest = ids[0] as string;
    w.organization.usageReports.neverComplete.add(oldest);
    const [usedByA] = w.scenario.usedByOtherAccounts;

    // Act
    const plan = await planTarget(
      w,
      golden,
      { sharedAmis: 'delete-when-unused' },
      { consumerReferenceKeys: [key] },
    );

    // Assess: 12 golden AMIs, 4 newest kept, one run by A, one report never ready, 6 go
    expect(keptOf(plan, usedByA?.imageId as string)?.reason).toBe('IN_USE_BY_ACCOUNT');
    expect(keptOf(plan, oldest)).toMatchObject({ reason: 'USAGE_REPORT_NOT_READY' });
    expect(candidateIds(plan)).toHaveLength(6);
    expect(candidateIds(plan)).not.toContain(usedByA?.imageId);
    const reports = w.organization.account(golden.accountId, EU).callsTo('CreateImageUsageReport');
    expect(reports).toHaveLength(7); // only the shared would-be candidates, never the kept ones
  });

  it('keeps a shared AMI the usage report finds in a consumer that is not a target (a launch template)', async () => {
    // Prepare: workload B pins a golden us-east-1 image in a launch template; B is no target here
    const w = world();
    const golden = target(w.scenario.golden.accountId, 'us-east-1');
    const usedByB = w.scenario.usedByOtherAccounts[1];

    // Act
    const plan = await planTarget(w, golden, { sharedAmis: 'delete-when-unused' });

    // Assess
    expect(keptOf(plan, usedByB?.imageId as string)).toMatchObject({
      reason: 'IN_USE_BY_ACCOUNT',
      detail: 'usage report: account 444444444444 ec2:LaunchTemplate x1',
    });
  });

  it('keeps every shared candidate as CONSUMER_UNREADABLE when a consumer of the region could not be read', async () => {
    // Prepare
    const w = world();
    const golden = target(w.scenario.golden.accountId, EU);

    // Act
    const plan = await planTarget(
      w,
      golden,
      { sharedAmis: 'delete-when-unused' },
      { unreadableConsumers: ['333333333333'] },
    );

    // Assess
    expect(candidateIds(plan)).toEqual([]);
    const reasons = new Set(plan.groups.flatMap((g) => g.kept).map((k) => k.reason));
    expect(reasons).toContain('CONSUMER_UNREADABLE');
  });

  it('keeps a shared AMI whose usage report answers for another image (USAGE_REPORT_FAILED)', async () => {
    // Prepare
    const w = world();
    const golden = target(w.scenario.golden.accountId, 'us-east-1');
    const usedByB = w.scenario.usedByOtherAccounts[1]?.imageId as string;
    w.organization.usageReports.wrongImage.add(usedByB);

    // Act
    const plan = await planTarget(w, golden, { sharedAmis: 'delete-when-unused' });

    // Assess
    expect(keptOf(plan, usedByB)).toMatchObject({ reason: 'USAGE_REPORT_FAILED' });
  });

  it('keeps every shared candidate when CreateImageUsageReport fails (fault row)', async () => {
    // Prepare
    const w = world();
    const golden = target(w.scenario.golden.accountId, EU);
    w.organization
      .account(golden.accountId, EU)
      .failNext('CreateImageUsageReport', 'UnauthorizedOperation', 50);

    // Act
    const plan = await planTarget(w, golden, { sharedAmis: 'delete-when-unused' });

    // Assess
    expect(candidateIds(plan)).toEqual([]);
    expect(plan.groups.flatMap((g) => g.kept).filter((k) => k.reason === 'USAGE_REPORT_FAILED')).toHaveLength(
      8,
    );
  });
});

describe('FilterInUse: hostile consumer keys', () => {
  it.each([
    [
      'a key of another run',
      (each: Target) => referencesKey('other-run', each),
      'not a references key of run',
    ],
    ['a key outside the workspace layout', () => 'runs/org-run-1/../../etc/passwd', 'not a references key'],
    [
      'a key of another region',
      () => referencesKey(RUN_ID, target('333333333333', 'us-east-1')),
      'not in the planned region',
    ],
    [
      'a key nothing was written under',
      () => referencesKey(RUN_ID, target('666666666666', EU)),
      'nothing stored',
    ],
  ])('fails the run for %s', async (_what, keyOf, message) => {
    // Prepare
    const w = world();
    const consumer = target('333333333333', EU);
    await w.collect({ runId: RUN_ID, target: consumer });

    // Act
    const act = planTarget(
      w,
      target(w.scenario.golden.accountId, EU),
      {},
      { consumerReferenceKeys: [keyOf(consumer)] },
    );

    // Assess
    await expect(act).rejects.toThrow(message);
  });

  it('fails the run when a document was swapped for another account’s (tampered workspace)', async () => {
    // Prepare: B's document stored under A's key
    const w = world();
    const a = target('333333333333', EU);
    const { referencesKey: keyOfA } = await w.collect({ runId: RUN_ID, target: a });
    const doc = await w.workspace.getJson<Record<string, unknown>>(keyOfA);
    await w.workspace.putJson(keyOfA, { ...doc, accountId: '444444444444' });

    // Act
    const act = planTarget(
      w,
      target(w.scenario.golden.accountId, EU),
      {},
      { consumerReferenceKeys: [keyOfA] },
    );

    // Assess
    await expect(act).rejects.toThrow('written for account 444444444444, not 333333333333');
  });
});
