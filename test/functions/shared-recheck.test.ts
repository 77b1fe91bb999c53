/**
 * Invariant 3 for shared AMIs: right before deregistering, an AMI shared right now is re-checked
 * in every consumer account of the region the run names, as it is in the owner account: live
 * instances, the launch-template read the consumer's deregistrations share, and the consumer's
 * own DescribeImageReferences (SSM parameters, Image Builder recipes).
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { LAUNCH_TEMPLATE_READ_MAX_AGE_MS } from '../../functions/commons/launch-template-read.ts';
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

const CONSUMER = '333333333333';
/** The consumer's target key: its shared launch-template read is `LTREAD#<this>`. */
const CONSUMER_KEY = `${CONSUMER}-${REGION}`;
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('DeregisterImage: the re-check of a shared AMI in its consumers', () => {
  let h: Harness;
  let scenario: Scenario;
  let consumer: SimulatedAccount;
  let deregister: ReturnType<typeof createDeregisterImageHandler>;
  let clock: Date;
  const consumerCalls: string[] = [];

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    clock = NOW;
    consumer = new SimulatedAccount({
      accountId: CONSUMER,
      region: REGION,
      seed: 'consumer',
      clock: () => NOW,
    });
    consumerCalls.length = 0;
    deregister = createDeregisterImageHandler({
      ledger: h.ledger,
      clients: h.clients,
      memberClientsFor: (each) => {
        consumerCalls.push(each.accountId);
        return { ec2: consumer.attach(new EC2Client({ region: REGION, maxAttempts: 1 })) };
      },
      region: REGION,
      now: () => clock,
    });
  });

  afterEach(async () => {
    await h.stop();
  });

  const shareWithConsumer = (imageId: string) => {
    const image = h.account.images.get(imageId);
    if (image === undefined) throw new Error(`no ${imageId}`);
    image.launchPermissions = [{ userId: CONSUMER }];
  };

  it('skips a shared AMI a consumer started running since planning, naming the account', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    shareWithConsumer(imageId);
    const instance = consumer.addInstance({ imageId, launchTime: NOW });

    // Act
    const result = await deregister({
      ...imageItem(plan.planHash, imageId, work),
      consumerAccountIds: [CONSUMER],
    });

    // Assess
    expect(result).toEqual({ imageId, outcome: 'skipped-in-use' });
    expect(h.account.callsTo('DeregisterImage')).toHaveLength(0);
    const recorded = await h.ledger.getItem('run-1', 'IMAGE', imageId);
    expect(recorded?.status).toBe('SKIPPED_IN_USE');
    expect(recorded?.references).toEqual([`account ${CONSUMER}: instance ${instance.instanceId} (running)`]);
  });

  it('does not deregister when a consumer cannot be read right now (fail closed)', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    shareWithConsumer(imageId);
    consumer.failNext('DescribeInstances', 'UnauthorizedOperation');

    // Act
    const act = deregister({ ...imageItem(plan.planHash, imageId, work), consumerAccountIds: [CONSUMER] });

    // Assess
    await expect(act).rejects.toThrow('UnauthorizedOperation');
    expect(h.account.images.has(imageId)).toBe(true);
    expect(h.account.callsTo('DeregisterImage')).toHaveLength(0);
  });

  it('deregisters a shared AMI no consumer uses', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    shareWithConsumer(imageId);

    // Act
    const result = await deregister({
      ...imageItem(plan.planHash, imageId, work),
      consumerAccountIds: [CONSUMER],
    });

    // Assess
    expect(result.outcome).toBe('deregistered');
    expect(consumer.callsTo('DescribeInstances')).toHaveLength(1);
  });

  it('reads no consumer for an AMI that is not shared, and none at all without consumer accounts', async () => {
    // Prepare
    const { plan, work } = await approvedRun(h);
    const [first, second] = scenario.frontCandidates as [string, string];
    const attributeReadsBefore = h.account.callsTo('DescribeImageAttribute').length;

    // Act
    await deregister({ ...imageItem(plan.planHash, first, work), consumerAccountIds: [CONSUMER] });
    await deregister(imageItem(plan.planHash, second, work));

    // Assess
    expect(consumerCalls).toEqual([]);
    expect(h.account.callsTo('DescribeImageAttribute').length - attributeReadsBefore).toBe(1);
  });

  it.each([
    ['consumer ids that are not account ids', ['../x']],
    ['repeated consumer ids', [CONSUMER, CONSUMER]],
  ])('refuses %s before anything', async (_what, consumerAccountIds) => {
    const { plan, work } = await approvedRun(h);
    const imageId = scenario.frontCandidates[0] as string;
    await expect(
      deregister({ ...imageItem(plan.planHash, imageId, work), consumerAccountIds }),
    ).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(h.account.images.has(imageId)).toBe(true);
  });
  type SharedItem = ReturnType<typeof imageItem> & { consumerAccountIds: string[] };
  /** An approved run with its first `count` candidates shared with the consumer, as Map items. */
  const sharedCandidates = async (count: number): Promise<SharedItem[]> => {
    const { plan, work } = await approvedRun(h);
    const ids = scenario.frontCandidates.slice(0, count);
    for (const id of ids) shareWithConsumer(id);
    return ids.map((id) => ({ ...imageItem(plan.planHash, id, work), consumerAccountIds: [CONSUMER] }));
  };
  const consumerReads = (command: string) => consumer.callsTo(command).length;

  it.each([
    [
      'an SSM parameter',
      (imageId: string) => consumer.putParameter('/team/golden-ami', imageId),
      `ssm:Parameter arn:aws:ssm:${REGION}:${CONSUMER}:parameter/team/golden-ami`,
    ],
    [
      'an Image Builder recipe',
      (imageId: string) => consumer.imageBuilder.addImageRecipe({ name: 'base', parentImage: imageId }),
      `imagebuilder:ImageRecipe arn:aws:imagebuilder:${REGION}:${CONSUMER}:image-recipe/base/1.0.0`,
    ],
  ])('keeps a shared AMI only %s in a consumer names, as AWS answers there', async (_what, use, source) => {
    // Prepare: nothing of ours sees it (no instance, no template); only the consumer's AWS answer.
    const [item] = (await sharedCandidates(1)) as [SharedItem];
    use(item.imageId);

    // Act
    const result = await deregister(item);

    // Assess
    expect(result.outcome).toBe('skipped-in-use');
    expect(h.account.images.has(item.imageId)).toBe(true);
    expect(h.account.callsTo('DeregisterImage')).toEqual([]);
    expect(consumer.callsTo('DescribeImageReferences')[0]?.input.ImageIds).toEqual([item.imageId]);
    const recorded = await h.ledger.getItem('run-1', 'IMAGE', item.imageId);
    expect(recorded).toMatchObject({
      status: 'SKIPPED_IN_USE',
      references: [],
      awsReferences: [`account ${CONSUMER}: ${source}`],
      consumerLaunchTemplatesReadAt: { [CONSUMER]: NOW.toISOString() },
    });
    expect(recorded?.detail).toContain(`AWS DescribeImageReferences: account ${CONSUMER}: ${source}`);
  });

  it.each([
    ['denied (UnauthorizedOperation)', 'UnauthorizedOperation', 'InventoryReadError'],
    ['throttled past its retries', 'RequestLimitExceeded', 'TransientAwsError'],
  ])("keeps the AMI when the consumer's DescribeImageReferences is %s", async (_what, code, name) => {
    // Prepare
    const [item] = (await sharedCandidates(1)) as [SharedItem];
    consumer.failNext('DescribeImageReferences', code);

    // Act
    const act = deregister(item);

    // Assess: the failure surfaces (retried by the ASL only when transient); nothing is deleted.
    await expect(act).rejects.toMatchObject({ name, message: expect.stringContaining(code) });
    expect(h.account.images.has(item.imageId)).toBe(true);
    expect(h.account.callsTo('DeregisterImage')).toEqual([]);
    expect((await h.ledger.getItem('run-1', 'IMAGE', item.imageId))?.status).toBe('APPROVED');
    expect(await h.ledger.listDeregistrationIntents(LOCK_KEY)).toEqual([]);
  });

  it("shares the consumer's launch-template read between deregistrations, under the consumer's own key", async () => {
    // Prepare
    const [first, second] = (await sharedCandidates(2)) as [SharedItem, SharedItem];

    // Act
    await deregister(first);
    clock = at(LAUNCH_TEMPLATE_READ_MAX_AGE_MS);
    const template = consumer.addLaunchTemplate({
      name: 'late',
      versions: [{ imageId: second.imageId }],
      createTime: NOW,
    });
    const result = await deregister(second);

    // Assess: one full template read in the consumer; instances and AWS's answer per AMI, and
    // AWS's answer still catches the template made within the 5 s.
    expect(consumerReads('DescribeLaunchTemplateVersions')).toBe(1);
    expect(consumerReads('DescribeInstances')).toBe(2);
    expect(consumerReads('DescribeImageReferences')).toBe(2);
    expect(await h.ledger.getLaunchTemplateRead(CONSUMER_KEY)).toEqual({
      startedAt: NOW.toISOString(),
      references: {},
    });
    expect((await h.ledger.getLaunchTemplateRead(LOCK_KEY))?.startedAt).toBe(NOW.toISOString());
    expect(result.outcome).toBe('skipped-in-use');
    expect(await h.ledger.getItem('run-1', 'IMAGE', first.imageId)).toMatchObject({
      status: 'DEREGISTERED',
      consumerLaunchTemplatesReadAt: { [CONSUMER]: NOW.toISOString() },
    });
    expect(await h.ledger.getItem('run-1', 'IMAGE', second.imageId)).toMatchObject({
      status: 'SKIPPED_IN_USE',
      references: [],
      awsReferences: [
        `account ${CONSUMER}: ec2:LaunchTemplate arn:aws:ec2:${REGION}:${CONSUMER}:launch-template/${template.launchTemplateId}`,
      ],
    });
  });

  it.each([
    ['older than 5 s', { startedAt: at(-LAUNCH_TEMPLATE_READ_MAX_AGE_MS - 1).toISOString(), references: {} }],
    ['dated in the future', { startedAt: at(60_000).toISOString(), references: {} }],
    ['without a start time', { references: {} }],
    ['with references that are not lists of text', { startedAt: NOW.toISOString(), references: { x: 'y' } }],
  ])(
    "does not use a consumer's launch-template record %s: it reads the consumer's templates itself",
    async (_what, written) => {
      // Prepare: a consumer template names the AMI; the consumer's record claims none does.
      const [item] = (await sharedCandidates(1)) as [SharedItem];
      const template = consumer.addLaunchTemplate({
        name: 'pinned',
        versions: [{ imageId: item.imageId }],
        createTime: NOW,
      });
      await h.dynamo.docClient.send(
        new PutCommand({
          TableName: h.dynamo.tableName,
          Item: { pk: `LTREAD#${CONSUMER_KEY}`, sk: 'LATEST', ...written },
        }),
      );

      // Act
      const result = await deregister(item);

      // Assess: our own answer names the template, so it came from a read, not from the record.
      expect(result.outcome).toBe('skipped-in-use');
      expect(consumerReads('DescribeLaunchTemplateVersions')).toBe(1);
      expect((await h.ledger.getItem('run-1', 'IMAGE', item.imageId))?.references).toEqual([
        `account ${CONSUMER}: launch-template ${template.launchTemplateId} v1 ($Default)`,
      ]);
    },
  );
});
