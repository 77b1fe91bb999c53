/**
 * The workflow's Lambda handlers: one entry per file in `functions/`. The construct creates one
 * function per entry, and each `stateMachinePlaceholder` is the `${…}` name the ASL file uses for
 * that function's ARN. Pure data, so the local runner and the tests can use it without the CDK.
 */

export interface HandlerSpec {
  /** Construct id and ASL placeholder stem, e.g. `AcquireLock`. */
  readonly id: string;
  /** File name in `functions/` without `.ts`. */
  readonly file: string;
  /** `${<id>FunctionArn}` in the ASL; absent for functions the state machine never invokes. */
  readonly stateMachinePlaceholder?: string;
  readonly description: string;
}

interface StateMachineHandlerSpec<I extends string> extends HandlerSpec {
  readonly id: I;
  readonly stateMachinePlaceholder: `${I}FunctionArn`;
}

function task<const I extends string>(id: I, file: string, description: string): StateMachineHandlerSpec<I> {
  return { id, file, stateMachinePlaceholder: `${id}FunctionArn`, description };
}

export const STATE_MACHINE_HANDLERS = [
  task('AcquireLock', 'acquire-lock', 'Validates the run input and takes the per-region run lock'),
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
  task('RequestApproval', 'request-approval', 'Stores the task token and emails a signed approval link'),
  task(
    'LoadApproved',
    'load-approved',
    'Marks the approved plan items and writes their verified ids in batches for DeleteBatch children',
  ),
  task('LoadBatch', 'load-batch', 'Reads one batch of the approved deletion set and checks its hash'),
  task('DeregisterImage', 'deregister-image', 'Re-checks an AMI is unused, then deregisters it'),
  task(
    'DeleteImageSnapshots',
    'delete-image-snapshots',
    'Deletes a deregistered AMI snapshots no AMI still uses',
  ),
  task('DeleteOrphanSnapshot', 'delete-orphan-snapshot', 'Deletes one approved orphan snapshot'),
  task('RecordFailure', 'record-failure', 'Records a deletion failure on its ledger item'),
  task('Finalize', 'finalize', 'Gives every ledger item a final status and summarises the run'),
  task('ReleaseLock', 'release-lock', 'Releases the per-region run lock'),
  task(
    'ResumeTargetRun',
    'resume-target-run',
    'Resumes a target run of an organization run for its delete or close phase, from the ledger',
  ),
] as const;

/** The organization run's own handlers (statemachine/organization.asl.json); RequestApproval is shared. */
export const ORGANIZATION_HANDLERS = [
  task('ResolveTargets', 'resolve-targets', 'Validates the input and resolves accounts and OUs into targets'),
  task(
    'CollectReferences',
    'collect-references',
    'Writes the AMIs one target account references, for the others',
  ),
  task('CombinePlans', 'combine-plans', "Combines the target runs' plans into the run's one plan"),
  task(
    'FinalizeOrganizationRun',
    'finalize-organization-run',
    "Summarises every target run into the organization run's summary",
  ),
] as const;
export type OrganizationHandlerId = (typeof ORGANIZATION_HANDLERS)[number]['id'];

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

/** Every function the construct creates (what `npm run build` pre-bundles). */
export const ALL_HANDLERS: readonly HandlerSpec[] = [
  ...STATE_MACHINE_HANDLERS,
  APPROVAL_PAGE_HANDLER,
  START_EXECUTION_HANDLER,
  CLOSE_ABANDONED_RUN_HANDLER,
];
