import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PowertoolsRunMetrics, type RunMetricsPublisher } from '../../functions/adapters/run-metrics.ts';
import {
  approvalLatencySeconds,
  buildRunMetrics,
  METRICS_NAMESPACE,
  RUN_METRIC,
  type RunMetrics,
  targetOfExecution,
} from '../../functions/core/run-metrics.ts';
import type { RunSummary } from '../../functions/core/workflow.ts';
import { createFinalizeHandler } from '../../functions/finalize.ts';
import {
  type Harness,
  imageItem,
  NOW,
  planRun,
  type Scenario,
  seedScenario,
  startHarness,
} from './harness.ts';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner:run-1';

const SUMMARY: RunSummary = {
  runId: 'run-1',
  status: 'COMPLETED_WITH_FAILURES',
  candidates: 4,
  deregistered: 2,
  snapshotsDeleted: 3,
  skippedInUse: 1,
  failed: 1,
  deferred: 0,
  gibFreed: 38,
  estimatedMonthlySavingUsd: 1.9,
};

interface EmfDocument {
  readonly _aws: {
    readonly CloudWatchMetrics: readonly {
      readonly Namespace: string;
      readonly Dimensions: readonly (readonly string[])[];
      readonly Metrics: readonly { readonly Name: string; readonly Unit: string }[];
    }[];
  };
  readonly [key: string]: unknown;
}

/**
 * Powertools' documented test set-up: in dev mode with metrics enabled it writes EMF through the
 * global console, so a spy on console.log sees each document.
 */
function captureEmf(): { documents: () => EmfDocument[] } {
  vi.stubEnv('POWERTOOLS_DEV', 'true');
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  return { documents: () => log.mock.calls.map(([line]) => JSON.parse(String(line)) as EmfDocument) };
}

/** `{ metric name: unit }` of one document. */
const units = (doc: EmfDocument) =>
  Object.fromEntries(doc._aws.CloudWatchMetrics[0]?.Metrics.map((m) => [m.Name, m.Unit]) ?? []);

describe('run metrics (pure)', () => {
  it('takes region and account from the execution ARN, and refuses an ARN without them', () => {
    expect(targetOfExecution(ARN)).toEqual({ region: 'eu-west-1', account: '123456789012' });
    expect(() => targetOfExecution('run-1')).toThrow(/execution ARN/);
    expect(() => targetOfExecution('arn:aws:states:eu-west-1::execution:m:n')).toThrow(/execution ARN/);
  });

  it('measures approval latency from the request to the decision, and only when decided', () => {
    expect(
      approvalLatencySeconds({
        createdAt: '2026-05-01T12:00:00.000Z',
        decidedAt: '2026-05-01T13:30:00.400Z',
      }),
    ).toBe(5400);
    expect(approvalLatencySeconds({ createdAt: '2026-05-01T12:00:00.000Z' })).toBeUndefined();
    expect(approvalLatencySeconds(undefined)).toBeUndefined();
    expect(
      approvalLatencySeconds({
        createdAt: '2026-05-01T12:00:00.000Z',
        decidedAt: '2026-05-01T11:00:00.000Z',
      }),
    ).toBeUndefined();
  });

  it('turns a summary into one value per metric, the latency only when known', () => {
    const withLatency = buildRunMetrics({ executionArn: ARN, summary: SUMMARY, approvalLatencySeconds: 90 });
    expect(Object.fromEntries(withLatency.values.map((v) => [v.name, v.value]))).toEqual({
      AmisDeregistered: 2,
      SnapshotsDeleted: 3,
      GiBFreed: 38,
      EstimatedMonthlySavingUsd: 1.9,
      ItemsFailed: 1,
      ItemsSkippedInUse: 1,
      ApprovalLatency: 90,
    });
    expect(withLatency.outcome).toBe('COMPLETED_WITH_FAILURES');
    const without = buildRunMetrics({ executionArn: ARN, summary: SUMMARY });
    expect(without.values.map((v) => v.name)).not.toContain(RUN_METRIC.approvalLatency);
  });
});

