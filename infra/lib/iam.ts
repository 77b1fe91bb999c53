/** Least-privilege statements the CDK has no grant method for. */
import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { RETAIN_TAG, RUN_TAG_KEY } from '../../functions/core/recycle-bin.ts';
import { WORKSPACE_PREFIX } from './data-layer.ts';
import { type LedgerKeySpace, type LedgerMethod, requestsOf } from './ledger-access.ts';

/** EC2 image ARNs carry no account: `arn:<partition>:ec2:<region>::image/<id>`. */
export function imageArns(scope: Construct): string {
  return Stack.of(scope).formatArn({ service: 'ec2', account: '', resource: 'image', resourceName: '*' });
}

/**
 * Snapshot ARNs carry no account either (`arn:<partition>:ec2:<region>::snapshot/<id>`, per the
 * Service Authorization Reference); a pattern with the account id would match nothing. An account
 * can only delete snapshots it owns, so the region scope is the real bound.
 */
export function snapshotArns(scope: Construct): string {
  return Stack.of(scope).formatArn({ service: 'ec2', account: '', resource: 'snapshot', resourceName: '*' });
}

export function allowDescribe(grantee: iam.IGrantable, opts: { autoScaling?: boolean } = {}): void {
  // Describe calls support no resource-level permissions.
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DescribeImageReferences',
      actions: ['ec2:Describe*', ...(opts.autoScaling ? ['autoscaling:Describe*'] : [])],
      resources: ['*'],
    }),
  );
}

export function allowDeregisterImage(scope: Construct, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeregisterImage',
      actions: ['ec2:DeregisterImage'],
      resources: [imageArns(scope)],
    }),
  );
}

/**
 * `sharedAmis: delete-when-unused`: one image usage report per shared candidate (a report
 * resource; nothing else changes). Images of this region, reports of this account and region.
 */
export function allowCreateImageUsageReport(scope: Construct, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'CreateImageUsageReport',
      actions: ['ec2:CreateImageUsageReport'],
      resources: [
        imageArns(scope),
        Stack.of(scope).formatArn({ service: 'ec2', resource: 'image-usage-report', resourceName: '*' }),
      ],
    }),
  );
}

export function allowDeleteSnapshot(scope: Construct, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'DeleteSnapshot',
      actions: ['ec2:DeleteSnapshot'],
      resources: [snapshotArns(scope)],
    }),
  );
}

export function allowReadSsmParameters(scope: Construct, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadAmiParameters',
      actions: ['ssm:GetParametersByPath', 'ssm:GetParameters', 'ssm:GetParameter'],
      // The paths can be overridden per execution, so any parameter of this account and region.
      resources: [Stack.of(scope).formatArn({ service: 'ssm', resource: 'parameter', resourceName: '*' })],
    }),
  );
}

/**
 * Image Builder recipes (an in-use source) and what DescribeImageReferences checks on the caller's
 * behalf: it needs read access to each resource type it looks at (Image Builder recipes, SSM
 * parameters) besides `ec2:Describe*`. The List actions and ssm:DescribeParameters support no
 * resource-level permissions; GetContainerRecipe is scoped to container recipes of this region,
 * any account (shared recipes belong to their owners).
 */
export function allowImageReferenceReads(scope: Construct, grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListImageReferenceSources',
      actions: [
        'imagebuilder:ListImageRecipes',
        'imagebuilder:ListContainerRecipes',
        'ssm:DescribeParameters',
      ],
      resources: ['*'],
    }),
  );
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'GetContainerRecipes',
      actions: ['imagebuilder:GetContainerRecipe'],
      resources: [
        Stack.of(scope).formatArn({
          service: 'imagebuilder',
          account: '*',
          resource: 'container-recipe',
          resourceName: '*',
        }),
      ],
    }),
  );
}

/** Object-level access to the run workspace only (never list, never delete: the lifecycle expires). */
export function allowWorkspace(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  mode: 'read' | 'readWrite',
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: mode === 'read' ? 'ReadRunWorkspace' : 'ReadWriteRunWorkspace',
      actions: mode === 'read' ? ['s3:GetObject'] : ['s3:GetObject', 's3:PutObject'],
      resources: [bucket.arnForObjects(`${WORKSPACE_PREFIX}*`)],
    }),
  );
}

/**
 * The ledger actions of `methods` only: one statement per key space, bound to it with
 * `dynamodb:LeadingKeys` (a request whose partition key is outside it is denied), and Query on
 * exactly the indexes used. No Scan is ever granted, so the condition always has keys to test.
 */
