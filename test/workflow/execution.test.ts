/**
 * Executes the very ASL file CDK deploys (statemachine/ami-cleaner.asl.json) through the local
 * runner: every Task on its real handler in-process, against the simulated account (real SDK
 * clients), with the ledger on dynalite and the real approval page answered over HTTP. Each test
 * checks the outcome in the account (what still exists, which mutating calls were made), in the
 * ledger (every item's final status, the run's status) and in the execution's output.
 */

import { DeregisterImageCommand } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it } from 'vitest';
import { localLockKey } from '../../cli/local-runner/run-workflow.ts';
import { answerApprovalLink, ScriptedApprovalError } from '../../cli/local-runner/scripted-approver.ts';
import { createAwsClients } from '../../functions/adapters/clients.ts';
import type { LedgerItem } from '../../functions/adapters/ledger/index.ts';
import { FINAL_ITEM_STATUSES, type RunSummary } from '../../functions/core/workflow.ts';
import {
  APPROVER,
  type Execution,
  expectNothingDeleted,
  type HarnessOptions,
  startWorkflowHarness,
  statesWith,
  type WorkflowHarness,
} from './harness.ts';

let harness: WorkflowHarness | undefined;

async function start(options: HarnessOptions = {}): Promise<WorkflowHarness> {
  harness = await startWorkflowHarness(options);
  return harness;
}

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/** What the rich scenario's plan deletes with the harness's settings (keep 4, orphans on). */
function expectedPlan(h: WorkflowHarness) {
  const { images, snapshots, candidateImageIds } = h.scenario;
  const orphanIds = [snapshots.orphanCreateImage, snapshots.orphanCopyImage];
  const imageSnapshotIds = candidateImageIds
    .flatMap((id) => h.snapshotsOf(id))
    .filter((id) => id !== snapshots.sharedByTwoImages);
  const deletedSnapshotIds = [...imageSnapshotIds, ...orphanIds];
  return {
    candidateImageIds,
    orphanIds,
    imageSnapshotIds,
    deletedSnapshotIds,
    keptImageIds: h.seededImageIds.filter((id) => !candidateImageIds.includes(id)),
    gibFreed: deletedSnapshotIds.reduce((sum, id) => sum + h.sizeOf(id), 0),
    sharedCandidate: images.sharedSnapshotCandidate,
  };
}

function output(execution: Execution): RunSummary {
  expect(execution.result.status).toBe('SUCCEEDED');
  return execution.result.output as RunSummary;
}

function expectAllFinal(items: Map<string, LedgerItem>): void {
  const open = [...items.values()].filter((item) => !FINAL_ITEM_STATUSES.includes(item.status));
  expect(open.map((item) => `${item.id}:${item.status}`)).toEqual([]);
}

function statusesOf(items: Map<string, LedgerItem>, ids: readonly string[]): string[] {
  return ids.map((id) => items.get(id)?.status ?? 'MISSING');
}

/** The hidden fields of the approval page's form, as a browser would submit them. */
async function loadForm(link: string): Promise<URLSearchParams> {
  const page = await fetch(link);
  expect(page.status).toBe(200);
  const form = new URLSearchParams();
  for (const match of (await page.text()).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(match[1] as string, (match[2] as string).replaceAll('&amp;', '&'));
  }
  expect(form.has('formToken')).toBe(true);
  return form;
}

