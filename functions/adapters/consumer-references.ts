/**
 * Where CollectReferences stores one target's referenced AMIs in the run workspace, and how
 * planning reads the other targets' documents back: only keys of this run that name a target of
 * the same region, each document checked against the target its key names. A key that is
 * missing, unreadable, foreign or tampered fails the read; it is never skipped.
 */
import {
  consumerUseByImage,
  InvalidReferencesError,
  parseTargetReferences,
  type TargetReferences,
} from '../core/cross-account-use.ts';
import { parseTargetKey, type Target } from '../core/target.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { type RunWorkspace, runKey } from './workspace.ts';

const PREFIX = 'references-';
/** More consumer documents than targets a run may have in one region is a broken input. */
export const MAX_CONSUMER_KEYS = 1000;
const READ_CONCURRENCY = 8;

/** `runs/<runId>/references-<target.key>.json`. */
export function referencesKey(runId: string, each: Target): string {
  return runKey(runId, `${PREFIX}${each.key}`);
}

/** The target a references key names, if it is a key of this run; otherwise InvalidReferencesError. */
export function targetOfReferencesKey(runId: string, key: unknown): Target {
  const text = typeof key === 'string' ? key : '';
  const prefix = `runs/${runId}/${PREFIX}`;
  if (!text.startsWith(prefix) || !text.endsWith('.json')) {
    throw new InvalidReferencesError(
      `consumer references key ${JSON.stringify(text.slice(0, 80))} is not a references key of run ${runId}`,
    );
  }
  let each: Target;
  try {
    each = parseTargetKey(text.slice(prefix.length, -'.json'.length));
  } catch (error) {
    throw new InvalidReferencesError(`consumer references key: ${(error as Error).message}`);
  }
  // Re-derived, so nothing but the canonical spelling of a key passes.
  if (referencesKey(runId, each) !== text)
    throw new InvalidReferencesError('consumer references key is not canonical');
  return each;
}

export interface ConsumerReferences {
  readonly documents: readonly TargetReferences[];
  /** AMI id -> each consumer account's use of it. */
  readonly useByImage: ReturnType<typeof consumerUseByImage>;
}

/**
 * Reads every consumer document of `keys` for the target `own` (its region; its account when
 * known). Any bad key, missing object or invalid document throws; nothing partial is returned.
 */
export async function readConsumerReferences(
  workspace: RunWorkspace,
  runId: string,
  own: { readonly accountId?: string; readonly region: string },
  keys: readonly unknown[],
): Promise<ConsumerReferences> {
  if (keys.length > MAX_CONSUMER_KEYS)
    throw new InvalidReferencesError(`more than ${MAX_CONSUMER_KEYS} consumer references keys`);
  const targets = keys.map((key) => ({ key: key as string, each: targetOfReferencesKey(runId, key) }));
  for (const { each } of targets) {
    if (each.region !== own.region)
      throw new InvalidReferencesError(`consumer ${each.key} is not in the planned region ${own.region}`);
  }
  const documents = await mapWithConcurrency(targets, READ_CONCURRENCY, async ({ key, each }) =>
    parseTargetReferences(
      await workspace.getJson<unknown>(key),
      { accountId: each.accountId, region: each.region },
      `consumer references of ${each.key}`,
    ),
  );
  const ownAccount = own.accountId ?? '';
  return {
    documents,
    useByImage: consumerUseByImage({ accountId: ownAccount, region: own.region }, documents),
  };
}
