/**
 * Deregister's launch-template check shared between deregistrations (commons/launch-template-read.ts):
 * one full read of every template's `$Default`/`$Latest` serves the AMIs of the same account and
 * region for 5 s from its start; an older, future-dated or malformed record is never used, and
 * EC2's own DescribeImageReferences is still asked for each AMI.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InventoryReadError } from '../../functions/adapters/errors.ts';
import {
  LAUNCH_TEMPLATE_READ_MAX_AGE_MS,
  LAUNCH_TEMPLATE_READ_MAX_BYTES,
} from '../../functions/commons/launch-template-read.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import {
  approvedRun,
  type Harness,
  imageItem,
  LOCK_KEY,
  NOW,
  REGION,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('the launch-template read Deregister shares', () => {
  let h: Harness;
  let scenario: Scenario;
  let clock: Date;
  let deregister: ReturnType<typeof createDeregisterImageHandler>;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    clock = NOW;
    deregister = createDeregisterImageHandler({
      ledger: h.ledger,
      clients: h.clients,
      region: REGION,
      now: () => clock,
    });
  });

  afterEach(async () => {
    await h.stop();
  });

  const templateReads = () => h.account.callsTo('DescribeLaunchTemplateVersions').length;
  const item = (id: string) => h.ledger.getItem('run-1', 'IMAGE', id);

  it('serves a second AMI within 5 s of its start: one full read for both, its start recorded on each', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const [first, second] = scenario.frontCandidates as [string, string];
    const before = templateReads();

    // Act
    await deregister(imageItem(plan.planHash, first, work));
    const afterFirst = templateReads();
    clock = at(LAUNCH_TEMPLATE_READ_MAX_AGE_MS);
    await deregister(imageItem(plan.planHash, second, work));

    // Assess
    expect(afterFirst).toBeGreaterThan(before);
    expect(templateReads()).toBe(afterFirst);
    for (const id of [first, second]) {
      expect(await item(id)).toMatchObject({
        status: 'DEREGISTERED',
        launchTemplatesReadAt: NOW.toISOString(),
      });
    }
  });

  it('reads again once the record is older than 5 s: a template naming the AMI since then keeps it', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const [first, second] = scenario.frontCandidates as [string, string];
    await deregister(imageItem(plan.planHash, first, work));
    const template = h.account.addLaunchTemplate({
      name: 'late',
      versions: [{ imageId: second }],
      createTime: NOW,
    });
    const reads = templateReads();
    clock = at(LAUNCH_TEMPLATE_READ_MAX_AGE_MS + 1);

    // Act
    const result = await deregister(imageItem(plan.planHash, second, work));

    // Assess
    expect(result.outcome).toBe('skipped-in-use');
    expect(templateReads()).toBeGreaterThan(reads);
    expect(h.account.images.has(second)).toBe(true);
    expect(await item(second)).toMatchObject({
      status: 'SKIPPED_IN_USE',
      references: [`launch-template ${template.launchTemplateId} v1 ($Default)`],
      launchTemplatesReadAt: clock.toISOString(),
    });
    expect(await h.ledger.getLaunchTemplateRead(LOCK_KEY)).toMatchObject({ startedAt: clock.toISOString() });
  });

  it("within the 5 s, a template created since the read is still caught by EC2's DescribeImageReferences", async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const [first, second] = scenario.frontCandidates as [string, string];
    await deregister(imageItem(plan.planHash, first, work));
    h.account.addLaunchTemplate({ name: 'late', versions: [{ imageId: second }], createTime: NOW });
    clock = at(1_000);

    // Act
    const result = await deregister(imageItem(plan.planHash, second, work));

    // Assess: our opinion is the shared read's (no reference), AWS's is this AMI's own.
    expect(result.outcome).toBe('skipped-in-use');
    expect(h.account.images.has(second)).toBe(true);
    const recorded = await item(second);
    expect(recorded).toMatchObject({ status: 'SKIPPED_IN_USE', references: [] });
    expect(recorded?.awsReferences).toEqual([expect.stringMatching(/^ec2:LaunchTemplate /)]);
  });

  it.each([
    // Left in place (it claims a later start), so every AMI reads for itself until it expires.
    ['dated in the future', { startedAt: at(60_000).toISOString(), references: {} }, at(60_000)],
    ['without a start time', { references: {} }, NOW],
    [
      'with references that are not lists of text',
      { startedAt: NOW.toISOString(), references: { x: 'y' } },
      NOW,
    ],
  ])('does not use a record %s: it reads for itself and sees the template', async (_what, written, after) => {
    // Prepare: a template already names the AMI; a record claims no template names anything.
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    h.account.addLaunchTemplate({ name: 'pinned', versions: [{ imageId }], createTime: NOW });
    await h.dynamo.docClient.send(
      new PutCommand({
        TableName: h.dynamo.tableName,
        Item: { pk: `LTREAD#${LOCK_KEY}`, sk: 'LATEST', ...written },
      }),
    );
    const reads = templateReads();

    // Act
    const result = await deregister(imageItem(plan.planHash, imageId, work));

    // Assess
    expect(result.outcome).toBe('skipped-in-use');
    expect(templateReads()).toBeGreaterThan(reads);
    expect((await item(imageId))?.references).toEqual([expect.stringMatching(/^launch-template lt-/)]);
    expect((await h.ledger.getLaunchTemplateRead(LOCK_KEY))?.startedAt).toBe(after.toISOString());
  });

  it('fails closed on a failed read: nothing deregistered, nothing recorded for the next AMI', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    h.account.failNext('DescribeLaunchTemplateVersions', 'UnauthorizedOperation');

    // Act
    const attempt = deregister(imageItem(plan.planHash, imageId, work));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InventoryReadError);
    expect(h.account.images.has(imageId)).toBe(true);
    expect(h.account.callsTo('DeregisterImage')).toEqual([]);
    expect(await h.ledger.getLaunchTemplateRead(LOCK_KEY)).toBeUndefined();
  });

  it('never lets an older read replace a newer one', async () => {
    // Act
    await h.ledger.recordLaunchTemplateRead(LOCK_KEY, { startedAt: at(2_000).toISOString(), references: {} });
    await h.ledger.recordLaunchTemplateRead(LOCK_KEY, {
      startedAt: at(1_000).toISOString(),
      references: { 'ami-0123456789abcdef0': ['launch-template lt-1 v1 ($Default)'] },
    });

    // Assess
    expect(await h.ledger.getLaunchTemplateRead(LOCK_KEY)).toEqual({
      startedAt: at(2_000).toISOString(),
      references: {},
    });
  });

  it('does not record a read too large for one ledger item; the AMI is still checked against it', async () => {
    // Prepare: enough templates, each naming its own AMI id, to pass the recorded size.
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    const perTemplate = 'launch-template lt-0123456789abcdef0 v1 ($Default)'.length + 30;
    const templates = Math.ceil(LAUNCH_TEMPLATE_READ_MAX_BYTES / perTemplate) + 100;
    for (let i = 0; i < templates; i++) {
      const id = `ami-${i.toString(16).padStart(17, '0')}`;
      h.account.addLaunchTemplate({ name: `many-${i}`, versions: [{ imageId: id }], createTime: NOW });
    }
    h.account.addLaunchTemplate({ name: 'pinned', versions: [{ imageId }], createTime: NOW });

    // Act
    const result = await deregister(imageItem(plan.planHash, imageId, work));

    // Assess
    expect(result.outcome).toBe('skipped-in-use');
    expect(await h.ledger.getLaunchTemplateRead(LOCK_KEY)).toBeUndefined();
  });
});
