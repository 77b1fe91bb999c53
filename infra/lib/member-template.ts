/**
 * What every StackSet template of the member side shares: synthesized in an app of its own, with
 * no assets and no bootstrap rule (member accounts of a StackSet are not CDK-bootstrapped), inside
 * CloudFormation's inline TemplateBody limit; the checks of a StackSet's OU list; and the
 * StackSet itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnParameter, DefaultStackSynthesizer, Stack, Token } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import type { Construct } from 'constructs';
import { isOrganizationalUnitId } from '../../functions/core/target.ts';

/** CloudFormation's limit on a StackSet's inline TemplateBody. */
export const TEMPLATE_BODY_MAX_BYTES = 51_200;

/**
 * `build` in a stack of its own app, synthesized into a private temporary directory (never the
 * caller's cdk.out, which `CDK_OUTDIR` would otherwise point a nested app at), as JSON text.
 */
export function synthMemberTemplate(
  stackName: string,
  description: string,
  build: (stack: Stack) => void,
): Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'ami-cleaner-member-'));
  try {
    const app = new App({
      outdir,
      autoSynth: false,
      context: { 'aws:cdk:enable-path-metadata': false, 'aws:cdk:version-reporting': false },
    });
    const stack = new Stack(app, stackName, {
      synthesizer: new DefaultStackSynthesizer({ generateBootstrapVersionRule: false }),
      analyticsReporting: false,
      description,
    });
    build(stack);
    return app.synth().getStackByName(stack.stackName).template as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The template as a StackSet's TemplateBody; `owner` names the construct in the error. */
export function templateBody(owner: string, template: Record<string, unknown>): string {
  const body = JSON.stringify(template);
  if (Buffer.byteLength(body) > TEMPLATE_BODY_MAX_BYTES) {
    throw new Error(`${owner}: the member template exceeds ${TEMPLATE_BODY_MAX_BYTES} bytes`);
  }
  return body;
}

/** A service-managed StackSet's deployment targets: OU or root ids, at least one. */
export function checkOrganizationalUnitIds(owner: string, ids: readonly string[]): void {
  if (ids.length === 0) throw new Error(`${owner}: organizationalUnitIds is empty`);
  for (const id of ids) {
    if (!Token.isUnresolved(id) && !isOrganizationalUnitId(id)) {
      throw new Error(`${owner}: ${JSON.stringify(id)} is not an OU or root id`);
    }
  }
}

export interface ServiceManagedStackSetProps {
  readonly stackSetName: string;
  readonly description: string;
  readonly callAs: 'SELF' | 'DELEGATED_ADMIN';
  readonly capabilities: readonly string[];
  readonly parameters: Readonly<Record<string, string>>;
  readonly organizationalUnitIds: readonly string[];
  readonly regions: readonly string[];
  readonly templateBody: string;
}

/**
 * A service-managed StackSet with auto-deployment (an account that joins an OU gets the stack
 * without anyone deploying; one that leaves loses it), a quarter of the accounts at a time.
 */
export function serviceManagedStackSet(
  scope: Construct,
  id: string,
  props: ServiceManagedStackSetProps,
): cloudformation.CfnStackSet {
  return new cloudformation.CfnStackSet(scope, id, {
    stackSetName: props.stackSetName,
    description: props.description,
    permissionModel: 'SERVICE_MANAGED',
    autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
    callAs: props.callAs,
    capabilities: [...props.capabilities],
    managedExecution: { Active: true },
    operationPreferences: {
      maxConcurrentPercentage: 25,
      failureTolerancePercentage: 10,
      regionConcurrencyType: 'PARALLEL',
    },
    parameters: Object.entries(props.parameters).map(([parameterKey, parameterValue]) => ({
      parameterKey,
      parameterValue,
    })),
    stackInstancesGroup: [
      {
        deploymentTargets: { organizationalUnitIds: [...props.organizationalUnitIds] },
        regions: [...props.regions],
      },
    ],
    templateBody: props.templateBody,
  });
}

/** The hub account as a template parameter (both member templates take it). */
export function hubAccountParameter(stack: Stack, id: string): CfnParameter {
  return new CfnParameter(stack, id, {
    type: 'String',
    allowedPattern: '^[0-9]{12}$',
    description: 'The ami-cleaner hub account',
  });
}
