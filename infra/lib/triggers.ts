/** What starts a run: a new AMI becoming available, and the schedule. Both keep failed deliveries. */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

/** EventBridge's event for an AMI that finished creating or copying. */
export const AMI_AVAILABLE_EVENT_PATTERN: events.EventPattern = {
  source: ['aws.ec2'],
  detailType: ['EC2 AMI State Change'],
  detail: { State: ['available'] },
};

export interface TriggersProps {
  /** Checks an AMI-available or scheduled event and starts the state machine for it. */
  readonly startExecution: lambda.IFunction;
  /**
   * When to start a scheduled run.
   * @default - no schedule rule; runs start on a new AMI or by hand
   */
  readonly schedule?: events.Schedule;
  /** The workflows whose executions the abandoned-run rule watches (the target run; the organization run). */
  readonly stateMachines: readonly sfn.IStateMachine[];
  /** Finishes the ledger of an execution that failed, timed out or was stopped. */
  readonly closeAbandonedRun: lambda.IFunction;
}

/** Endings the definition's Catch paths cannot handle themselves (timeout, stop, States.Runtime). */
export const ABANDONED_EXECUTION_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'];

export class Triggers extends Construct {
  readonly amiAvailableRule: events.Rule;
  readonly scheduleRule?: events.Rule;
  readonly abandonedExecutionRule: events.Rule;
  /** Events EventBridge could not deliver to the start-execution function after its retries. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'This queue is itself the dead-letter queue of the EventBridge targets.',
      'AwsSolutions-SQS3',
    );

    // EventBridge invokes the function asynchronously: its target DLQ only keeps events it could
    // not deliver. An event the function rejects (or a StartExecution that keeps failing) goes
    // through Lambda's async retries, then to this on-failure destination: the same queue.
    props.startExecution.configureAsyncInvoke({
      onFailure: new SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });

    const target = new targets.LambdaFunction(props.startExecution, {
      deadLetterQueue: this.deadLetterQueue,
      retryAttempts: 8,
      maxEventAge: Duration.hours(6),
    });

    this.amiAvailableRule = new events.Rule(this, 'AmiAvailable', {
      description: 'Starts an ami-cleaner run scoped to the group of each new AMI',
      eventPattern: AMI_AVAILABLE_EVENT_PATTERN,
      targets: [target],
    });
    props.closeAbandonedRun.configureAsyncInvoke({
      onFailure: new SqsDestination(this.deadLetterQueue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    this.abandonedExecutionRule = new events.Rule(this, 'AbandonedExecution', {
      description: 'Finalizes the ledger and releases the lock of an execution that ended abnormally',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          stateMachineArn: props.stateMachines.map((machine) => machine.stateMachineArn),
          status: ABANDONED_EXECUTION_STATUSES,
        },
      },
      targets: [
        new targets.LambdaFunction(props.closeAbandonedRun, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
        }),
      ],
    });
    if (props.schedule) {
      this.scheduleRule = new events.Rule(this, 'Schedule', {
        description: 'Starts a full ami-cleaner run',
        schedule: props.schedule,
        targets: [target],
      });
    }
  }
}
