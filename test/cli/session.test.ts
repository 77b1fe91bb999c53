import { describe, expect, it } from 'vitest';
import { demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { startLocalLedger } from '../../cli/local-ledger.ts';
import { runLocalSession } from '../../cli/local-runner/session.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';

describe('runLocalSession, prompt mode', () => {
  it('shows the plan of its own approval link, even when the ledger holds a newer run awaiting approval', async () => {
    // Arrange: a shared ledger where another run (another region, another laptop) started later
    // and is waiting for its own approval; its plan is not in this session's workspace.
    const local = await startLocalLedger();
    const env = demoEnvironment('rich');
    await local.ledger.putRun(
      {
        runId: 'someone-else',
        executionArn: 'arn:aws:states:eu-west-3:000000000000:execution:ami-cleaner:someone-else',
        trigger: 'manual',
        dryRun: false,
        settings: DEFAULT_PLAN_SETTINGS,
        startedAt: '2999-01-01T00:00:00.000Z',
        maxDeletionsPerRun: 500,
      },
      { status: 'AWAITING_APPROVAL', planKey: 'runs/someone-else/plan' },
    );
    const io = bufferIo();
    const questions: string[] = [];

    // Act
    const result = await runLocalSession(io, {
      env,
      ledger: local.ledger,
      settings: DEFAULT_PLAN_SETTINGS,
      approval: 'prompt',
      approvalTimeoutSeconds: 3,
      approver: 'tester (CLI)',
      retryIntervalMs: 0,
      readAnswer: async (question) => {
        questions.push(question);
        return 'y';
      },
    }).finally(() => local.stop());

    // Assess
    expect(questions).toHaveLength(1);
    expect(result.output?.status).toBe('COMPLETED');
  });
});

describe('runLocalSession and a deployed run sharing one ledger', () => {
  it("skips while a deployed run of the same account and region holds that account's lock", async () => {
    // Arrange: the deployed workflow's run of this account and region holds the lock.
    const local = await startLocalLedger();
    const env = demoEnvironment('blog');
    const accountId = env.simulated?.accountId as string;
    await local.ledger.acquireLock(`${accountId}-${env.region}`, 'deployed-run', 3600);

    // Act
    const attempt = runLocalSession(bufferIo(), {
      env,
      ledger: local.ledger,
      settings: DEFAULT_PLAN_SETTINGS,
      approval: 'yes',
      approvalTimeoutSeconds: 3,
      approver: 'tester (CLI)',
      retryIntervalMs: 0,
    });

    // Assess
    await expect(attempt).rejects.toThrow('another run holds the lock of this account and region');
    const skipped = (await local.ledger.listRuns()).find((run) => run.runId !== 'deployed-run');
    expect(skipped?.status).toBe('SKIPPED_LOCKED');
    expect((await local.ledger.getLock(`${accountId}-${env.region}`))?.owner).toBe('deployed-run');
    await local.stop();
  });
});
