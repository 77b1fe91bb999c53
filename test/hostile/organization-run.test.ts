/**
 * Hostile inputs to a whole organization run on the simulated organization: an execution input
 * that scopes the run to a target the deployment does not have (or forges one), refused by
 * ResolveTargets before any target is recorded or read; and the run's reference-targets document
 * (runs/<runId>/reference-targets.json) tampered in the workspace, read by every target's
 * FilterInUse at plan time and by Deregister before each deregistration. Each ends with a clear
 * error, nothing deleted in any account and every lock free.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runKey } from '../../functions/adapters/workspace.ts';
import {
  type OrganizationExecution,
  type OrganizationHarness,
  startOrganizationHarness,
} from '../workflow/organization-harness.ts';
import { hostile } from './count.ts';

const AMI = 'ami-0123456789abcdef0';

/** Nothing deregistered or deleted in any account, and no target's lock held. */
async function expectNothingDeleted(h: OrganizationHarness) {
  for (const account of h.organization.regionalAccounts())
    expect(account.calls.filter((c) => /^(DeregisterImage|DeleteSnapshot)$/.test(c.command))).toEqual([]);
  for (const each of h.targets) expect(await h.ledger.getLock(each.key)).toBeUndefined();
}

describe('hostile organization execution inputs', () => {
  let h: OrganizationHarness;
  let runs = 0;

  beforeAll(async () => {
    h = await startOrganizationHarness();
  }, 60_000);

  afterAll(async () => {
    await h?.stop();
  });

  it.each([
    [
      'a target without ami-available',
      (): Record<string, unknown> => ({
        target: { accountId: h.scenario.golden.accountId, region: 'eu-west-1' },
      }),
      'InvalidRunInputError',
      /target is only allowed with trigger "ami-available"/,
    ],
    [
      "a new AMI's target outside the selection",
      () => ({
        trigger: 'ami-available',
        imageId: AMI,
        target: { accountId: '999999999999', region: 'eu-west-1' },
      }),
      'TargetScopeError',
      /account 999999999999 in eu-west-1 is not one of this deployment's targets/,
    ],
    [
      "a new AMI's target in a region the deployment does not clean",
      () => ({
        trigger: 'ami-available',
        imageId: AMI,
        target: { accountId: h.scenario.golden.accountId, region: 'ap-south-1' },
      }),
      'TargetScopeError',
      /in ap-south-1 is not one of this deployment's targets/,
    ],
    [
      "a new AMI's target that is a suspended account of a selected OU",
      () => ({
        trigger: 'ami-available',
        imageId: AMI,
        target: { accountId: h.scenario.suspendedAccountId, region: 'eu-west-1' },
      }),
      'TargetScopeError',
      /is not one of this deployment's targets/,
    ],
    [
      'a forged target',
      () => ({ trigger: 'ami-available', imageId: AMI, target: { accountId: '../x', region: 'eu-west-1' } }),
      'InvalidRunInputError',
      /^target: /,
    ],
    [
      'a target phase smuggled into the parent',
      () => ({ phase: 'delete', parentRunId: 'x' }),
      'InvalidRunInputError',
      /unknown input key|phase|parentRunId/,
    ],
  ])(
    hostile('organization execution input', '%s: the run fails before any target is recorded or read'),
    async (_what, input, error, cause) => {
      // Prepare
      runs += 1;
      const assumed = h.organization.calls.filter((c) => c.command === 'AssumeRole').length;

      // Act
      const execution = await h.run({ executionName: `org-hostile-input-${runs}`, input: input() });

      // Assess
      expect(execution.result.status).toBe('FAILED');
      expect(execution.result.error?.error).toBe(error);
      expect(execution.result.error?.cause).toMatch(cause);
      expect(execution.approvals).toHaveLength(0);
      expect(h.organization.calls.filter((c) => c.command === 'AssumeRole')).toHaveLength(assumed);
      const parent = await h.ledger.getRun(execution.runId);
      // Refused before the parent record (bad input) or before its targets were named in it.
      expect(parent?.targetKeys).toBeUndefined();
      if (parent) expect(parent.status).toBe('FAILED');
      for (const each of h.targets) expect(await h.targetRun(execution.runId, each)).toBeUndefined();
      await expectNothingDeleted(h);
    },
    60_000,
  );
});

