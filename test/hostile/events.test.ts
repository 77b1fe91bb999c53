/**
 * Hostile EventBridge events: to the trigger function (schedule and `EC2 AMI State Change`), and
 * to close-abandoned-run while a real run waits for approval. Each must be refused with a named
 * error that says why, start no execution, and leave the waiting run, its approval, its lock and
 * the account exactly as they were.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCloseAbandonedRunHandler } from '../../functions/close-abandoned-run.ts';
import { createStartExecutionHandler, type StartExecutionEvent } from '../../functions/start-execution.ts';
import { hostile } from './count.ts';
import { startWaitingRun, stillWaiting, type WaitingRun } from './waiting-run.ts';

const RUN_ID = 'hostile-events';
const AMI = 'ami-0123456789abcdef0';

let waiting: WaitingRun;

beforeAll(async () => {
  waiting = await startWaitingRun(RUN_ID);
});

afterAll(async () => {
  const execution = await waiting.end();
  expect(execution.result.output).toMatchObject({ status: 'WITHDRAWN', deregistered: 0 });
});

const home = () => ({ account: waiting.h.account.accountId, region: waiting.h.stack.region });
const stateMachineArn = () => `arn:aws:states:${home().region}:${home().account}:stateMachine:ami-cleaner`;

function amiEvent(changes: Record<string, unknown> = {}, detail: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '7d1c2a0e-6b2e-4a8f-9d3c-1f0e2d3c4b5a',
    'detail-type': 'EC2 AMI State Change',
    source: 'aws.ec2',
    ...home(),
    time: '2026-11-25T21:03:07Z',
    resources: [`arn:aws:ec2:${home().region}::image/${AMI}`],
    detail: { RequestId: 'r-1', ImageId: AMI, State: 'available', ErrorMessage: '', ...detail },
    ...changes,
  };
}

function scheduleEvent(changes: Record<string, unknown> = {}) {
  return {
    version: '0',
    id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    ...home(),
    time: '2026-11-25T21:00:00Z',
    resources: [],
    detail: {},
    ...changes,
  };
}

const triggers: readonly [string, () => unknown, RegExp][] = [
  ['a string', () => 'hello', /object/],
  ['null', () => null, /object/],
  ['an array', () => [amiEvent()], /object/],
  ['an event without id', () => amiEvent({ id: '' }), /id/],
  ['an event with an unparsable time', () => amiEvent({ time: 'yesterday' }), /time/],
  [
    'another detail type',
    () => amiEvent({ 'detail-type': 'EC2 Instance State-change Notification' }),
    /expected/,
  ],
  [
    'a detail type with a trailing space',
    () => amiEvent({ 'detail-type': 'EC2 AMI State Change ' }),
    /expected/,
  ],
  ['an AMI event from a custom source', () => amiEvent({ source: 'custom.ec2' }), /expected/],
  ['an AMI event with the source upper-cased', () => amiEvent({ source: 'AWS.EC2' }), /expected/],
  ['a schedule event from a custom source', () => scheduleEvent({ source: 'my.app' }), /expected/],
  ['an AMI event without ImageId', () => amiEvent({}, { ImageId: undefined }), /ImageId/],
  ['an AMI event with shell in ImageId', () => amiEvent({}, { ImageId: 'ami-$(rm -rf /)' }), /ImageId/],
  ['an AMI event with an array ImageId', () => amiEvent({}, { ImageId: [AMI, 'ami-1'] }), /ImageId/],
  [
    'an AMI event with an 8 KiB ImageId',
    () => amiEvent({}, { ImageId: `ami-${'a'.repeat(8192)}` }),
    /ImageId/,
  ],
  ['an AMI event for a failed AMI', () => amiEvent({}, { State: 'failed' }), /available/],
  ['an AMI event for a pending AMI', () => amiEvent({}, { State: 'pending' }), /available/],
  ['an AMI event whose detail is a string', () => amiEvent({ detail: 'ImageId=ami-1' }), /ImageId/],
  ['an AMI event from another account', () => amiEvent({ account: '210987654321' }), /account/],
  ['a schedule event from another account', () => scheduleEvent({ account: '210987654321' }), /account/],
  ['an AMI event without an account', () => amiEvent({ account: undefined }), /account/],
  ['an AMI event from another region', () => amiEvent({ region: 'us-east-1' }), /region/],
  ['a schedule event from another region', () => scheduleEvent({ region: 'ap-south-1' }), /region/],
];

describe('hostile trigger events', () => {
  it.each(triggers)(hostile('EventBridge trigger', '%s'), async (_what, event, reason) => {
    // Prepare
    const sfn = waiting.h.stack.control.attach(new SFNClient({ region: home().region }));
    const start = createStartExecutionHandler({ sfn, stateMachineArn: stateMachineArn() });
    const calls = waiting.h.account.calls.length;

    // Act
    const attempt = start(event() as StartExecutionEvent);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidTriggerEventError', message: reason });
    expect(waiting.h.account.calls.slice(calls)).toEqual([]);
    expect(await waiting.untouched()).toEqual(stillWaiting(RUN_ID));
  });
});

function statusChange(detail: Record<string, unknown>) {
  return {
    source: 'aws.states',
    'detail-type': 'Step Functions Execution Status Change',
    detail: {
      executionArn: `arn:aws:states:${home().region}:${home().account}:execution:ami-cleaner:${RUN_ID}`,
      name: RUN_ID,
      ...detail,
    },
  };
}

const closings: readonly [string, () => unknown][] = [
  ['a string', () => 'FAILED'],
  [
    'an event without detail',
    () => ({ source: 'aws.states', 'detail-type': 'Step Functions Execution Status Change' }),
  ],
  ['the waiting run reported RUNNING', () => statusChange({ status: 'RUNNING' })],
  ['the waiting run reported SUCCEEDED', () => statusChange({ status: 'SUCCEEDED' })],
  ['a status in lower case', () => statusChange({ status: 'failed' })],
  ['an execution name with a path', () => statusChange({ status: 'FAILED', name: `../${RUN_ID}` })],
  ['an execution name of 200 characters', () => statusChange({ status: 'FAILED', name: 'r'.repeat(200) })],
  [
    'an execution name with a key separator',
    () => statusChange({ status: 'FAILED', name: `${RUN_ID}#IMAGE` }),
  ],
  ['an execution name that is a number', () => statusChange({ status: 'FAILED', name: 42 })],
];

describe('hostile execution status events', () => {
  it.each(closings)(hostile('EventBridge status change', '%s'), async (_what, event) => {
    // Prepare
    const close = createCloseAbandonedRunHandler({
      ledger: waiting.h.ledger,
      region: home().region,
      pricePerGibMonth: 0.05,
      now: () => new Date(),
    });

    // Act
    const attempt = close(event() as never);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'InvalidEventError', message: /expected/ });
    expect(await waiting.untouched()).toEqual(stillWaiting(RUN_ID));
  });
});
