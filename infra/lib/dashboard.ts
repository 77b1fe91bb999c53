/**
 * The audit dashboard: what the cleanup has done over time, from the metrics Finalize publishes
 * (names shared through functions/core/run-metrics.ts), plus links to the executions and the
 * ledger. The metrics' dimensions are this stack's own account and region, so every run of the
 * deployment adds to them; with `targets`, a row graphs each target's own (see run-metrics.ts).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  METRIC_DIMENSION,
  METRICS_NAMESPACE,
  RUN_METRIC,
  RUN_OUTCOMES,
  type RunMetricName,
} from '../../functions/core/run-metrics.ts';
import { POWERTOOLS_SERVICE_NAME } from './function-factory.ts';

export interface AuditDashboardProps {
  readonly stateMachine: sfn.IStateMachine;
  readonly ledgerTable: dynamodb.ITable;
  /** With `targets`: the organization run, linked, and a row graphing each target's own metrics. */
  readonly organizationStateMachine?: sfn.IStateMachine;
}

const DAY = Duration.days(1);

export class AuditDashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;
  /** A run finished with items FAILED. Its execution succeeds, so the execution alarms miss it. */
  readonly itemsFailedAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AuditDashboardProps) {
    super(scope, id);
    const { region, account } = Stack.of(this);
    const target = {
      service: POWERTOOLS_SERVICE_NAME,
      [METRIC_DIMENSION.region]: region,
      [METRIC_DIMENSION.account]: account,
    };
    const metric = (name: RunMetricName, label: string, statistic: string = cloudwatch.Stats.SUM) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: target,
        statistic,
        period: DAY,
        label,
      });
    const runsBy = (outcome: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: RUN_METRIC.runs,
        dimensionsMap: { ...target, [METRIC_DIMENSION.outcome]: outcome },
        statistic: cloudwatch.Stats.SUM,
        period: DAY,
        label: outcome,
      });
    const failed = metric(RUN_METRIC.itemsFailed, 'Items failed');

    this.itemsFailedAlarm = new cloudwatch.Alarm(this, 'ItemsFailed', {
      metric: failed.with({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'An ami-cleaner run ended with items FAILED; `amicleaner history --run ID` shows which and why.',
    });

    // One line per target account and region: a SEARCH, since OUs add targets at run time.
    const byTarget = (name: RunMetricName, label: string) =>
      new cloudwatch.MathExpression({
        expression:
          `SEARCH('{${METRICS_NAMESPACE},service,${METRIC_DIMENSION.region},${METRIC_DIMENSION.account},` +
          `${METRIC_DIMENSION.targetAccount},${METRIC_DIMENSION.targetRegion}} MetricName="${name}" ` +
          `service="${POWERTOOLS_SERVICE_NAME}" ${METRIC_DIMENSION.account}="${account}" ` +
          `${METRIC_DIMENSION.region}="${region}"', 'Sum', 86400)`,
        usingMetrics: {},
        period: DAY,
        label,
      });
    const targetRows = props.organizationStateMachine
      ? [
          [
            new cloudwatch.GraphWidget({
              title: 'AMIs deregistered per day, by target account and region',
              width: 12,
              left: [byTarget(RUN_METRIC.amisDeregistered, '')],
            }),
            new cloudwatch.GraphWidget({
              title: 'Items failed per day, by target account and region',
              width: 12,
              left: [byTarget(RUN_METRIC.itemsFailed, '')],
            }),
          ],
        ]
      : [];

    const consoleUrl = `https://${region}.console.aws.amazon.com`;
    const executions = `${consoleUrl}/states/home?region=${region}#/statemachines/view/${props.stateMachine.stateMachineArn}`;
    const organizationLink = props.organizationStateMachine
      ? `[Organization runs](${consoleUrl}/states/home?region=${region}#/statemachines/view/${props.organizationStateMachine.stateMachineArn}) (each plans and deletes in every target through target runs) · `
      : '';
    const ledger = `${consoleUrl}/dynamodbv2/home?region=${region}#item-explorer?table=${props.ledgerTable.tableName}`;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.days(90),
      widgets: [
        [
          new cloudwatch.TextWidget({
            width: 24,
            height: 3,
            markdown: [
              '# ami-cleaner: what the cleanup has done',
              `[Executions of the state machine](${executions}) (each one is a run; its name is the run id) · ` +
                organizationLink +
                `[The audit ledger](${ledger}) (every decision about every AMI) · ` +
                `\`amicleaner report --ledger-table ${props.ledgerTable.tableName}\` totals it by month, group and region.`,
              'Savings are estimated upper bounds (snapshots are incremental). Daily sums.',
            ].join('\n\n'),
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Runs by outcome',
            width: 12,
            stacked: true,
            view: cloudwatch.GraphWidgetView.BAR,
            left: RUN_OUTCOMES.map(runsBy),
          }),
          new cloudwatch.SingleValueWidget({
            title: 'Totals over the time range',
            width: 12,
            setPeriodToTimeRange: true,
            metrics: [
              metric(RUN_METRIC.amisDeregistered, 'AMIs deregistered'),
              metric(RUN_METRIC.snapshotsDeleted, 'Snapshots deleted'),
              metric(RUN_METRIC.gibFreed, 'GiB freed'),
              metric(RUN_METRIC.estimatedMonthlySavingUsd, 'USD a month saved'),
            ],
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Deletions per day',
            width: 12,
            left: [
              metric(RUN_METRIC.amisDeregistered, 'AMIs deregistered'),
              metric(RUN_METRIC.snapshotsDeleted, 'Snapshots deleted'),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Savings per day',
            width: 12,
            left: [metric(RUN_METRIC.gibFreed, 'GiB freed')],
            right: [metric(RUN_METRIC.estimatedMonthlySavingUsd, 'USD a month saved')],
          }),
        ],
        ...targetRows,
        [
          new cloudwatch.GraphWidget({
            title: 'Failures',
            width: 12,
            left: [
              failed,
              metric(RUN_METRIC.itemsSkippedInUse, 'Items skipped: in use at deletion'),
              props.stateMachine.metricFailed({ period: DAY, label: 'Executions failed' }),
              props.stateMachine.metricTimedOut({ period: DAY, label: 'Executions timed out' }),
              props.stateMachine.metricAborted({ period: DAY, label: 'Executions aborted' }),
            ],
          }),
          new cloudwatch.GraphWidget({
            title: 'Approval latency (seconds from request to decision)',
            width: 8,
            left: [
              metric(RUN_METRIC.approvalLatency, 'Average', cloudwatch.Stats.AVERAGE),
              metric(RUN_METRIC.approvalLatency, 'Slowest', cloudwatch.Stats.MAXIMUM),
            ],
          }),
          new cloudwatch.AlarmStatusWidget({ title: 'Alarms', width: 4, alarms: [this.itemsFailedAlarm] }),
        ],
      ],
    });
  }
}
