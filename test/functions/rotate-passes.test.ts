import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorkspaceKeyNotFoundError } from '../../functions/adapters/workspace.ts';
import { InvalidEventError } from '../../functions/commons/errors.ts';
import type { Plan } from '../../functions/core/model.ts';
import {
  type RotateProgress,
  RotateProgressError,
  rotatePasses,
} from '../../functions/core/rotate-passes.ts';
import type { RunContext } from '../../functions/core/workflow.ts';
import {
  createRotateHandler,
  type RotateEvent,
  rotateProgressKey,
  rotateToPlan,
} from '../../functions/rotate.ts';
import { type Harness, planRun, type Scenario, seedScenario, startHarness } from './harness.ts';

const DESCRIBES = ['DescribeImageAttribute', 'DescribeImageReferences'];

describe('Rotate in bounded passes', () => {
  let h: Harness;
  let scenario: Scenario;
  let event: RotateEvent;
  let run: RunContext;
  let onePass: Plan;

  beforeEach(async () => {
    h = await startHarness();
    scenario = seedScenario(h.account);
    // The whole plan in one pass (the default budget), as reference.
    const planned = await planRun(h);
    run = planned.run;
    onePass = await h.workspace.getJson<Plan>(planned.plan.planKey);
    event = {
      run,
      inventoryKey: planned.inventory.inventoryKey,
      groupsKey: planned.groups.groupsKey,
      filteredKey: planned.filtered.filteredKey,
    };
  });

  afterEach(async () => {
    await h.stop();
  });

  const describeCalls = () => h.account.calls.filter((c) => DESCRIBES.includes(c.command)).length;

  it('makes at most callsPerPass describe calls a pass and builds exactly the plan one pass builds', async () => {
    // Prepare: 3 would-be candidates (front-1, front-3, back-1): 3 launch-permission reads, then
    // one DescribeImageReferences for the 3 candidates; 1 call a pass is 4 passes.
    const rotate = createRotateHandler({
      clients: h.clients,
      region: h.account.region,
      workspace: h.workspace,
      callsPerPass: 1,
    });
    const before = describeCalls();

    // Act
    const outcomes = [];
    const callsPerPass: number[] = [];
    let outcome = await rotate(event);
    for (;;) {
      outcomes.push(outcome);
      callsPerPass.push(describeCalls() - before - callsPerPass.reduce((a, b) => a + b, 0));
      if (outcome.done) break;
      outcome = await rotate({ ...event, pass: outcome.nextPass });
    }

    // Assess
    expect(outcomes.map((o) => o.nextPass)).toEqual([1, 2, 3, null]);
    expect(callsPerPass).toEqual([1, 1, 1, 1]);
    expect(outcomes.length).toBeLessThanOrEqual(rotatePasses(run.maxDeletionsPerRun, 1));
    const progress = await h.workspace.getJson<RotateProgress>(rotateProgressKey(run.runId, 2));
    expect(progress).toMatchObject({ pass: 2, sharing: { checked: 3 }, references: { checked: 0 } });
    const last = outcomes.at(-1);
    expect(last).toMatchObject({ done: true, planHash: onePass.planHash, candidates: 3 });
    expect(await h.workspace.getJson<Plan>(last?.planKey as string)).toEqual(onePass);
    expect(onePass.groups.flatMap((g) => g.candidates.map((c) => c.imageId)).sort()).toEqual(
      [...scenario.frontCandidates, scenario.backCandidate].sort(),
    );
  });

  it('keeps an AMI found shared in an early pass out of the plan built by the last', async () => {
    // Prepare: the oldest would-be candidate (front-1) is shared; pass 0 reads only its permissions.
    const [shared] = scenario.frontCandidates as [string];
    h.account.images.get(shared)?.launchPermissions.push({ userId: '210987654321' });
    const rotate = createRotateHandler({
      clients: h.clients,
      region: h.account.region,
      workspace: h.workspace,
      callsPerPass: 1,
    });

    // Act
    const result = await rotateToPlan(rotate, event);

    // Assess
    const plan = await h.workspace.getJson<Plan>(result.planKey);
    expect(plan.groups.flatMap((g) => g.kept).find((k) => k.imageId === shared)).toMatchObject({
      reason: 'SHARED',
    });
    expect(plan.groups.flatMap((g) => g.candidates.map((c) => c.imageId))).not.toContain(shared);
    expect(result.planHash).not.toBe(onePass.planHash);
  });

  it('repeats a retried pass exactly: the same reads, the same stored progress', async () => {
    // Prepare
    const rotate = createRotateHandler({
      clients: h.clients,
      region: h.account.region,
      workspace: h.workspace,
      callsPerPass: 1,
    });
    await rotate(event);
    const first = await rotate({ ...event, pass: 1 });
    const stored = await h.workspace.getJson<RotateProgress>(rotateProgressKey(run.runId, 1));

    // Act
    const again = await rotate({ ...event, pass: 1 });

    // Assess
    expect(again).toEqual(first);
    expect(await h.workspace.getJson<RotateProgress>(rotateProgressKey(run.runId, 1))).toEqual(stored);
  });

  it('fails closed on progress that is missing, of another pass or read from other AMIs', async () => {
    // Prepare: passes 0-2 read the 3 launch permissions; pass 3 would ask for the references.
    const rotate = createRotateHandler({
      clients: h.clients,
      region: h.account.region,
      workspace: h.workspace,
      callsPerPass: 1,
    });
    await rotate(event);
    await rotate({ ...event, pass: 1 });
    await rotate({ ...event, pass: 2 });
    const key = rotateProgressKey(run.runId, 2);
    const progress = await h.workspace.getJson<RotateProgress>(key);
    const planKey = 'runs/run-1/plan.json';
    await h.workspace.putJson(planKey, { untouched: true });
    const tampered = async (changed: unknown) => {
      await h.workspace.putJson(key, changed);
      return rotate({ ...event, pass: 3 });
    };

    // Act / Assess: no progress stored for the pass before
    await expect(rotate({ ...event, pass: 5 })).rejects.toBeInstanceOf(WorkspaceKeyNotFoundError);
    // written by another pass
    await expect(tampered({ ...progress, pass: 1 })).rejects.toBeInstanceOf(RotateProgressError);
    // claims fewer (or other) AMIs were checked than were
    await expect(tampered({ ...progress, sharing: { ...progress.sharing, checked: 2 } })).rejects.toThrow(
      /other AMIs/,
    );
    // references said read for candidates that are not this run's
    await expect(
      tampered({ ...progress, references: { ...progress.references, checked: 1 } }),
    ).rejects.toThrow(/other candidates/);
    expect(await h.workspace.getJson(planKey)).toEqual({ untouched: true });
  });

  it.each([-1, 1.5, '1'])('refuses pass %j before reading anything', async (pass) => {
    // Prepare
    const rotate = createRotateHandler({
      clients: h.clients,
      region: h.account.region,
      workspace: h.workspace,
      callsPerPass: 1,
    });
    const calls = h.account.calls.length;

    // Act / Assess
    await expect(rotate({ ...event, pass } as never)).rejects.toBeInstanceOf(InvalidEventError);
    expect(h.account.calls.length).toBe(calls);
  });

  it('refuses a pass past the bound the history budget counts for the cap', async () => {
    // Prepare: a cap of 2 is 2 + 1 calls, 3 passes at 1 call a pass.
    const capped = { ...event, run: { ...run, maxDeletionsPerRun: 2 } };
    const rotate = createRotateHandler({
      clients: h.clients,
      region: h.account.region,
      workspace: h.workspace,
      callsPerPass: 1,
    });
    expect(rotatePasses(2, 1)).toBe(3);

    // Act / Assess
    await expect(rotate({ ...capped, pass: 3 })).rejects.toThrow(/pass must be a whole number from 0 to 2/);
  });
});