describe('a tampered reference-targets document', () => {
  let harness: OrganizationHarness | undefined;

  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  const contents: [string, (accountId: string) => unknown, RegExp][] = [
    [
      'not a list',
      () => ({ targets: { accountId: '333333333333' } }),
      /reference targets of run .* are not a list/,
    ],
    [
      'an entry with a bad account id',
      () => ({ targets: [{ accountId: '33333333333', region: 'eu-west-1' }] }),
      /account/i,
    ],
    [
      'an entry with a bad region',
      (a) => ({ targets: [{ accountId: a, region: 'eu-west-1/../x' }] }),
      /region/i,
    ],
  ];

  /** Runs the organization workflow, replacing the document at the first `state` child start or while the plan waits. */
  async function tamperedRun(when: 'plan' | 'deregistration', content: (accountId: string) => unknown) {
    harness = await startOrganizationHarness();
    const h = harness;
    const key = runKey('org-tampered-targets', 'reference-targets');
    const tamper = () =>
      h.stack.workspace.putJson(key, content(h.scenario.workloads[0]?.accountId as string));
    let tampered = false;
    const execution: OrganizationExecution = await h.run({
      executionName: 'org-tampered-targets',
      ...(when === 'plan'
        ? {
            aroundChildStart: async (state, _child, start) => {
              if (state === 'PlanTarget' && !tampered) {
                tampered = true;
                await tamper();
              }
              return start();
            },
          }
        : {
            beforeAnswer: async () => {
              tampered = true;
              await tamper();
            },
          }),
    });
    expect(tampered).toBe(true);
    return { h, execution };
  }

  it.each(contents)(
    hostile(
      'workspace reference-targets document',
      '%s, read at plan: every target plan fails, nobody asked',
    ),
    async (_what, content, why) => {
      const { h, execution } = await tamperedRun('plan', content);
      expect(execution.approvals).toHaveLength(0);
      for (const each of h.targets) {
        const run = await h.targetRun(execution.runId, each);
        expect(run?.status).toBe('FAILED');
        expect(`${run?.error}`).toMatch(why);
      }
      // The parent's summary names every target failed and why; with nothing to ask about because
      // every target failed, the run is not clean: COMPLETED_WITH_FAILURES, not NOTHING_TO_DELETE.
      const parent = await h.ledger.getRun(execution.runId);
      expect(parent?.status).toBe('COMPLETED_WITH_FAILURES');
      const summary = parent?.summary;
      expect(summary?.failedTargets).toBe(h.targets.length);
      for (const line of summary?.targets ?? []) expect(`${line.error}`).toMatch(why);
      await expectNothingDeleted(h);
    },
    120_000,
  );

  it.each(contents)(
    hostile(
      'workspace reference-targets document',
      '%s, read again at deregistration: no AMI deregistered, every image item failed',
    ),
    async (_what, content, why) => {
      const { h, execution } = await tamperedRun('deregistration', content);
      expect(execution.approvals).toHaveLength(1);
      let failed = 0;
      for (const each of h.targets) {
        const run = await h.targetRun(execution.runId, each);
        const images = (await h.ledger.listItems(run?.runId as string)).filter((i) => i.kind === 'IMAGE');
        for (const item of images.filter((i) => i.status !== 'KEPT')) {
          failed += 1;
          expect(item.status).toBe('FAILED');
          expect(JSON.stringify(item)).toMatch(why);
        }
      }
      expect(failed).toBeGreaterThan(0);
      expect((await h.ledger.getRun(execution.runId))?.status).toBe('COMPLETED_WITH_FAILURES');
      await expectNothingDeleted(h);
    },
    120_000,
  );
});
