/**
 * What each function may touch, in one table a reviewer reads for least privilege: the state
 * machine handlers of every deployment, and the organization run's own (only with `targets`).
 * Nothing else gets EC2 write access.
 */
import { Duration } from 'aws-cdk-lib';
import type { OrganizationHandlerId, StateMachineHandlerId } from './handlers.ts';

export interface Access {
  readonly timeout: Duration;
  readonly memorySize: number;
  readonly workspace?: 'read' | 'readWrite';
  readonly describe?: 'ec2' | 'ec2AndAutoScaling';
  readonly ssm?: boolean;
  /** Image Builder recipes and DescribeImageReferences' own reads (see `allowImageReferenceReads`). */
  readonly imageReferences?: boolean;
  /** CreateImageUsageReport (`sharedAmis: delete-when-unused`); the describes come with `describe`. */
  readonly usageReports?: boolean;
  readonly deregister?: boolean;
  readonly deleteSnapshot?: boolean;
  /** With Recycle Bin retention on: what it tags right before deleting (see `allowTagForRecycleBin`). */
  readonly recycleBinTags?: 'imagesAndSnapshots' | 'snapshots';
  readonly requestApproval?: boolean;
  /** Lists the selected OUs' accounts through AWS Organizations (only when OUs are selected). */
  readonly organizations?: boolean;
}

export const SHORT = Duration.seconds(30);
// Three re-check reads (every page of launch template versions, DescribeImageReferences) plus the
// delete, under throttling.
const DELETION = Duration.minutes(3);
export const PLANNING = Duration.minutes(5);

/** What each state machine handler may touch. Nothing else gets EC2 write access. */
export const HANDLER_ACCESS: Readonly<Record<StateMachineHandlerId, Access>> = {
  // Reads the target run and its lock from the ledger; nothing else.
  ResumeTargetRun: { timeout: SHORT, memorySize: 256 },
  AcquireLock: { timeout: SHORT, memorySize: 256 },
  // Up to 200 earlier AMIs: re-checks and deletes their snapshots at EC2's 5 deletions a second.
  FinishEarlierRuns: {
    timeout: PLANNING,
    memorySize: 256,
    describe: 'ec2',
    deleteSnapshot: true,
    recycleBinTags: 'snapshots',
  },
  // Every page of every source for up to 100,000 AMIs: give it Lambda's full 15 minutes and 1 vCPU.
  Inventory: {
    timeout: Duration.minutes(15),
    memorySize: 1769,
    workspace: 'readWrite',
    describe: 'ec2AndAutoScaling',
    ssm: true,
    imageReferences: true,
  },
  MapGroups: { timeout: PLANNING, memorySize: 1024, workspace: 'readWrite' },
  FilterInUse: { timeout: PLANNING, memorySize: 1024, workspace: 'readWrite' },
  // DescribeImageAttribute (launch permissions) for the would-be candidates only, then
  // DescribeImageReferences for the candidates, up to maxDeletionsPerRun launch-permission reads at
  // the describe bucket's 20/s, and (delete-when-unused) a usage report per shared candidate, waited
  // for up to 3 minutes (`usageReports`: CreateImageUsageReport on images and reports of this
  // region; the describes are in ec2:Describe*).
  Rotate: {
    timeout: Duration.minutes(15),
    memorySize: 1024,
    workspace: 'readWrite',
    describe: 'ec2',
    imageReferences: true,
    usageReports: true,
  },
  RecordPlan: { timeout: Duration.minutes(15), memorySize: 1024, workspace: 'read' },
  RequestApproval: {
    timeout: Duration.minutes(1),
    memorySize: 512,
    workspace: 'read',
    requestApproval: true,
  },
  // Re-reads every reference source at approval time (the plan may be a day old by then).
  LoadApproved: {
    // The same reference reads as Inventory (every page of every source), minus the AMIs.
    timeout: Duration.minutes(15),
    memorySize: 1024,
    // Reads the plan's items, writes the verified deletion set's batches.
    workspace: 'readWrite',
    describe: 'ec2AndAutoScaling',
    ssm: true,
    imageReferences: true,
  },
  // Reads one batch of the verified deletion set and checks its hash; no AWS call besides S3.
  LoadBatch: { timeout: SHORT, memorySize: 256, workspace: 'read' },
  // Re-checks instances and launch templates, and asks DescribeImageReferences (which reads SSM
  // parameters and Image Builder recipes on its behalf), right before deregistering.
  DeregisterImage: {
    timeout: DELETION,
    memorySize: 256,
    describe: 'ec2AndAutoScaling',
    imageReferences: true,
    deregister: true,
    // One CreateTags per AMI, covering the AMI and its snapshots.
    recycleBinTags: 'imagesAndSnapshots',
    // A target run's consumers: the reference targets its organization run wrote.
    workspace: 'read',
  },
  DeleteImageSnapshots: {
    timeout: DELETION,
    memorySize: 256,
    describe: 'ec2',
    deleteSnapshot: true,
  },
  DeleteOrphanSnapshot: {
    timeout: DELETION,
    memorySize: 256,
    describe: 'ec2',
    deleteSnapshot: true,
    recycleBinTags: 'snapshots',
  },
  RecordFailure: { timeout: SHORT, memorySize: 256 },
  Finalize: { timeout: PLANNING, memorySize: 512, workspace: 'read' },
  ReleaseLock: { timeout: SHORT, memorySize: 256 },
};

/** The organization run's own functions (only with `targets`). */
export const ORGANIZATION_ACCESS: Readonly<Record<OrganizationHandlerId, Access>> = {
  // Up to 100 OUs, 5 levels deep, 20 a page at Organizations' few requests a second; writes which
  // targets' references count (the run's reference targets) to the workspace.
  ResolveTargets: { timeout: PLANNING, memorySize: 256, workspace: 'readWrite', organizations: true },
  // The same reads as Inventory, minus the AMIs and snapshots, in one target account: the same access.
  CollectReferences: HANDLER_ACCESS.Inventory,
  // Reads every target run's plan, writes the organization run's one plan.
  CombinePlans: { timeout: PLANNING, memorySize: 1024, workspace: 'readWrite' },
  FinalizeOrganizationRun: { timeout: PLANNING, memorySize: 512 },
};

/**
 * Functions that read or change EC2, Auto Scaling or SSM resources act in other accounts through
 * the member role: its trust lists exactly their roles (`AmiCleaner.memberRoleCallers`).
 */
export function actsInTargets(access: Access): boolean {
  return access.describe !== undefined;
}
