/**
 * The EventBridge target of both triggers: the schedule rule and the `EC2 AMI State Change`
 * (available) rule. Validates the event and starts one execution with a readable, unique name
 * derived from the event, so EventBridge's retries of the same event start nothing twice.
 * An event of unknown shape throws: the target's retries and dead-letter queue keep it.
 *
 * With `TARGETS` (a deployment with `targets`), the state machine started is the organization
 * run. A new AMI's run stays scoped to that AMI's account and region (input `target`); an AMI of
 * an account or region that is not a target is ignored with a log line (nothing to keep for a
 * retry). With OUs, an account not listed may still belong to a selected OU: the organization
 * run's ResolveTargets decides, and refuses it before anything is read if it does not.
 */
import { createHash } from 'node:crypto';
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { RunInput } from './acquire-lock.ts';
import { errorCode } from './adapters/errors.ts';
import { lazyHandler, sfnClient } from './commons/deps.ts';
import { getStringFromEnv } from './commons/env.ts';
import { AMI_ID, isRecord } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { target as makeTarget, type ValidTargetSelection, validateTargetSelection } from './core/target.ts';

interface EventEnvelope<DetailType extends string, Detail> {
  readonly version?: string;
  readonly id: string;
  readonly 'detail-type': DetailType;
  readonly source: string;
  readonly account?: string;
  /** ISO-8601, second precision. */
  readonly time: string;
  readonly region?: string;
  readonly resources?: readonly string[];
  readonly detail: Detail;
}

export type ScheduledEvent = EventEnvelope<'Scheduled Event', Readonly<Record<string, unknown>>>;

export type AmiStateChangeEvent = EventEnvelope<
  'EC2 AMI State Change',
  {
    readonly RequestId?: string;
    readonly ImageId: string;
    readonly State: string;
    readonly ErrorMessage?: string;
  }
>;

export type StartExecutionEvent = ScheduledEvent | AmiStateChangeEvent;

/** The input of an organization run a new AMI starts: scoped to that AMI's account and region. */
export type TriggerInput = RunInput & {
  readonly target?: { readonly accountId: string; readonly region: string };
};

export interface StartExecutionResult {
  readonly executionName: string;
  /** Absent when the execution already existed (a repeated delivery of the same event). */
  readonly executionArn?: string;
  readonly alreadyStarted: boolean;
  readonly input: TriggerInput;
}

/** An AMI of an account or region this deployment does not clean: nothing started. */
export interface IgnoredTriggerResult {
  readonly ignored: true;
  readonly reason: string;
}

export interface StartExecutionDeps {
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** The deployment's `targets`: `stateMachineArn` is then the organization run. */
  readonly targets?: ValidTargetSelection;
  readonly logger?: HandlerLogger;
}

/** Not an event this function is the target of. The run is not started; EventBridge keeps the event. */
export class InvalidTriggerEventError extends Error {
  override readonly name = 'InvalidTriggerEventError';
}

/** Step Functions' limit on execution names. */
export const MAX_EXECUTION_NAME_LENGTH = 80;

/** Without targets, every valid event starts a run (or was started before): nothing is ignored. */
export function createStartExecutionHandler(
  deps: StartExecutionDeps & { readonly targets?: undefined },
): (event: StartExecutionEvent) => Promise<StartExecutionResult>;
export function createStartExecutionHandler(
  deps: StartExecutionDeps,
): (event: StartExecutionEvent) => Promise<StartExecutionResult | IgnoredTriggerResult>;
export function createStartExecutionHandler(
  deps: StartExecutionDeps,
): (event: StartExecutionEvent) => Promise<StartExecutionResult | IgnoredTriggerResult> {
  const logger = deps.logger ?? silentLogger;
  const home = homeOf(deps.stateMachineArn);
  return async (event) => {
    const described = describeTrigger(event);
    let input: TriggerInput = described.input;
    const name = described.name;
    if (deps.targets === undefined || input.trigger === 'schedule') checkOrigin(event, home);
    else {
      const scoped = scopeToTarget(event, deps.targets);
      if ('ignored' in scoped) {
        logger.info('AMI event ignored: not a target of this deployment', {
          reason: scoped.reason,
          imageId: input.imageId,
        });
        return scoped;
      }
      input = { ...input, target: scoped.target };
    }
    try {
      const out = await deps.sfn.send(
        new StartExecutionCommand({
          stateMachineArn: deps.stateMachineArn,
          name,
          input: JSON.stringify(input),
        }),
      );
      logger.info('execution started', {
        executionName: name,
        trigger: input.trigger,
        imageId: input.imageId,
      });
      return {
        executionName: name,
        alreadyStarted: false,
        input,
        ...(out.executionArn === undefined ? {} : { executionArn: out.executionArn }),
      };
    } catch (error) {
      // The name is derived from the event id: it exists because this event was delivered before.
      if (errorCode(error) !== 'ExecutionAlreadyExists') throw error;
      logger.info('execution already started for this event', { executionName: name });
      return { executionName: name, alreadyStarted: true, input };
    }
  };
}

