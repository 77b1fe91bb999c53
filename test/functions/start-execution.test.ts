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
