/**
 * Issue 9 §3 on the simulated organization: CollectReferences in consumer accounts through the
 * member role, FilterInUse unioning them for the golden-AMI account, and Rotate deciding shared
 * AMIs from image usage reports (`sharedAmis: delete-when-unused`), with the fault rows. The hostile
 * inputs (CollectReferences events, consumer keys and documents) are test/hostile/consumer-references.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { referencesKey } from '../../functions/adapters/consumer-references.ts';
import type { KeptImage, Plan } from '../../functions/core/model.ts';
import { target } from '../../functions/core/target.ts';
import { EU, planTarget, RUN_ID, world } from './cross-account-world.ts';

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