describe('approve', () => {
  it('deletes exactly the approved plan: candidate AMIs, their snapshots and the orphans', async () => {
    // Prepare
    const h = await start();
    const plan = expectedPlan(h);

    // Act
    const execution = await h.run({ decision: 'APPROVE' });

    // Assess
    const summary = output(execution);
    expect(summary).toMatchObject({
      runId: execution.runId,
      status: 'COMPLETED',
      candidates: plan.candidateImageIds.length + plan.orphanIds.length,
      deregistered: plan.candidateImageIds.length,
      snapshotsDeleted: plan.deletedSnapshotIds.length,
      skippedInUse: 0,
      failed: 0,
      deferred: 0,
      gibFreed: plan.gibFreed,
      approver: APPROVER,
    });
    expect(summary.estimatedMonthlySavingUsd).toBeGreaterThan(0);
    expect(execution.approvals).toHaveLength(1);
    expect(h.account.published).toHaveLength(1);

    // The account: exactly the plan is gone, nothing else was touched.
    expect(sorted(h.calledIds('DeregisterImage', { all: true }))).toEqual(sorted(plan.candidateImageIds));
    expect(sorted(h.calledIds('DeleteSnapshot', { all: true }))).toEqual(sorted(plan.deletedSnapshotIds));
    expect(sorted(new Set(h.ec2Mutations()))).toEqual(['DeleteSnapshot', 'DeregisterImage']);
    expect(plan.candidateImageIds.filter((id) => h.account.images.has(id))).toEqual([]);
    expect(plan.deletedSnapshotIds.filter((id) => h.account.snapshots.has(id))).toEqual([]);
    expect(plan.keptImageIds.filter((id) => !h.account.images.has(id))).toEqual([]);
    const survivors = h.seededSnapshotIds.filter((id) => !plan.deletedSnapshotIds.includes(id));
    expect(survivors.filter((id) => !h.account.snapshots.has(id))).toEqual([]);

    // The ledger: every candidate DONE, every other AMI KEPT with its reason, the run COMPLETED.
    const items = await h.items(execution.runId);
    expect(items.size).toBe(h.seededImageIds.length + plan.orphanIds.length);
    expectAllFinal(items);
    expect(statusesOf(items, [...plan.candidateImageIds, ...plan.orphanIds]).every((s) => s === 'DONE')).toBe(
      true,
    );
    expect(statusesOf(items, plan.keptImageIds).every((s) => s === 'KEPT')).toBe(true);
    for (const id of h.scenario.inUseImageIds) expect(items.get(id)?.reason).toBe('IN_USE');
    const { optOutTag, deregistrationProtection, sharedWithAccount } = h.scenario.images;
    expect(
      [optOutTag, deregistrationProtection, sharedWithAccount].map((id) => items.get(id)?.reason),
    ).toEqual(['OPT_OUT_TAG', 'DEREGISTRATION_PROTECTION', 'SHARED']);
    const run = await h.runRecord(execution.runId);
    expect(run).toMatchObject({ status: 'COMPLETED', approver: APPROVER, planHash: summary.planHash });
    expect(run?.summary).toEqual(summary);
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });
});

describe('reject and timeout', () => {
  it('a rejection deletes nothing and records every candidate REJECTED', async () => {
    // Prepare
    const h = await start();
    const plan = expectedPlan(h);

    // Act: reject, then try to approve with the same link (a replay).
    const execution = await h.run({ decision: 'REJECT' });
    const replay = answerApprovalLink(execution.approvals[0]?.link ?? '', 'APPROVE', APPROVER);

    // Assess
    await expect(replay).rejects.toBeInstanceOf(ScriptedApprovalError);
    expect(output(execution)).toMatchObject({ status: 'REJECTED', deregistered: 0, snapshotsDeleted: 0 });
    expect(execution.approvals).toHaveLength(1);
    expectNothingDeleted(h);
    expect(statesWith(execution.events, 'StateEntered')).not.toContain('LoadApproved');
    const items = await h.items(execution.runId);
    expectAllFinal(items);
    expect(
      statusesOf(items, [...plan.candidateImageIds, ...plan.orphanIds]).every((s) => s === 'REJECTED'),
    ).toBe(true);
    expect(statusesOf(items, plan.keptImageIds).every((s) => s === 'KEPT')).toBe(true);
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('REJECTED');
    expect((await h.ledger.getApproval(run?.approvalId ?? ''))?.status).toBe('REJECTED');
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });

  it('an unanswered approval expires: nothing deleted, and a late click is refused and changes nothing', async () => {
    // Prepare: a 2 s approval timeout (the link's expiry is whole seconds, so 1 s can leave a
    // loaded machine no time to open it); the page is opened (GET) in time but never answered.
    const h = await start({ approvalTimeoutSeconds: 2 });
    const plan = expectedPlan(h);
    let formLoadedInTime: URLSearchParams | undefined;

    // Act
    const execution = await h.run({
      decision: 'NONE',
      beforeAnswer: async (request) => {
        formLoadedInTime = await loadForm(request.link);
      },
    });
    const link = execution.approvals[0]?.link ?? '';
    const lateGet = await fetch(link);
    const latePost = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        ...Object.fromEntries(formLoadedInTime ?? []),
        approver: 'Late Larry',
        decision: 'APPROVE',
      }).toString(),
    });

    // Assess
    expect(output(execution)).toMatchObject({ status: 'EXPIRED', deregistered: 0, snapshotsDeleted: 0 });
    expect(statesWith(execution.events, 'StateEntered')).toContain('SetOutcomeExpired');
    expect(lateGet.status).toBeGreaterThanOrEqual(400);
    expect(lateGet.status).toBeLessThan(500);
    expect(latePost.status).toBeGreaterThanOrEqual(400);
    expect(latePost.status).toBeLessThan(500);
    expect(h.account.callsTo('SendTaskSuccess').filter((call) => call.error === undefined)).toEqual([]);
    expectNothingDeleted(h);
    const items = await h.items(execution.runId);
    expectAllFinal(items);
    expect(
      statusesOf(items, [...plan.candidateImageIds, ...plan.orphanIds]).every((s) => s === 'EXPIRED'),
    ).toBe(true);
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('EXPIRED');
    expect((await h.ledger.getApproval(run?.approvalId ?? ''))?.status).toBe('EXPIRED');
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });
});

