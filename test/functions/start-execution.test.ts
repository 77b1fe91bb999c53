import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { buildRunContext } from '../../functions/acquire-lock.ts';
import { RUN_ID } from '../../functions/commons/events.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';
import {
  type AmiStateChangeEvent,
  createStartExecutionHandler,
  InvalidTriggerEventError,
  MAX_EXECUTION_NAME_LENGTH,
  type ScheduledEvent,
  type StartExecutionEvent,
} from '../../functions/start-execution.ts';
import { definitionHistoryBudget } from '../../infra/lib/definition.ts';

const STATE_MACHINE_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-cleaner';
const sfnMock = mockClient(SFNClient);

const scheduled: ScheduledEvent = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '123456789012',
  time: '2026-11-25T21:00:00Z',
  region: 'eu-west-1',
  resources: ['arn:aws:events:eu-west-1:123456789012:rule/ami-cleaner-schedule'],
  detail: {},
};

const amiAvailable: AmiStateChangeEvent = {
  version: '0',
  id: '7d1c2a0e-6b2e-4a8f-9d3c-1f0e2d3c4b5a',
  'detail-type': 'EC2 AMI State Change',
  source: 'aws.ec2',
  account: '123456789012',
  time: '2026-11-25T21:03:07Z',
  region: 'eu-west-1',
  resources: ['arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0'],
  detail: { RequestId: 'r-1', ImageId: 'ami-0123456789abcdef0', State: 'available', ErrorMessage: '' },
};

describe('start-execution', () => {
  afterEach(() => {
    sfnMock.reset();
  });

  const handle = createStartExecutionHandler({ sfn: new SFNClient({}), stateMachineArn: STATE_MACHINE_ARN });

  it('starts a schedule run with a dated, valid name and the schedule trigger', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${STATE_MACHINE_ARN}:x`, startDate: new Date() });

    // Act
    const result = await handle(scheduled);

    // Assess
    expect(result.executionName).toMatch(/^schedule-20261125T210000Z-[0-9a-f]{12}$/);
    expect(result.alreadyStarted).toBe(false);
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: STATE_MACHINE_ARN,
      name: result.executionName,
      input: JSON.stringify({ trigger: 'schedule' }),
    });
  });

  it('starts an ami-available run named after the AMI, with an input acquire-lock accepts', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${STATE_MACHINE_ARN}:y`, startDate: new Date() });

    // Act
    const result = await handle(amiAvailable);

    // Assess
    const sent = sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input;
    expect(result.executionName).toMatch(
      /^ami-available-ami-0123456789abcdef0-20261125T210307Z-[0-9a-f]{12}$/,
    );
    expect(result.executionName.length).toBeLessThanOrEqual(MAX_EXECUTION_NAME_LENGTH);
    expect(result.executionName).toMatch(RUN_ID);
    expect(JSON.parse(sent?.input ?? '{}')).toEqual({
      trigger: 'ami-available',
      imageId: 'ami-0123456789abcdef0',
    });
    const run = buildRunContext(
      {
        input: JSON.parse(sent?.input ?? '{}'),
        execution: {
          id: `arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner:${result.executionName}`,
          name: result.executionName,
          startTime: '2026-11-25T21:03:08.000Z',
        },
      },
      {
        defaultSettings: DEFAULT_PLAN_SETTINGS,
        maxDeletionsPerRun: 10,
        historyBudget: definitionHistoryBudget(),
      },
    );
    expect(run).toMatchObject({ trigger: 'ami-available', triggerImageId: 'ami-0123456789abcdef0' });
  });

  it('gives the same event the same name, and different events different names', async () => {
    // Prepare
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn', startDate: new Date() });

    // Act
    const a = await handle(scheduled);
    const again = await handle(scheduled);
    const other = await handle({ ...scheduled, id: 'a0e5f1d2-0000-4000-8000-000000000000' });

    // Assess
    expect(again.executionName).toBe(a.executionName);
    expect(other.executionName).not.toBe(a.executionName);
  });

  it('treats ExecutionAlreadyExists (a repeated delivery) as done', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

    // Act
    const result = await handle(amiAvailable);

    // Assess
    expect(result.alreadyStarted).toBe(true);
    expect(result.executionArn).toBeUndefined();
  });

  it('lets other Step Functions errors through, so EventBridge retries the event', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .rejects(Object.assign(new Error('boom'), { name: 'ThrottlingException' }));

    // Act
    const attempt = handle(scheduled);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'ThrottlingException' });
  });

  it.each([
    ['a non-object', 'hello'],
    ['an event without id', { ...scheduled, id: '' }],
    ['an event with a bad time', { ...scheduled, time: 'yesterday' }],
    ['another detail type', { ...scheduled, 'detail-type': 'EC2 Instance State-change Notification' }],
    ['a schedule event from another source', { ...scheduled, source: 'custom.app' }],
    ['an AMI event without ImageId', { ...amiAvailable, detail: { State: 'available' } }],
    [
      'an AMI event with a bad ImageId',
      { ...amiAvailable, detail: { ImageId: 'ami-$(rm)', State: 'available' } },
    ],
    [
      'an AMI event for a failed AMI',
      { ...amiAvailable, detail: { ImageId: 'ami-0123456789abcdef0', State: 'failed' } },
    ],
  ])('rejects %s without starting anything', async (_what, event) => {
    // Act
    const attempt = handle(event as StartExecutionEvent);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidTriggerEventError);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});