export function allowLedger(
  table: dynamodb.ITable,
  grantee: iam.IGrantable,
  methods: readonly LedgerMethod[],
): void {
  const byKeySpace = new Map<LedgerKeySpace, Set<string>>();
  const indexes = new Set<string>();
  for (const request of requestsOf(methods)) {
    if ('index' in request) indexes.add(request.index);
    else
      byKeySpace.set(request.keySpace, (byKeySpace.get(request.keySpace) ?? new Set()).add(request.action));
  }
  for (const [keySpace, actions] of [...byKeySpace].sort(([a], [b]) => a.localeCompare(b))) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: `Ledger${keySpace
          .replace('#', '')
          .toLowerCase()
          .replace(/^./, (c) => c.toUpperCase())}Items`,
        actions: [...actions].sort(),
        resources: [table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${keySpace}*`] } },
      }),
    );
  }
  if (indexes.size > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'LedgerIndexes',
        actions: ['dynamodb:Query'],
        resources: [...indexes].sort().map((name) => `${table.tableArn}/index/${name}`),
      }),
    );
  }
}

/**
 * CreateTags for the Recycle Bin: only the two retention tags (`aws:TagKeys`), only with the
 * value the rules match (`aws:RequestTag`), only on images and/or snapshots of this region. The
 * functions cannot use it to change any other tag, nor to tag anything else.
 */
/** What CreateTags may do for the Recycle Bin, hub and member alike: the two retention tags, the rules' value. */
export function recycleBinTagConditions(): Record<string, Record<string, unknown>> {
  return {
    StringEquals: { [`aws:RequestTag/${RETAIN_TAG.key}`]: RETAIN_TAG.value },
    'ForAllValues:StringEquals': { 'aws:TagKeys': [RETAIN_TAG.key, RUN_TAG_KEY] },
  };
}

export function allowTagForRecycleBin(
  scope: Construct,
  grantee: iam.IGrantable,
  resources: 'imagesAndSnapshots' | 'snapshots',
): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'TagForRecycleBin',
      actions: ['ec2:CreateTags'],
      resources:
        resources === 'imagesAndSnapshots' ? [imageArns(scope), snapshotArns(scope)] : [snapshotArns(scope)],
      conditions: recycleBinTagConditions(),
    }),
  );
}

/** Which member roles the hub's functions may assume: those of the listed accounts, and of OUs' accounts. */
export interface MemberRoleScope {
  readonly roleName: string;
  readonly accounts: readonly string[];
  readonly organizationalUnits: readonly string[];
}

/**
 * `sts:AssumeRole` on the member role of each listed account, by ARN. With OUs (accounts known
 * only at run time) on the role's name in any account, but only where `aws:ResourceOrgPaths`
 * (the org path of the account owning the role) passes through one of the selected OUs or
 * roots: an account outside them, or in no organization (no path at all), is denied.
 */
export function allowAssumeMemberRole(
  scope: Construct,
  grantee: iam.IGrantable,
  member: MemberRoleScope,
): void {
  const roleArn = (account: string) =>
    Stack.of(scope).formatArn({
      service: 'iam',
      region: '',
      account,
      resource: 'role',
      resourceName: member.roleName,
    });
  if (member.accounts.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeMemberRoleOfTargetAccounts',
        actions: ['sts:AssumeRole'],
        resources: member.accounts.map(roleArn),
      }),
    );
  }
  if (member.organizationalUnits.length > 0) {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'AssumeMemberRoleInTargetOus',
        actions: ['sts:AssumeRole'],
        resources: [roleArn('*')],
        conditions: {
          'ForAnyValue:StringLike': {
            'aws:ResourceOrgPaths': member.organizationalUnits.map((id) =>
              // `o-…/r-…/ou-…/…/`: the root right after the organization, an OU anywhere below it.
              id.startsWith('r-') ? `o-*/${id}/*` : `o-*/*/${id}/*`,
            ),
          },
        },
      }),
    );
  }
}

/**
 * ResolveTargets walks the selected OUs: the two list actions, on `*` (their resource is the OU
 * or root ARN, which carries the organization id the deployment does not know; both are
 * read-only and answer only the management account or a delegated administrator).
 */
export function allowListOrganization(grantee: iam.IGrantable): void {
  grantee.grantPrincipal.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ListTargetOus',
      actions: ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'],
      resources: ['*'],
    }),
  );
}