describe('runs that end without approval', () => {
  it('a dry run plans and records, requests no approval, deletes nothing', async () => {
    // Prepare: the scripted approver would approve if it were ever asked.
    const h = await start();
    const plan = expectedPlan(h);

    // Act
    const execution = await h.run({ input: { dryRun: true }, decision: 'APPROVE' });

    // Assess
    expect(output(execution)).toMatchObject({
      status: 'DRY_RUN',
      candidates: plan.candidateImageIds.length + plan.orphanIds.length,
      deregistered: 0,
      snapshotsDeleted: 0,
    });
    expect(execution.approvals).toEqual([]);
    expect(h.account.published).toEqual([]);
    expect(statesWith(execution.events, 'StateEntered')).not.toContain('RequestApproval');
    expectNothingDeleted(h);
    const items = await h.items(execution.runId);
    expectAllFinal(items);
    expect(
      statusesOf(items, [...plan.candidateImageIds, ...plan.orphanIds]).every((s) => s === 'DRY_RUN'),
    ).toBe(true);
    expect((await h.runRecord(execution.runId))?.status).toBe('DRY_RUN');
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });

  it('an empty plan ends NOTHING_TO_DELETE without asking for approval', async () => {
    // Prepare: keep 100 per group and no orphan sweep, so nothing is a candidate.
    const h = await start();

    // Act
    const execution = await h.run({ input: { settings: { keepPrevious: 100, checkOrphans: false } } });

    // Assess
    expect(output(execution)).toMatchObject({ status: 'NOTHING_TO_DELETE', candidates: 0 });
    expect(execution.approvals).toEqual([]);
    expect(h.account.published).toEqual([]);
    expectNothingDeleted(h);
    const items = await h.items(execution.runId);
    expect(items.size).toBe(h.seededImageIds.length);
    expect([...items.values()].every((item) => item.status === 'KEPT')).toBe(true);
    expect((await h.runRecord(execution.runId))?.status).toBe('NOTHING_TO_DELETE');
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });
});