describe('start-execution with targets (the organization run)', () => {
  const ORGANIZATION_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-cleaner-organization';
  const MEMBER = '210987654321';
  const listed = createStartExecutionHandler({
    sfn: new SFNClient({}),
    stateMachineArn: ORGANIZATION_ARN,
    targets: {
      accounts: ['123456789012', MEMBER],
      organizationalUnits: [],
      regions: ['eu-west-1', 'us-east-1'],
    },
  });
  const withOus = createStartExecutionHandler({
    sfn: new SFNClient({}),
    stateMachineArn: ORGANIZATION_ARN,
    targets: { accounts: [], organizationalUnits: ['ou-ab12-abcdefgh'], regions: ['eu-west-1'] },
  });
  const sentInput = () =>
    JSON.parse(sfnMock.commandCalls(StartExecutionCommand)[0]?.args[0].input?.input ?? '{}');

  afterEach(() => {
    sfnMock.reset();
  });

  it('starts the organization run on the schedule, for every target', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${ORGANIZATION_ARN}:x`, startDate: new Date() });

    // Act
    await listed(scheduled);

    // Assess
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, { stateMachineArn: ORGANIZATION_ARN });
    expect(sentInput()).toEqual({ trigger: 'schedule' });
  });

  it("scopes a new AMI's run to the account and region the event comes from", async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${ORGANIZATION_ARN}:y`, startDate: new Date() });

    // Act
    const result = await listed({ ...amiAvailable, account: MEMBER, region: 'us-east-1' });

    // Assess
    expect(result).toMatchObject({ alreadyStarted: false });
    expect(sentInput()).toEqual({
      trigger: 'ami-available',
      imageId: 'ami-0123456789abcdef0',
      target: { accountId: MEMBER, region: 'us-east-1' },
    });
  });

  it.each([
    ['a region that is not a target', { account: MEMBER, region: 'ap-south-1' }, /region ap-south-1/],
    [
      'an account that is not a target',
      { account: '999999999999', region: 'eu-west-1' },
      /account 999999999999/,
    ],
  ])('ignores an AMI of %s with a reason, starting nothing', async (_what, origin, reason) => {
    // Act
    const result = await listed({ ...amiAvailable, ...origin });

    // Assess
    expect(result).toEqual({ ignored: true, reason: expect.stringMatching(reason) });
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it('leaves an unlisted account of a selected OU to the organization run (it resolves the OUs)', async () => {
    // Prepare
    sfnMock
      .on(StartExecutionCommand)
      .resolves({ executionArn: `${ORGANIZATION_ARN}:z`, startDate: new Date() });

    // Act
    await withOus({ ...amiAvailable, account: '999999999999' });

    // Assess
    expect(sentInput().target).toEqual({ accountId: '999999999999', region: 'eu-west-1' });
  });

  it.each([
    ['a malformed account', { account: '12345' }],
    ['a region of no known shape', { region: 'eu-west-1/../x' }],
    ['no account', { account: undefined }],
  ])('rejects an AMI event with %s without starting anything', async (_what, origin) => {
    // Act
    const attempt = listed({ ...amiAvailable, ...origin } as StartExecutionEvent);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidTriggerEventError);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });

  it("still refuses a schedule event that is not the hub's own", async () => {
    // Act
    const attempt = listed({ ...scheduled, account: MEMBER });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(InvalidTriggerEventError);
    expect(sfnMock).not.toHaveReceivedCommand(StartExecutionCommand);
  });
});
