import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientAwsError } from '../../functions/adapters/errors.ts';
import type { Plan } from '../../functions/core/model.ts';
import { approve, type Harness, planRun, type Scenario, seedScenario, startHarness } from './harness.ts';

// No SSM path is configured by default, so a parameter only AWS's own check sees: the two
// opinions disagree, as they do in an account whose parameters live outside the configured paths.
const putOutsidePaths = (h: Harness, imageId: string) =>
  h.account.putParameter('/other-team/base-ami', imageId);
const parameterSource = 'ssm:Parameter arn:aws:ssm:eu-west-1:123456789012:parameter/other-team/base-ami';

describe('the second opinion (DescribeImageReferences) in the workflow handlers', () => {
  let h: Harness;
  let scenario: Scenario;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
  });

  afterEach(async () => {
    await h.stop();
  });

  it('Rotate keeps a candidate AWS reports in use, and the ledger records both answers', async () => {
    // Prepare
    const [disputed, other] = scenario.frontCandidates as [string, string];
    putOutsidePaths(h, disputed);

    // Act
    const { plan, recorded } = await planRun(h);

    // Assess
    const stored = await h.workspace.getJson<Plan>(plan.planKey);
    const kept = stored.groups.flatMap((g) => g.kept).find((k) => k.imageId === disputed);
    expect(kept).toMatchObject({
      reason: 'AWS_REPORTS_IN_USE',
      referenceAnswers: { inventory: [], aws: [parameterSource] },
    });
    expect(stored.groups.flatMap((g) => g.candidates).map((c) => c.imageId)).toContain(other);
    expect(recorded.toDelete).toBe(3); // 4 without the second opinion
    const item = await h.ledger.getItem('run-1', 'IMAGE', disputed);
    expect(item).toMatchObject({
      status: 'KEPT',
      reason: 'AWS_REPORTS_IN_USE',
      references: [],
      awsReferences: [parameterSource],
    });
    expect(item?.detail).toBe(`our inventory: none; AWS DescribeImageReferences: ${parameterSource}`);
  });

  it('Rotate asks about every candidate and nothing else, at most 10 AMIs a call', async () => {
    // Act
    const { plan } = await planRun(h);

    // Assess
    const stored = await h.workspace.getJson<Plan>(plan.planKey);
    const perCall = h.account
      .callsTo('DescribeImageReferences')
      .map((c) => (c.input.ImageIds as string[] | undefined) ?? []);
    expect(perCall.every((ids) => ids.length >= 1 && ids.length <= 10)).toBe(true);
    const asked = perCall.flat();
    expect(asked.sort()).toEqual(
      stored.groups
        .flatMap((g) => g.candidates)
        .map((c) => c.imageId)
        .sort(),
    );
  });

  it.each([
    ['access denied', 'UnauthorizedOperation', 1, 'InventoryReadError'],
    ['throttling after every retry', 'RequestLimitExceeded', 5, 'TransientAwsError'],
  ])('Rotate fails closed on %s and stores no plan', async (_what, code, times, name) => {
    // Prepare
    h.account.failNext('DescribeImageReferences', code, times);

    // Act
    const attempt = planRun(h);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name });
    expect(h.workspace.keys()).not.toContain('runs/run-1/plan.json');
    if (name === 'TransientAwsError') await expect(attempt).rejects.toBeInstanceOf(TransientAwsError);
  });

  it('LoadApproved sets aside an approved AMI that AWS reports in use since planning, with both answers', async () => {
    // Prepare
    const { run, plan } = await planRun(h);
    const approval = await approve(h, run, plan.planHash, plan.planKey);
    const [disputed] = scenario.frontCandidates as [string];
    putOutsidePaths(h, disputed);

    // Act
    const work = await h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

    // Assess
    expect(work.images.map((i) => i.imageId)).not.toContain(disputed);
    expect(work.images).toHaveLength(2);
    const item = await h.ledger.getItem('run-1', 'IMAGE', disputed);
    expect(item).toMatchObject({
      status: 'SKIPPED_IN_USE',
      references: [],
      awsReferences: [parameterSource],
    });
    expect(item?.detail).toBe(
      `in use when the plan was approved: our inventory: none; AWS DescribeImageReferences: ${parameterSource}`,
    );
  });

  it('LoadApproved fails closed when AWS cannot be asked, and sets nothing aside or deletes nothing', async () => {
    // Prepare
    const { run, plan } = await planRun(h);
    const approval = await approve(h, run, plan.planHash, plan.planKey);
    h.account.failNext('DescribeImageReferences', 'UnauthorizedOperation');

    // Act
    const attempt = h.handlers.loadApproved({ run, planHash: plan.planHash, approval });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InventoryReadError' });
    const items = await h.ledger.listItems('run-1');
    expect(items.some((i) => i.status === 'SKIPPED_IN_USE' || i.status === 'DEREGISTERED')).toBe(false);
    expect(h.account.mutatingCalls().filter((c) => c.service === 'EC2')).toEqual([]);
  });
});