describe('PowertoolsRunMetrics', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  it('emits the quantities by service, region and account, and the run by outcome too', () => {
    // Prepare
    const emf = captureEmf();
    const metrics = new PowertoolsRunMetrics({ serviceName: 'ami-cleaner' });

    // Act
    metrics.publish(buildRunMetrics({ executionArn: ARN, summary: SUMMARY, approvalLatencySeconds: 90 }));

    // Assess
    const [quantities, run] = emf.documents() as [EmfDocument, EmfDocument];
    expect(emf.documents()).toHaveLength(2);
    expect(quantities._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
    expect(quantities._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'region', 'account']]);
    expect(quantities).toMatchObject({
      service: 'ami-cleaner',
      region: 'eu-west-1',
      account: '123456789012',
      AmisDeregistered: 2,
      SnapshotsDeleted: 3,
      GiBFreed: 38,
      EstimatedMonthlySavingUsd: 1.9,
      ItemsFailed: 1,
      ItemsSkippedInUse: 1,
      ApprovalLatency: 90,
    });
    expect(units(quantities)).toMatchObject({ GiBFreed: 'Gigabytes', ApprovalLatency: 'Seconds' });
    expect(quantities).not.toHaveProperty('Runs');
    expect(run._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service', 'region', 'account', 'outcome']]);
    expect(run).toMatchObject({ outcome: 'COMPLETED_WITH_FAILURES', Runs: 1, region: 'eu-west-1' });
    expect(run).not.toHaveProperty('GiBFreed');
  });

  it('for a target run of an organization run, adds the quantities by the account and region it cleaned, as metrics of their own', () => {
    // Prepare
    const emf = captureEmf();
    const metrics = new PowertoolsRunMetrics({ serviceName: 'ami-cleaner' });
    const target = { accountId: '210987654321', region: 'us-east-1' };

    // Act
    metrics.publish(buildRunMetrics({ executionArn: ARN, target, summary: SUMMARY }));

    // Assess: the deployment's two documents unchanged (the alarm and dashboard see this run)...
    const [quantities, run, byTarget] = emf.documents() as [EmfDocument, EmfDocument, EmfDocument];
    expect(emf.documents()).toHaveLength(3);
    expect(quantities).toMatchObject({ region: 'eu-west-1', account: '123456789012', ItemsFailed: 1 });
    expect(run).toMatchObject({ outcome: 'COMPLETED_WITH_FAILURES', Runs: 1, account: '123456789012' });
    // ...and a third with its own dimension set, so no series counts the run twice.
    expect(byTarget._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      ['service', 'region', 'account', 'targetAccount', 'targetRegion'],
    ]);
    expect(byTarget).toMatchObject({
      account: '123456789012',
      targetAccount: '210987654321',
      targetRegion: 'us-east-1',
      AmisDeregistered: 2,
      GiBFreed: 38,
      ItemsFailed: 1,
    });
    expect(byTarget).not.toHaveProperty('Runs');
  });

  it("a target run of the hub's own account and region is published by target too", () => {
    const own = buildRunMetrics({
      executionArn: ARN,
      target: { accountId: '123456789012', region: 'eu-west-1' },
      summary: SUMMARY,
    });
    expect(own.target).toEqual({ account: '123456789012', region: 'eu-west-1' });
    expect(buildRunMetrics({ executionArn: ARN, summary: SUMMARY }).target).toBeUndefined();
  });
});

