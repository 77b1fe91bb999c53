/**
 * What the organization run adds to the functions (only with `targets`): its own functions'
 * access, the member role for every function acting in targets, and the Organizations reads.
 */
import { Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { type Access, actsInTargets } from './handler-access.ts';
import { allowAssumeMemberRole, allowListOrganization, type MemberRoleScope } from './iam.ts';
import { acknowledge, nagName } from './nag.ts';

export interface OrganizationFunctionsProps {
  /** Which member roles may be assumed. */
  readonly memberRole: MemberRoleScope;
  /** Added to every function that acts in targets (`HUB_ACCOUNT_ID`, `MEMBER_ROLE_NAME`). */
  readonly memberEnvironment: Readonly<Record<string, string>>;
  /** ResolveTargets only (`TARGETS`, the organization run's history budget). */
  readonly resolveTargetsEnvironment: Readonly<Record<string, string>>;
}

/** The member role and the Organizations reads, for one function of a deployment with `targets`. */
export function applyOrganizationAccess(
  scope: Construct,
  fn: lambda.Function,
  access: Access,
  organization: OrganizationFunctionsProps,
): void {
  const { memberRole } = organization;
  if (actsInTargets(access)) {
    allowAssumeMemberRole(scope, fn, memberRole);
    if (memberRole.organizationalUnits.length > 0) {
      acknowledge(
        fn,
        "The accounts of the selected OUs are only known at run time: the member role's name in any account, only where aws:ResourceOrgPaths passes through a selected OU or root.",
        `AwsSolutions-IAM5[Resource::arn:${nagName(scope, Stack.of(scope).partition)}:iam::*:role/${memberRole.roleName}]`,
      );
    }
  }
  if (access.organizations && memberRole.organizationalUnits.length > 0) {
    allowListOrganization(fn);
    acknowledge(
      fn,
      'Organizations list actions are scoped by OU ARNs that carry the organization id, unknown to the deployment; read-only, and answered only to the management account or a delegated administrator.',
      'AwsSolutions-IAM5[Resource::*]',
    );
  }
}
