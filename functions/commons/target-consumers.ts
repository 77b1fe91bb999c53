/**
 * Which other accounts count as consumers for a target run of an organization run. ResolveTargets
 * writes the run's reference targets (`runs/<parentRunId>/reference-targets.json`); CollectReferences
 * then writes one references document per target it could read. A target run's FilterInUse reads
 * the list, keeps the other accounts of its own region, and takes each one's document when it
 * exists; a target whose document is missing (its CollectReferences failed or was denied) is an
 * unreadable consumer, so a shared AMI it might run is kept. Any other read error fails the run.
 */
import { referencesKey } from '../adapters/consumer-references.ts';
import { type RunWorkspace, runKey, WorkspaceKeyNotFoundError } from '../adapters/workspace.ts';
import { type Target, target } from '../core/target.ts';
import type { RunContext } from '../core/workflow.ts';

const REFERENCE_TARGETS = 'reference-targets';

export interface TargetConsumers {
  readonly referencesRunId: string;
  readonly consumerReferenceKeys: readonly string[];
  readonly unreadableConsumers: readonly string[];
}

export class ReferenceTargetsError extends Error {
  override readonly name = 'ReferenceTargetsError';
}

export async function writeReferenceTargets(
  workspace: RunWorkspace,
  parentRunId: string,
  targets: readonly Target[],
): Promise<void> {
  const document = { targets: targets.map(({ accountId, region }) => ({ accountId, region })) };
  await workspace.putJson(runKey(parentRunId, REFERENCE_TARGETS), document);
}

/** The other target accounts of the run's region (none for a run of its own). */
export async function consumerAccountsOf(
  workspace: RunWorkspace | undefined,
  run: RunContext,
): Promise<string[]> {
  if (run.parentRunId === undefined || run.target === undefined) return [];
  if (!workspace)
    throw new ReferenceTargetsError(`run ${run.runId} is a target run, but this function has no workspace`);
  return (await otherAccountsOfRegion(workspace, run.parentRunId, run.target)).map((each) => each.accountId);
}

/** The run's reference targets in `own`'s region, `own`'s account left out: its consumers. */
async function otherAccountsOfRegion(
  workspace: RunWorkspace,
  parentRunId: string,
  own: { readonly accountId: string; readonly region: string },
): Promise<Target[]> {
  return (await referenceTargetsOf(workspace, parentRunId)).filter(
    (each) => each.region === own.region && each.accountId !== own.accountId,
  );
}

async function referenceTargetsOf(workspace: RunWorkspace, parentRunId: string): Promise<Target[]> {
  const stored = await workspace.getJson<{ targets?: unknown }>(runKey(parentRunId, REFERENCE_TARGETS));
  if (!Array.isArray(stored.targets))
    throw new ReferenceTargetsError(`the reference targets of run ${parentRunId} are not a list`);
  return stored.targets.map((each) => {
    const given = (each ?? {}) as { accountId?: unknown; region?: unknown };
    return target(given.accountId, given.region);
  });
}

/** Undefined for a run of its own (no parent): it has no consumers. */
export async function consumersOfTargetRun(
  workspace: RunWorkspace,
  run: RunContext,
): Promise<TargetConsumers | undefined> {
  if (run.parentRunId === undefined || run.target === undefined) return undefined;
  const others = await otherAccountsOfRegion(workspace, run.parentRunId, run.target);
  const consumerReferenceKeys: string[] = [];
  const unreadableConsumers: string[] = [];
  for (const each of others) {
    const key = referencesKey(run.parentRunId, each);
    try {
      await workspace.getJson(key);
      consumerReferenceKeys.push(key);
    } catch (error) {
      if (!(error instanceof WorkspaceKeyNotFoundError)) throw error;
      unreadableConsumers.push(each.accountId);
    }
  }
  return { referencesRunId: run.parentRunId, consumerReferenceKeys, unreadableConsumers };
}