describe('finalize publishes run metrics', () => {
  let h: Harness;
  let scenario: Scenario;
  const published: RunMetrics[] = [];
  const recorder: RunMetricsPublisher = { publish: (metrics) => published.push(metrics) };

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    published.length = 0;
  });

  afterEach(async () => {
    await h.stop();
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
  });

  const finalizeWith = (metrics: RunMetricsPublisher) =>
    createFinalizeHandler({ ledger: h.ledger, pricePerGibMonth: 0.05, now: () => NOW, metrics });

  /** Approval requested at NOW and decided 90 minutes later. */
  async function approveAfter90Minutes(runId: string, planHash: string, planKey: string) {
    const approvalId = `approval-${runId}`;
    await h.ledger.putApproval({
      approvalId,
      runId,
      planHash,
      planKey,
      taskToken: 'secret-task-token',
      expiresAt: new Date(NOW.getTime() + 86_400_000),
    });
    await h.ledger.updateRun(runId, { status: 'AWAITING_APPROVAL', approvalId });
    const decidedAt = new Date(NOW.getTime() + 90 * 60_000);
    await h.ledger.useApproval(approvalId, { decision: 'APPROVED', approver: 'alice', planHash }, decidedAt);
    return { decision: 'APPROVED' as const, planHash, approver: 'alice' };
  }

  it('emits what the run freed and how long the approval took, as EMF values', async () => {
    // Prepare: front[0] done (8 GiB), the orphan deleted (30 GiB), the rest fails at Finalize
    const emf = captureEmf();
    const { run, plan } = await planRun(h);
    const approval = await approveAfter90Minutes(run.runId, plan.planHash, plan.planKey);
    const work = await h.handlers.loadApproved({ run, planHash: plan.planHash, approval });
    const imageId = scenario.frontCandidates[0] as string;
    const approvedImage = imageItem(plan.planHash, imageId, work, run.runId);
    await h.handlers.deregister(approvedImage);
    await h.handlers.deleteSnapshots(approvedImage);
    await h.handlers.deleteOrphan({
      runId: run.runId,
      planHash: plan.planHash,
      snapshotId: scenario.orphanSnapshot,
    });

    // Act
    const summary = await finalizeWith(new PowertoolsRunMetrics({ serviceName: 'ami-cleaner' }))({
      run,
      outcome: 'APPROVED',
      planHash: plan.planHash,
      approval,
    });

    // Assess
    const [quantities, outcome] = emf.documents() as [EmfDocument, EmfDocument];
    expect(quantities).toMatchObject({
      region: 'eu-west-1',
      account: '123456789012',
      AmisDeregistered: 1,
      SnapshotsDeleted: 2,
      GiBFreed: 38,
      EstimatedMonthlySavingUsd: 1.9,
      ItemsFailed: summary.failed,
      ItemsSkippedInUse: 0,
      ApprovalLatency: 5400,
    });
    expect(summary.failed).toBe(2);
    expect(outcome).toMatchObject({ outcome: 'COMPLETED_WITH_FAILURES', Runs: 1 });
  });

  it('publishes once per run: a retried Finalize counts nothing twice', async () => {
    // Prepare
    const { run } = await planRun(h);
    const finalize = finalizeWith(recorder);
    await finalize({ run, outcome: 'DRY_RUN' });

    // Act
    await finalize({ run, outcome: 'DRY_RUN' });

    // Assess
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({ outcome: 'DRY_RUN', dimensions: { region: 'eu-west-1' } });
    expect(published[0]?.values.map((v) => v.name)).not.toContain(RUN_METRIC.approvalLatency);
  });

  it("a target run's metrics carry the account and region its run record names", async () => {
    // Prepare: the run record of a target run in a member account (as AcquireLock writes it).
    const { run } = await planRun(h);
    const target = { accountId: '210987654321', region: 'us-east-1' };
    await h.ledger.putRun({ ...run, target } as never, { status: 'RUNNING' });

    // Act
    await finalizeWith(recorder)({ run, outcome: 'DRY_RUN' });

    // Assess
    expect(published).toHaveLength(1);
    expect(published[0]).toMatchObject({
      dimensions: { account: '123456789012', region: 'eu-west-1' },
      target: { account: '210987654321', region: 'us-east-1' },
    });
  });

  it('still closes the run when publishing fails', async () => {
    // Prepare
    const { run } = await planRun(h);
    const broken: RunMetricsPublisher = {
      publish: () => {
        throw new Error('stdout closed');
      },
    };

    // Act
    const summary = await finalizeWith(broken)({ run, outcome: 'REJECTED' });

    // Assess
    expect(summary.status).toBe('REJECTED');
    expect(await h.ledger.getRun(run.runId)).toMatchObject({ status: 'REJECTED' });
  });
});
