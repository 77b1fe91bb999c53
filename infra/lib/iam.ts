/** Least-privilege statements the CDK has no grant method for. */
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { WORKSPACE_PREFIX } from './data-layer.ts';

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