const STATE_MACHINE_ARN = /^arn:aws[a-z-]*:states:([a-z0-9-]+):(\d{12}):stateMachine:/;

/** The account and region the state machine (and so this deployment) lives in. */
function homeOf(stateMachineArn: string): { readonly region: string; readonly account: string } {
  const match = STATE_MACHINE_ARN.exec(stateMachineArn);
  if (!match) throw new RangeError(`STATE_MACHINE_ARN is not a state machine ARN: ${stateMachineArn}`);
  return { region: match[1] as string, account: match[2] as string };
}

/**
 * Events forwarded from another account's or region's bus describe AMIs this deployment cannot
 * clean: a run started for them would plan the wrong account. EventBridge always sets both fields.
 */
function checkOrigin(event: unknown, home: { readonly region: string; readonly account: string }): void {
  if (!isRecord(event)) return;
  if (event.account !== home.account) {
    throw new InvalidTriggerEventError(`the event is not from this deployment's account ${home.account}`);
  }
  if (event.region !== home.region) {
    throw new InvalidTriggerEventError(`the event is not from this deployment's region ${home.region}`);
  }
}

/**
 * Which target a new AMI's organization run is scoped to: its event's account and region, which
 * EventBridge always sets. Not a target: ignored. Malformed: thrown (kept by the DLQ).
 */
function scopeToTarget(
  event: unknown,
  targets: ValidTargetSelection,
): { readonly target: { accountId: string; region: string } } | IgnoredTriggerResult {
  const record = isRecord(event) ? event : {};
  let each: { accountId: string; region: string };
  try {
    const parsed = makeTarget(record.account, record.region);
    each = { accountId: parsed.accountId, region: parsed.region };
  } catch {
    throw new InvalidTriggerEventError('the AMI state change event has no valid account and region');
  }
  if (!targets.regions.includes(each.region)) {
    return { ignored: true, reason: `region ${each.region} is not among the targets' regions` };
  }
  if (!targets.accounts.includes(each.accountId) && targets.organizationalUnits.length === 0) {
    return { ignored: true, reason: `account ${each.accountId} is not among the target accounts` };
  }
  return { target: each };
}

/** The execution name and input for a trigger event; throws InvalidTriggerEventError. Pure. */
export function describeTrigger(event: unknown): { name: string; input: RunInput } {
  if (!isRecord(event)) throw new InvalidTriggerEventError('the event must be an object');
  const id = event.id;
  if (typeof id !== 'string' || id === '') throw new InvalidTriggerEventError('the event has no id');
  const time = typeof event.time === 'string' ? Date.parse(event.time) : Number.NaN;
  if (Number.isNaN(time)) throw new InvalidTriggerEventError('the event has no valid time');
  const stamp = compactTimestamp(new Date(time));
  const suffix = eventSuffix(id);
  const detailType = event['detail-type'];

  if (detailType === 'Scheduled Event' && event.source === 'aws.events') {
    return { name: `schedule-${stamp}-${suffix}`, input: { trigger: 'schedule' } };
  }
  if (detailType === 'EC2 AMI State Change' && event.source === 'aws.ec2') {
    const detail = isRecord(event.detail) ? event.detail : {};
    const imageId = detail.ImageId;
    if (typeof imageId !== 'string' || !AMI_ID.test(imageId)) {
      throw new InvalidTriggerEventError('the AMI state change event has no valid detail.ImageId');
    }
    if (detail.State !== 'available') {
      throw new InvalidTriggerEventError('only AMI state changes to "available" start a run');
    }
    return {
      name: `ami-available-${imageId}-${stamp}-${suffix}`,
      input: { trigger: 'ami-available', imageId },
    };
  }
  throw new InvalidTriggerEventError(
    'expected a "Scheduled Event" from aws.events or an "EC2 AMI State Change" from aws.ec2',
  );
}

/** `2026-11-25T21:00:00.000Z` → `20261125T210000Z`. */
function compactTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z`;
}

/** 12 hex characters from the event id: the same event always gets the same name. */
function eventSuffix(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 12);
}

/** TARGETS, when set: the deployment's selection (checked at synth; a bad one throws at cold start). */
function targetsFromEnv(): ValidTargetSelection | undefined {
  const text = process.env.TARGETS;
  if (text === undefined || text === '') return undefined;
  return validateTargetSelection(JSON.parse(text) as ValidTargetSelection);
}

export const handler = lazyHandler(() => {
  const targets = targetsFromEnv();
  return createStartExecutionHandler({
    sfn: sfnClient(),
    stateMachineArn: getStringFromEnv('STATE_MACHINE_ARN'),
    ...(targets ? { targets } : {}),
    logger: createLogger('start-execution'),
  });
});
