/**
 * CollectReferences (one Map iteration per target of the parent run): reads, in one target
 * account and region, every AMI its resources reference (instances, launch templates, launch
 * configurations, Auto Scaling groups, SSM parameters, Image Builder recipes, and EC2's
 * DescribeImageReferences about the images shared with it), writes them to the run workspace and
 * returns the key. Planning of the other targets in that region unions them (FilterInUse's
 * `consumerReferenceKeys`).
 *
 * Another account is read through the member role; the hub's own through its own credentials.
 * Fails closed: a denied role, a failed or partial read throws, and no document is written (the
 * parent marks the target FAILED, and shared AMIs of its region are then kept).
 */
import { referencesKey } from './adapters/consumer-references.ts';
import type { InventoryClients } from './adapters/inventory.ts';
import { referencesInAccount } from './adapters/reference-checks.ts';
import type { RunWorkspace } from './adapters/workspace.ts';
import { lazyHandler, targetClientsFromEnv, workspaceFromEnv } from './commons/deps.ts';
import { getStringFromEnv } from './commons/env.ts';
import { classifyFailures, InvalidEventError } from './commons/errors.ts';
import { RUN_ID, requireRecord, requireString } from './commons/events.ts';
import { createLogger, type HandlerLogger, silentLogger } from './commons/logger.ts';
import { type TargetClientsDeps, targetClients } from './commons/target-clients.ts';
import { targetReferencesOf } from './core/cross-account-use.ts';
import { DEFAULT_PLAN_SETTINGS, validatePlanSettings } from './core/settings.ts';
import { assertAccountId, type Target, target } from './core/target.ts';

export interface CollectReferencesEvent {
  readonly runId: string;
  /** `{ accountId, region }` (a `Target`; its `key`, when given, must match). */
  readonly target: { readonly accountId: string; readonly region: string; readonly key?: string };
  /** Default `AmiCleanerMemberRole`. */
  readonly roleName?: string;
  /** SSM paths whose parameters name AMIs (the run's `ssmParameterPaths`). Default: none. */
  readonly ssmParameterPaths?: readonly string[];
}

export interface CollectReferencesResult {
  readonly target: Target;
  readonly referencesKey: string;
  /** How many AMIs the account references (for the console; the document holds the rest). */
  readonly images: number;
}

/**
 * `clients`/`region`/`hubAccountId`: the hub's own target, read with the hub's own clients, no
 * role assumed; any other through `memberClientsFor` (commons/target-clients.ts).
 */
export interface CollectReferencesDeps extends TargetClientsDeps<InventoryClients> {
  readonly hubAccountId: string;
  readonly workspace: RunWorkspace;
  readonly now: () => Date;
  readonly logger?: HandlerLogger;
}

function requireTarget(value: unknown): Target {
  const given = requireRecord(value, 'target');
  let each: Target;
  try {
    each = target(given.accountId, given.region);
  } catch (error) {
    throw new InvalidEventError(`target: ${(error as Error).message}`);
  }
  if (given.key !== undefined && given.key !== each.key)
    throw new InvalidEventError('target.key does not match its account and region');
  return each;
}

function requireSsmPaths(value: unknown): readonly string[] {
  if (value === undefined) return [];
  try {
    return validatePlanSettings({ ...DEFAULT_PLAN_SETTINGS, ssmParameterPaths: value as string[] })
      .ssmParameterPaths;
  } catch (error) {
    throw new InvalidEventError((error as Error).message);
  }
}

export function createCollectReferencesHandler(
  deps: CollectReferencesDeps,
): (event: CollectReferencesEvent) => Promise<CollectReferencesResult> {
  const logger = deps.logger ?? silentLogger;
  return classifyFailures('CollectReferences', async (event) => {
    const record = requireRecord(event, 'event');
    const runId = requireString(record, 'runId', RUN_ID);
    const each = requireTarget(record.target);
    // Absent: the configured member role (MEMBER_ROLE_NAME, default AmiCleanerMemberRole).
    const roleName =
      record.roleName === undefined ? undefined : requireString(record, 'roleName', /^[\w+=,.@-]{1,64}$/);
    const ssmParameterPaths = requireSsmPaths(record.ssmParameterPaths);
    // Assumed first, so a denied role fails as itself (AssumeRoleError), not as the first read.
    const { clients, viaMemberRole } = await targetClients(
      deps,
      { runId, target: each },
      roleName === undefined ? {} : { roleName },
    );
    const { readAt, sources } = await referencesInAccount(clients, {
      accountId: each.accountId,
      region: each.region,
      ssmParameterPaths,
      now: deps.now,
    });
    const document = targetReferencesOf(each.accountId, each.region, readAt, sources);
    const key = referencesKey(runId, each);
    await deps.workspace.putJson(key, document);
    logger.info('references collected', {
      runId,
      target: each.key,
      viaMemberRole,
      images: document.images.length,
    });
    return { target: each, referencesKey: key, images: document.images.length };
  });
}

export const handler = lazyHandler(() =>
  createCollectReferencesHandler({
    ...targetClientsFromEnv(),
    // Required here: a target is read as the hub's own only when it is this account.
    hubAccountId: assertAccountId(getStringFromEnv('HUB_ACCOUNT_ID')),
    workspace: workspaceFromEnv(),
    now: () => new Date(),
    logger: createLogger('collect-references'),
  }),
);
