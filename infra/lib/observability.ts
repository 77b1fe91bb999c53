/** Alarms on executions that did not finish as planned, and on trigger events that were lost. */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface WorkflowAlarmsProps {
  /** Alarms on its failed, timed-out, aborted and throttled executions. */
  readonly stateMachine: sfn.StateMachine;
  /** Alarms as soon as a trigger event lands here (it started no run). */
  readonly deadLetterQueue: sqs.IQueue;
  /** Every alarm notifies this topic when it goes off. */
  readonly alarmTopic: sns.ITopic;
}

export class WorkflowAlarms extends Construct {
  readonly executionsFailed: cloudwatch.Alarm;
  readonly executionsTimedOut: cloudwatch.Alarm;
  readonly executionsAborted: cloudwatch.Alarm;
  readonly executionsThrottled: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: WorkflowAlarmsProps) {
    super(scope, id);
    const sm = props.stateMachine;
    const metric = { period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM };
    const notify = new actions.SnsAction(props.alarmTopic);
    const any = (alarmId: string, m: cloudwatch.IMetric, description: string) => {
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        metric: m,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      alarm.addAlarmAction(notify);
      return alarm;
    };
    this.executionsFailed = any(
      'ExecutionsFailed',
      sm.metricFailed(metric),
      'An ami-cleaner run failed: nothing was deleted unless it failed after approval; see the ledger.',
    );
    this.executionsTimedOut = any(
      'ExecutionsTimedOut',
      sm.metricTimedOut(metric),
      'An ami-cleaner run outlived its lock TTL and was stopped.',
    );
    this.executionsAborted = any(
      'ExecutionsAborted',
      sm.metricAborted(metric),
      'An ami-cleaner run was aborted.',
    );
    this.executionsThrottled = any(
      'ExecutionsThrottled',
      sm.metricThrottled(metric),
      'Step Functions throttled ami-cleaner state transitions.',
    );
    this.deadLetters = any(
      'TriggerDeadLetters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'EventBridge could not start ami-cleaner runs; the events wait in the dead-letter queue.',
    );
  }
}