describe('deletion failures', () => {
  it('throttled deletions are retried by the state machine once the SDK gives up, then succeed', async () => {
    // Prepare: the SDK makes 2 attempts per call, so 2 throttles in a row exhaust its own retries
    // and the handler fails with TransientAwsError for the ASL's Retry. One deletion at a time
    // makes the first AMI take every throttle. (Production's 5 attempts behave the same, only
    // slower: the adaptive client backs off for seconds after each throttle.)
    const h = await start({ sdkMaxAttempts: 2 });
    const plan = expectedPlan(h);
    h.account.failNext('DeregisterImage', 'RequestLimitExceeded', 2);
    h.account.failNext('DeleteSnapshot', 'RequestLimitExceeded', 2);

    // Act
    const execution = await h.run({ deletionMaxConcurrency: 1 });

    // Assess
    const retried = statesWith(execution.events, 'StateRetried');
    expect(retried).toEqual(['Deregister', 'DeleteSnapshots']);
    expect(statesWith(execution.events, 'StateCaught')).toEqual([]);
    const throttled = (command: string) =>
      h.account.callsTo(command).filter((call) => call.error === 'RequestLimitExceeded');
    expect(throttled('DeregisterImage')).toHaveLength(2);
    expect(throttled('DeleteSnapshot')).toHaveLength(2);
    expect(output(execution)).toMatchObject({
      status: 'COMPLETED',
      failed: 0,
      deregistered: plan.candidateImageIds.length,
      snapshotsDeleted: plan.deletedSnapshotIds.length,
    });
    expect(sorted(h.calledIds('DeregisterImage'))).toEqual(sorted(plan.candidateImageIds));
    expect(sorted(h.calledIds('DeleteSnapshot'))).toEqual(sorted(plan.deletedSnapshotIds));
    expect(plan.deletedSnapshotIds.filter((id) => h.account.snapshots.has(id))).toEqual([]);
    const items = await h.items(execution.runId);
    expectAllFinal(items);
    const candidates = plan.candidateImageIds.map((id) => items.get(id) as LedgerItem);
    expect(candidates.every((item) => item.status === 'DONE' && item.lastError === undefined)).toBe(true);
    // Every try is counted: 2 deregistrations + 2 snapshot passes for the throttled AMI, 1 + 1 for the rest.
    expect(sorted(candidates.map((item) => String(item.attempts)))).toEqual(['2', '2', '2', '2', '2', '4']);
    expect((await h.runRecord(execution.runId))?.status).toBe('COMPLETED');
  });

  it('a permanent failure of one AMI is recorded FAILED while the others complete', async () => {
    // Prepare: after planning, someone turns on deregistration protection for one candidate.
    const h = await start();
    const plan = expectedPlan(h);
    const victim = h.scenario.images.terminatedInstanceOnly;

    // Act
    const execution = await h.run({
      beforeAnswer: () => {
        const image = h.account.images.get(victim);
        if (image) image.deregistrationProtection = 'enabled-without-cooldown';
      },
    });

    // Assess
    expect(output(execution)).toMatchObject({
      status: 'COMPLETED_WITH_FAILURES',
      failed: 1,
      deregistered: plan.candidateImageIds.length - 1,
    });
    expect(statesWith(execution.events, 'StateRetried')).toEqual([]); // not a transient error
    expect(h.account.images.has(victim)).toBe(true);
    expect(h.snapshotsOf(victim).every((id) => h.account.snapshots.has(id))).toBe(true);
    expect(
      h.calledIds('DeleteSnapshot', { all: true }).filter((id) => h.snapshotsOf(victim).includes(id)),
    ).toEqual([]);
    const others = plan.candidateImageIds.filter((id) => id !== victim);
    expect(others.filter((id) => h.account.images.has(id))).toEqual([]);
    const items = await h.items(execution.runId);
    expectAllFinal(items);
    expect(items.get(victim)).toMatchObject({ status: 'FAILED', errorType: 'OperationNotPermitted' });
    expect(items.get(victim)?.lastError).toMatch(/OperationNotPermitted/);
    expect(statusesOf(items, [...others, ...plan.orphanIds]).every((s) => s === 'DONE')).toBe(true);
    expect((await h.runRecord(execution.runId))?.status).toBe('COMPLETED_WITH_FAILURES');
  });
});

