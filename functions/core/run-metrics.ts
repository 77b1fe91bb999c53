/**
 * The CloudWatch metrics a finished run publishes (Finalize emits them as EMF; the construct's
 * dashboard graphs them). One module holds the names, so the emitter and the dashboard cannot
 * drift apart. Pure: it turns a run summary into named values.
 */
import type { RunStatus, RunSummary } from './workflow.ts';

export const METRICS_NAMESPACE = 'AmiCleaner';

/** Metric names, as they appear in CloudWatch. */
export const RUN_METRIC = {
  amisDeregistered: 'AmisDeregistered',
  snapshotsDeleted: 'SnapshotsDeleted',
  gibFreed: 'GiBFreed',
  estimatedMonthlySavingUsd: 'EstimatedMonthlySavingUsd',
  itemsFailed: 'ItemsFailed',
  itemsSkippedInUse: 'ItemsSkippedInUse',
  /** 1 per finished run, with the `outcome` dimension. */
  runs: 'Runs',
  /** Seconds from the approval request to the decision; only for runs that got one. */
  approvalLatency: 'ApprovalLatency',
} as const;

export type RunMetricName = (typeof RUN_METRIC)[keyof typeof RUN_METRIC];

/**
 * Every metric carries `region` and `account`: the deployment's (from the execution ARN), so the
 * dashboard and the ItemsFailed alarm see every run of the deployment, whichever account it
 * cleaned. A target run of an organization run also publishes its quantities with
 * `targetAccount` and `targetRegion`, the account and region it cleaned: a metric of its own,
 * so nothing is counted twice.
 */
export const METRIC_DIMENSION = {
  region: 'region',
  account: 'account',
  outcome: 'outcome',
  targetAccount: 'targetAccount',
  targetRegion: 'targetRegion',
} as const;

/** The statuses a run can end with, i.e. the values of the `outcome` dimension of `Runs`. */
export const RUN_OUTCOMES = [
  'COMPLETED',
  'COMPLETED_WITH_FAILURES',
  'NOTHING_TO_DELETE',
  'DRY_RUN',
  'REJECTED',
  'EXPIRED',
  'FAILED',
] as const satisfies readonly RunStatus[];

export type MetricUnitName = 'Count' | 'Gigabytes' | 'Seconds' | 'None';

export interface MetricValue {
  readonly name: RunMetricName;
  readonly unit: MetricUnitName;
  readonly value: number;
}

/** What one finished run publishes: values with the deployment's dimensions, and the outcome count. */
export interface RunMetrics {
  readonly dimensions: { readonly region: string; readonly account: string };
  /** Only for a target run of an organization run: the account and region it cleaned. */
  readonly target?: { readonly region: string; readonly account: string };
  readonly values: readonly MetricValue[];
  readonly outcome: RunStatus;
}

export class MetricTargetError extends Error {
  override readonly name = 'MetricTargetError';
}

/** Region and account from `arn:aws:states:<region>:<account>:execution:<machine>:<name>`. */
export function targetOfExecution(executionArn: string): { region: string; account: string } {
  const parts = executionArn.split(':');
  const [, , service, region, account] = parts;
  if (parts.length < 7 || service !== 'states' || !region || !account || !/^\d{12}$/.test(account)) {
    throw new MetricTargetError('the run has no execution ARN naming its region and account');
  }
  return { region, account };
}

/** Whole seconds between the approval request and the decision, or undefined if there was none. */
export function approvalLatencySeconds(approval?: {
  readonly createdAt?: string;
  readonly decidedAt?: string;
}): number | undefined {
  if (!approval?.createdAt || !approval.decidedAt) return undefined;
  const ms = Date.parse(approval.decidedAt) - Date.parse(approval.createdAt);
  return Number.isFinite(ms) && ms >= 0 ? Math.round(ms / 1000) : undefined;
}

export function buildRunMetrics(input: {
  readonly executionArn: string;
  /** The run record's target: a target run's account and region (even the hub's own). */
  readonly target?: { readonly accountId: string; readonly region: string };
  readonly summary: RunSummary;
  readonly approvalLatencySeconds?: number;
}): RunMetrics {
  const { summary } = input;
  const count = (name: RunMetricName, value: number): MetricValue => ({ name, unit: 'Count', value });
  const values: MetricValue[] = [
    count(RUN_METRIC.amisDeregistered, summary.deregistered),
    count(RUN_METRIC.snapshotsDeleted, summary.snapshotsDeleted),
    { name: RUN_METRIC.gibFreed, unit: 'Gigabytes', value: summary.gibFreed },
    { name: RUN_METRIC.estimatedMonthlySavingUsd, unit: 'None', value: summary.estimatedMonthlySavingUsd },
    count(RUN_METRIC.itemsFailed, summary.failed),
    count(RUN_METRIC.itemsSkippedInUse, summary.skippedInUse),
  ];
  if (input.approvalLatencySeconds !== undefined) {
    values.push({ name: RUN_METRIC.approvalLatency, unit: 'Seconds', value: input.approvalLatencySeconds });
  }
  const cleaned = input.target;
  return {
    dimensions: targetOfExecution(input.executionArn),
    ...(cleaned === undefined ? {} : { target: { region: cleaned.region, account: cleaned.accountId } }),
    values,
    outcome: summary.status,
  };
}
