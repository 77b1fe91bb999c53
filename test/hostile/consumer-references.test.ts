/**
 * Hostile inputs to the organization run's reference fan-out on the simulated organization: a
 * forged CollectReferences event, and a target's FilterInUse given consumer references keys that
 * are not this run's, or documents tampered in the workspace. Each is refused with an error that
 * says why, before any account is written to (nothing is planned, so nothing can be deleted).
 */
import { describe, expect, it } from 'vitest';
import { referencesKey } from '../../functions/adapters/consumer-references.ts';
import { type Target, target } from '../../functions/core/target.ts';
import { EU, planTarget, RUN_ID, world } from '../functions/cross-account-world.ts';
import { hostile } from './count.ts';

const WORKLOAD_A = '333333333333';

/** No account of the organization was changed (no deregistration, deletion, report, tag). */
function expectNothingChanged(w: ReturnType<typeof world>) {
  for (const account of w.organization.regionalAccounts()) expect(account.mutatingCalls()).toEqual([]);
}

describe('hostile CollectReferences events', () => {
  it.each([
    ['a target that is not a target', { runId: RUN_ID, target: { accountId: '../etc', region: EU } }],
    ['a key that does not match', { runId: RUN_ID, target: { accountId: WORKLOAD_A, region: EU, key: 'x' } }],
    ['a run id with a path', { runId: '../other', target: { accountId: WORKLOAD_A, region: EU } }],
    [
      'a role name with a slash',
      { runId: RUN_ID, target: { accountId: WORKLOAD_A, region: EU }, roleName: 'a/b' },
    ],
  ])(hostile('CollectReferences event', '%s: refused before any call'), async (_what, event) => {
    const w = world();
    await expect(w.collect(event as never)).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(w.organization.calls).toEqual([]);
    expect(w.workspace.keys()).toEqual([]);
  });
});

describe('hostile consumer references keys and documents', () => {
  it.each([
    [
      'a key of another run',
      (each: Target) => referencesKey('other-run', each),
      'not a references key of run',
    ],
    ['a key outside the workspace layout', () => 'runs/org-run-1/../../etc/passwd', 'not a references key'],
    [
      'a key of another region',
      () => referencesKey(RUN_ID, target(WORKLOAD_A, 'us-east-1')),
      'not in the planned region',
    ],
    [
      'a key nothing was written under',
      () => referencesKey(RUN_ID, target('666666666666', EU)),
      'nothing stored',
    ],
  ])(hostile('FilterInUse consumer references key', '%s: the plan fails'), async (_what, keyOf, message) => {
    // Prepare
    const w = world();
    const consumer = target(WORKLOAD_A, EU);
    await w.collect({ runId: RUN_ID, target: consumer });

    // Act
    const act = planTarget(
      w,
      target(w.scenario.golden.accountId, EU),
      {},
      { consumerReferenceKeys: [keyOf(consumer)] },
    );

    // Assess
    await expect(act).rejects.toThrow(message);
    expectNothingChanged(w);
  });

  it.each([
    [
      "swapped for another account's",
      (doc: Record<string, unknown>) => ({ ...doc, accountId: '444444444444' }),
      'written for account 444444444444, not 333333333333',
    ],
    [
      "swapped for another region's",
      (doc: Record<string, unknown>) => ({ ...doc, region: 'us-east-1' }),
      'written for region us-east-1, not eu-west-1',
    ],
    ['replaced by a list', () => [], 'not an object'],
    [
      'with an image that is not an AMI id',
      (doc: Record<string, unknown>) => ({
        ...doc,
        images: [{ imageId: 'ami-../x', sources: ['instance'] }],
      }),
      'images[0].imageId is not an AMI id',
    ],
    [
      'with an image no source names (emptied to hide a use)',
      (doc: Record<string, unknown>) => ({
        ...doc,
        images: (doc.images as { imageId: string }[]).map((i) => ({ imageId: i.imageId, sources: [] })),
      }),
      'images[0].sources is not a non-empty list',
    ],
    [
      'with its read time removed',
      (doc: Record<string, unknown>) => ({ ...doc, readAt: undefined }),
      'readAt is not a time',
    ],
  ])(
    hostile('workspace consumer references document', '%s: the plan fails'),
    async (_what, tamper, message) => {
      // Prepare: workload A's document, then changed in the workspace by a writer with access.
      const w = world();
      const { referencesKey: keyOfA } = await w.collect({ runId: RUN_ID, target: target(WORKLOAD_A, EU) });
      await w.workspace.putJson(keyOfA, tamper(await w.workspace.getJson<Record<string, unknown>>(keyOfA)));

      // Act
      const act = planTarget(
        w,
        target(w.scenario.golden.accountId, EU),
        {},
        { consumerReferenceKeys: [keyOfA] },
      );

      // Assess
      await expect(act).rejects.toThrow(message);
      expectNothingChanged(w);
    },
  );
});
