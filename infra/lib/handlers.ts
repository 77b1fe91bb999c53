/**
 * The workflow's Lambda handlers: one entry per file in `functions/`. The construct creates one
 * function per entry, and each `stateMachinePlaceholder` is the `${…}` name the ASL files use for
 * that function's ARN; `usedBy` says which definitions invoke it, so each definition's tests
 * demand exactly its own placeholders and each state machine may invoke exactly its own
 * functions. Pure data, so the local runner and the tests can use it without the CDK.
 */

/**
 * The definitions of `statemachine/`: `target` (`ami-cleaner.asl.json`, the run of one account
 * and region: every deployment), `deleteBatch` (`delete-batch.asl.json`, its children) and
 * `organization` (`organization.asl.json`, the parent of one target run per target: only with
 * `targets`).
 */
export const DEFINITION_IDS = ['target', 'deleteBatch', 'organization'] as const;
export type DefinitionId = (typeof DEFINITION_IDS)[number];

export interface HandlerSpec {
  /** Construct id and ASL placeholder stem, e.g. `AcquireLock`. */
  readonly id: string;
  /** File name in `functions/` without `.ts`. */
  readonly file: string;
  /** `${<id>FunctionArn}` in the ASL; absent for functions the state machine never invokes. */
  readonly stateMachinePlaceholder?: string;
  readonly description: string;
}

export interface StateMachineHandlerSpec<I extends string = string> extends HandlerSpec {
  readonly id: I;
  readonly stateMachinePlaceholder: `${I}FunctionArn`;
  /** The definitions whose Task states invoke this function (at least one). */
  readonly usedBy: readonly DefinitionId[];
}

function task<const I extends string>(
  id: I,
  file: string,
  description: string,
  usedBy: readonly DefinitionId[] = ['target'],
): StateMachineHandlerSpec<I> {
  return { id, file, stateMachinePlaceholder: `${id}FunctionArn`, description, usedBy };
}

/** The functions of every deployment: the target run and its DeleteBatch children. */
export const STATE_MACHINE_HANDLERS = [
  task(
    'ResumeTargetRun',
    'resume-target-run',
    'Continues a target run of an organization run in its delete or close phase',
  ),
  task(
    'AcquireLock',
    'acquire-lock',
    'Validates the run input and takes the run lock of its account and region',
  ),
  task(
    'FinishEarlierRuns',
    'finish-earlier-runs',
    'Deletes the snapshots of AMIs earlier approved runs deregistered but did not finish',
  ),
  task('Inventory', 'inventory', 'Reads every AMI, snapshot and reference, every page, failing closed'),
  task('MapGroups', 'map-groups', 'Groups AMIs by name or tags'),
  task('FilterInUse', 'filter-in-use', 'Drops referenced AMIs and records what references them'),
  task('Rotate', 'rotate', 'Keeps the newest AMIs of each group and builds the plan'),
  task('RecordPlan', 'record-plan', 'Records every candidate and kept AMI in the ledger'),
  task('RequestApproval', 'request-approval', 'Stores the task token and emails a signed approval link', [
    'target',
    'organization',
  ]),
  task(
    'LoadApproved',
    'load-approved',
    'Marks the approved plan items and writes their verified ids in batches for DeleteBatch children',
  ),
  task('LoadBatch', 'load-batch', 'Reads one batch of the approved deletion set and checks its hash', [
    'deleteBatch',
  ]),
  task('DeregisterImage', 'deregister-image', 'Re-checks an AMI is unused, then deregisters it', [
    'deleteBatch',
  ]),
  task(
    'DeleteImageSnapshots',
    'delete-image-snapshots',
    'Deletes a deregistered AMI snapshots no AMI still uses',
    ['deleteBatch'],
  ),
  task('DeleteOrphanSnapshot', 'delete-orphan-snapshot', 'Deletes one approved orphan snapshot', [
    'deleteBatch',
  ]),
  task('RecordFailure', 'record-failure', 'Records a deletion failure on its ledger item', ['deleteBatch']),
  task('Finalize', 'finalize', 'Gives every ledger item a final status and summarises the run'),
  task('ReleaseLock', 'release-lock', 'Releases the run lock of its account and region'),
] as const;

/**
 * The organization run's own functions: created only with `targets` (the parent also invokes
 * RequestApproval, one approval for every target's plan).
 */
export const ORGANIZATION_HANDLERS = [
  task(
    'ResolveTargets',
    'resolve-targets',
    'Validates an organization run, records it and resolves its targets (OUs through AWS Organizations)',
    ['organization'],
  ),
  task(
    'CollectReferences',
    'collect-references',
    'Writes the AMIs one target account references, for the in-use check of the others',
    ['organization'],
  ),
  task(
    'CombinePlans',
    'combine-plans',
    "Combines the target runs' plans into the organization run's one plan",
    ['organization'],
  ),
  task(
    'FinalizeOrganizationRun',
    'finalize-organization-run',
    "Summarises an organization run from its target runs' summaries",
    ['organization'],
  ),
] as const;

export const APPROVAL_PAGE_HANDLER: HandlerSpec = {
  id: 'ApprovalPage',
  file: 'approval-page',
  description: 'Approval page behind a Function URL: GET shows the plan, POST approves or rejects',
};

export const START_EXECUTION_HANDLER: HandlerSpec = {
  id: 'StartExecution',
  file: 'start-execution',
  description: 'Starts a named execution from the schedule or an AMI state change event',
};

export const CLOSE_ABANDONED_RUN_HANDLER: HandlerSpec = {
  id: 'CloseAbandonedRun',
  file: 'close-abandoned-run',
  description:
    'Finalizes the ledger and releases the lock of an execution that failed, timed out or was stopped',
};

export type StateMachineHandlerId = (typeof STATE_MACHINE_HANDLERS)[number]['id'];
export type OrganizationHandlerId = (typeof ORGANIZATION_HANDLERS)[number]['id'];
export type WorkflowHandlerId = StateMachineHandlerId | OrganizationHandlerId;

/** Every function a definition invokes: the `${<id>FunctionArn}` placeholders it must use, no more. */
export function handlersOf(definition: DefinitionId): readonly StateMachineHandlerSpec<WorkflowHandlerId>[] {
  return [...STATE_MACHINE_HANDLERS, ...ORGANIZATION_HANDLERS].filter((spec) =>
    (spec.usedBy as readonly DefinitionId[]).includes(definition),
  );
}

/** Every function the construct can create (what `npm run build` pre-bundles). */
export const ALL_HANDLERS: readonly HandlerSpec[] = [
  ...STATE_MACHINE_HANDLERS,
  ...ORGANIZATION_HANDLERS,
  APPROVAL_PAGE_HANDLER,
  START_EXECUTION_HANDLER,
  CLOSE_ABANDONED_RUN_HANDLER,
];
