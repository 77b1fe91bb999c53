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
  /**
   * With `targets`: the organization run, alarmed on the same four. Its target runs are
   * `stateMachine`'s executions, so a target that fails sets off both.
   */
  readonly organizationStateMachine?: sfn.StateMachine;
  /** Alarms as soon as a trigger event lands here (it started no run). */
  readonly deadLetterQueue: sqs.IQueue;
  /** Every alarm notifies this topic when it goes off. */
  readonly alarmTopic: sns.ITopic;
}

/** The four alarms on one state machine's executions. */
export interface ExecutionAlarms {
  readonly executionsFailed: cloudwatch.Alarm;
  readonly executionsTimedOut: cloudwatch.Alarm;
  readonly executionsAborted: cloudwatch.Alarm;
  readonly executionsThrottled: cloudwatch.Alarm;
}

export class WorkflowAlarms extends Construct implements ExecutionAlarms {
  readonly executionsFailed: cloudwatch.Alarm;
  readonly executionsTimedOut: cloudwatch.Alarm;
  readonly executionsAborted: cloudwatch.Alarm;
  readonly executionsThrottled: cloudwatch.Alarm;
  readonly deadLetters: cloudwatch.Alarm;
  /** Only with `organizationStateMachine`. */
  readonly organizationRun?: ExecutionAlarms;

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
    // The target run's ids carry no prefix, so adding `targets` replaces none of its alarms.
    const executionAlarms = (sm: sfn.StateMachine, prefix: string, run: string): ExecutionAlarms => ({
      executionsFailed: any(
        `${prefix}ExecutionsFailed`,
        sm.metricFailed(metric),
        `An ami-cleaner ${run} failed: nothing was deleted unless it failed after approval; see the ledger.`,
      ),
      executionsTimedOut: any(
        `${prefix}ExecutionsTimedOut`,
        sm.metricTimedOut(metric),
        `An ami-cleaner ${run} outlived its lock TTL and was stopped.`,
      ),
      executionsAborted: any(
        `${prefix}ExecutionsAborted`,
        sm.metricAborted(metric),
        `An ami-cleaner ${run} was aborted.`,
      ),
      executionsThrottled: any(
        `${prefix}ExecutionsThrottled`,
        sm.metricThrottled(metric),
        `Step Functions throttled the state transitions of an ami-cleaner ${run}.`,
      ),
    });
    const own = executionAlarms(sm, '', props.organizationStateMachine ? 'target run' : 'run');
    this.executionsFailed = own.executionsFailed;
    this.executionsTimedOut = own.executionsTimedOut;
    this.executionsAborted = own.executionsAborted;
    this.executionsThrottled = own.executionsThrottled;
    if (props.organizationStateMachine) {
      this.organizationRun = executionAlarms(
        props.organizationStateMachine,
        'OrganizationRun',
        'organization run',
      );
    }
    this.deadLetters = any(
      'TriggerDeadLetters',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      'EventBridge could not start ami-cleaner runs; the events wait in the dead-letter queue.',
    );
  }
}