describe('the account changes after approval', () => {
  it('an AMI that became in use after planning is skipped, not deregistered, its snapshots kept', async () => {
    // Prepare: between the approval email and the click, one candidate is launched as an
    // instance and another becomes a new launch template's $Default.
    const h = await start();
    const plan = expectedPlan(h);
    const launched = h.scenario.images.terminatedInstanceOnly;
    const templated = plan.sharedCandidate;
    let instanceId = '';

    // Act
    const execution = await h.run({
      beforeAnswer: () => {
        instanceId = h.account.addInstance({
          imageId: launched,
          state: 'running',
          launchTime: new Date(),
        }).instanceId;
        h.account.addLaunchTemplate({
          name: 'late',
          createTime: new Date(),
          versions: [{ imageId: templated, instanceType: 't3.micro' }],
        });
      },
    });

    // Assess
    const raced = [launched, templated];
    expect(output(execution)).toMatchObject({
      status: 'COMPLETED',
      skippedInUse: 2,
      failed: 0,
      deregistered: plan.candidateImageIds.length - 2,
    });
    expect(h.calledIds('DeregisterImage', { all: true }).filter((id) => raced.includes(id))).toEqual([]);
    expect(raced.every((id) => h.account.images.has(id))).toBe(true);
    const racedSnapshots = raced.flatMap((id) => h.snapshotsOf(id));
    expect(racedSnapshots.every((id) => h.account.snapshots.has(id))).toBe(true);
    expect(h.calledIds('DeleteSnapshot', { all: true }).filter((id) => racedSnapshots.includes(id))).toEqual(
      [],
    );
    const items = await h.items(execution.runId);
    expectAllFinal(items);
    expect(statusesOf(items, raced)).toEqual(['SKIPPED_IN_USE', 'SKIPPED_IN_USE']);
    expect(items.get(launched)?.detail).toContain(instanceId);
    expect(items.get(templated)?.detail).toMatch(/launch-template/);
    const rest = plan.candidateImageIds.filter((id) => !raced.includes(id));
    expect(statusesOf(items, rest).every((s) => s === 'DONE')).toBe(true);
    expect(rest.filter((id) => h.account.images.has(id))).toEqual([]);
  });

  it('a snapshot another (kept) AMI still maps is never deleted', async () => {
    // Prepare
    const h = await start();
    const shared = h.scenario.snapshots.sharedByTwoImages;
    const candidate = h.scenario.images.sharedSnapshotCandidate;
    const keeper = h.scenario.images.optOutTag;
    const ownSnapshot = h.snapshotsOf(candidate).find((id) => id !== shared) as string;

    // Act
    const execution = await h.run();

    // Assess
    expect(output(execution).status).toBe('COMPLETED');
    expect(h.account.images.has(candidate)).toBe(false);
    expect(h.account.snapshots.has(ownSnapshot)).toBe(false);
    expect(h.account.snapshots.has(shared)).toBe(true);
    expect(h.account.imagesUsingSnapshot(shared)).toEqual([keeper]);
    // Left out of the deletion set at planning, so never even tried.
    expect(h.calledIds('DeleteSnapshot', { all: true })).not.toContain(shared);
    const item = (await h.items(execution.runId)).get(candidate);
    expect(item?.status).toBe('DONE');
    expect(item?.snapshots).toEqual(
      expect.arrayContaining([expect.objectContaining({ snapshotId: shared, sharedWith: [keeper] })]),
    );
    expect(item?.snapshotResults).toEqual([
      expect.objectContaining({ snapshotId: ownSnapshot, outcome: 'deleted' }),
    ]);
  });
});

