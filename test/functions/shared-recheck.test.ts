/**
 * Invariant 3 for shared AMIs: right before deregistering, an AMI shared right now is re-checked
 * in every consumer account of the region the run names, as it is in the owner account.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { createDeregisterImageHandler } from '../../functions/deregister-image.ts';
import {
  approvedRun,
  type Harness,
  imageItem,
  NOW,
  REGION,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

const CONSUMER = '333333333333';

describe('DeregisterImage: the re-check of a shared AMI in its consumers', () => {
  let h: Harness;
  let scenario: Scenario;
  let consumer: SimulatedAccount;
  let deregister: ReturnType<typeof createDeregisterImageHandler>;
  const consumerCalls: string[] = [];

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
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
      now: () => NOW,
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
});