describe('re-running after a crash', () => {
  it('a second run finishes the snapshots a crash left behind after deregistration', async () => {
    // Prepare: the honest simulation of "crashed between deregister and delete" is a first run
    // whose DeregisterImage calls all succeed and whose snapshot deletions all fail, with a
    // non-retryable error, through the real handlers and the real ASL. That leaves exactly what a
    // crash leaves: the AMIs gone, their snapshots still there, the items not DONE. (A hand-edited
    // ledger could reach states the workflow never produces.) One failure per candidate AMI: each
    // DeleteSnapshots invocation stops at its first snapshot; the orphan sweep runs after them and
    // finds no injected failure left.
    const h = await start();
    const plan = expectedPlan(h);
    h.account.failNext('DeleteSnapshot', 'UnauthorizedOperation', plan.candidateImageIds.length);

    // Act
    const first = await h.run({ executionName: 'crashed-run' });
    const afterFirst = {
      items: await h.items(first.runId),
      deregisterCalls: h.account.callsTo('DeregisterImage').length,
    };
    // The orphan sweep off (the default): the snapshots were approved, so they are finished anyway.
    const second = await h.run({ executionName: 'rerun', input: { settings: { checkOrphans: false } } });

    // Assess: the first run left the AMIs deregistered and their snapshots in place.
    expect(output(first)).toMatchObject({
      status: 'COMPLETED_WITH_FAILURES',
      deregistered: plan.candidateImageIds.length,
      failed: plan.candidateImageIds.length,
      snapshotsDeleted: plan.orphanIds.length,
    });
    for (const id of plan.candidateImageIds) {
      expect(afterFirst.items.get(id)).toMatchObject({ status: 'FAILED', deregisterOutcome: 'deregistered' });
      expect(afterFirst.items.get(id)?.lastError).toMatch(/UnauthorizedOperation/);
    }
    expect(h.account.callsTo('DeleteSnapshot').filter((call) => call.error).length).toBe(
      plan.candidateImageIds.length,
    );

    // Assess: the re-run finished them before planning (FinishEarlierRuns), touched no AMI, kept
    // the shared snapshot, and recorded the final status on the first run's items.
    const summary = output(second);
    expect(summary).toMatchObject({
      status: 'NOTHING_TO_DELETE',
      failed: 0,
      deregistered: 0,
      earlierRuns: {
        finished: plan.candidateImageIds.length,
        snapshotsDeleted: plan.imageSnapshotIds.length,
        unfinished: 0,
      },
    });
    expect(h.account.callsTo('DeregisterImage')).toHaveLength(afterFirst.deregisterCalls);
    expect(plan.deletedSnapshotIds.filter((id) => h.account.snapshots.has(id))).toEqual([]);
    expect(h.account.snapshots.has(h.scenario.snapshots.sharedByTwoImages)).toBe(true);
    expect(plan.keptImageIds.filter((id) => !h.account.images.has(id))).toEqual([]);
    expectAllFinal(await h.items(second.runId));
    const earlier = await h.items(first.runId);
    expect(statusesOf(earlier, plan.candidateImageIds).every((s) => s === 'DONE')).toBe(true);
    for (const id of plan.candidateImageIds) {
      expect(earlier.get(id)).toMatchObject({ finishedByRunId: second.runId, finishedFrom: 'FAILED' });
    }
    expect(await h.ledger.listDeregistrationIntents(localLockKey(h.stack))).toEqual([]);
  });

  it('a Deregister Lambda that crashed after deregistering is retried harmlessly (AMI already gone)', async () => {
    // Prepare: the first Deregister invocation for one AMI deregisters it, then its Lambda dies
    // before answering (Step Functions sees Lambda.ServiceException and retries the task).
    const h = await start();
    const plan = expectedPlan(h);
    const crashed = h.scenario.images.terminatedInstanceOnly;
    const ec2 = createAwsClients({ region: h.stack.region });
    h.account.attach(ec2.ec2);
    let crashes = 0;
    class LambdaServiceException extends Error {
      override readonly name = 'Lambda.ServiceException';
    }

    // Act
    const execution = await h.run({
      handlers: (real) => ({
        DeregisterImage: async (event: never) => {
          if ((event as { imageId: string }).imageId === crashed && crashes === 0) {
            crashes += 1;
            await ec2.ec2.send(new DeregisterImageCommand({ ImageId: crashed }));
            throw new LambdaServiceException('the function crashed after deregistering');
          }
          return real.DeregisterImage(event);
        },
      }),
    });

    // Assess
    expect(crashes).toBe(1);
    expect(statesWith(execution.events, 'StateRetried')).toEqual(['Deregister']);
    expect(output(execution)).toMatchObject({
      status: 'COMPLETED',
      failed: 0,
      deregistered: plan.candidateImageIds.length,
      snapshotsDeleted: plan.deletedSnapshotIds.length,
    });
    expect(
      h.account
        .callsTo('DeregisterImage')
        .filter((c) => c.input.ImageId === crashed)
        .map((c) => c.error),
    ).toEqual([undefined, 'InvalidAMIID.NotFound']);
    expect(h.snapshotsOf(crashed).filter((id) => h.account.snapshots.has(id))).toEqual([]);
    const item = (await h.items(execution.runId)).get(crashed);
    expect(item).toMatchObject({ status: 'DONE', deregisterOutcome: 'already-gone' });
    expect(item?.lastError).toBeUndefined();
  });
});

describe('one run at a time', () => {
  it('a second execution during the approval wait ends SKIPPED_LOCKED; the lock is free afterwards', async () => {
    // Prepare
    const h = await start();
    const plan = expectedPlan(h);
    let second: Execution | undefined;
    let lockDuringWait: { owner: string } | undefined;
    let mutationsWhileWaiting: string[] = [];

    // Act
    const first = await h.run({
      executionName: 'first',
      beforeAnswer: async () => {
        lockDuringWait = await h.ledger.getLock(localLockKey(h.stack));
        second = await h.run({ executionName: 'second' });
        mutationsWhileWaiting = h.ec2Mutations();
      },
    });
    const lockAfterFirst = await h.ledger.getLock(localLockKey(h.stack));
    const third = await h.run({ executionName: 'third', input: { dryRun: true } });

    // Assess: the second run touched nothing and asked nobody.
    expect(lockDuringWait?.owner).toBe('first');
    expect(second?.result).toMatchObject({ status: 'SUCCEEDED', output: { status: 'SKIPPED_LOCKED' } });
    expect(second?.approvals).toEqual([]);
    expect(statesWith(second?.events ?? [], 'StateEntered')).not.toContain('Inventory');
    expect(mutationsWhileWaiting).toEqual([]);
    expect((await h.runRecord('second'))?.status).toBe('SKIPPED_LOCKED');
    expect((await h.items('second')).size).toBe(0);
    expect(h.account.published).toHaveLength(1);
    // The first run was not disturbed.
    expect(output(first)).toMatchObject({ status: 'COMPLETED', deregistered: plan.candidateImageIds.length });
    // Released: a third run acquires the lock and runs.
    expect(lockAfterFirst).toBeUndefined();
    expect(output(third).status).toBe('DRY_RUN');
    expect(statesWith(third.events, 'StateEntered')).toContain('Inventory');
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });
});

describe('fail closed', () => {
  it('an execution that fails past its own Catch is closed by close-abandoned-run, as the EventBridge rule does: run FAILED, lock free', async () => {
    // Prepare: Finalize fails every attempt, so FinalizeFailed fails too and the execution ends
    // FAILED with the run still open and its lock held; nothing in the definition can close it.
    const h = await start();
    class FinalizeDown extends Error {
      override readonly name = 'FinalizeDown';
    }

    // Act
    const execution = await h.run({
      handlers: () => ({
        Finalize: async () => {
          throw new FinalizeDown('the ledger update failed');
        },
      }),
    });

    // Assess
    expect(execution.result.status).toBe('FAILED');
    expect(execution.result.closed).toEqual({ runId: execution.runId, outcome: 'closed' });
    expect(execution.result.closeErrors).toBeUndefined();
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('FAILED');
    expect(run?.error).toMatch(/ended FAILED before the run finished/);
    const open = [...(await h.items(execution.runId)).values()].filter(
      (item) => !FINAL_ITEM_STATUSES.includes(item.status),
    );
    expect(open).toEqual([]);
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });

  it('a close-abandoned-run that throws is reported in closeErrors, not swallowed and not thrown', async () => {
    // Prepare: the execution fails past its Catch, and the close of what it left fails too.
    const h = await start();
    (h.stack as { closeAbandonedRun: unknown }).closeAbandonedRun = async () => {
      throw new Error('the ledger is unreachable');
    };

    // Act
    const execution = await h.run({
      handlers: () => ({
        Finalize: async () => {
          throw new Error('the ledger update failed');
        },
      }),
    });

    // Assess: the caller is told, so `amicleaner run` exits non-zero with the reason.
    expect(execution.result.status).toBe('FAILED');
    expect(execution.result.closed).toBeUndefined();
    expect(execution.result.closeErrors).toEqual([`${execution.runId}: the ledger is unreachable`]);
  });

  it('an inventory read error fails the execution before any approval or deletion and releases the lock', async () => {
    // Prepare
    const h = await start();
    h.account.failNext('DescribeInstances', 'UnauthorizedOperation', 1);

    // Act
    const execution = await h.run();

    // Assess
    expect(execution.result.status).toBe('FAILED');
    expect(execution.result.error?.error).toBe('InventoryReadError');
    expect(execution.result.error?.cause).toMatch(/DescribeInstances/);
    expect(h.account.callsTo('DescribeInstances')[0]?.error).toBe('UnauthorizedOperation');
    expect(execution.approvals).toEqual([]);
    expect(h.account.published).toEqual([]);
    expect(statesWith(execution.events, 'StateEntered')).not.toContain('RecordPlan');
    expectNothingDeleted(h);
    expect((await h.items(execution.runId)).size).toBe(0);
    const run = await h.runRecord(execution.runId);
    expect(run?.status).toBe('FAILED');
    expect(run?.error).toMatch(/InventoryReadError/);
    expect(await h.ledger.getLock(localLockKey(h.stack))).toBeUndefined();
  });
});
