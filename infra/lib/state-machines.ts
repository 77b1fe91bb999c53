/**
 * The construct's state machines, rendered from `statemachine/`: the target run (every
 * deployment), its DeleteBatch children, and with `targets` the organization run that starts
 * one target run per target and phase. Each may invoke exactly the functions its definition
 * uses (`handlersOf`) and start, follow and stop exactly its own children (`.sync:2`).
 * Created in the construct's own scope, so their logical ids do not depend on this file.
 */
import { ArnFormat, type CfnElement, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import {
  DELETE_BATCH_DEFINITION_PATH,
  DELETE_BATCH_STATE_MACHINE_PLACEHOLDER,
  listPlaceholders,
  loadDefinitionTemplate,
  type NumericPlaceholder,
  ORGANIZATION_DEFINITION_PATH,
  renderNumbers,
  TARGET_STATE_MACHINE_PLACEHOLDER,
} from './definition.ts';
import { type DefinitionId, handlersOf, type WorkflowHandlerId } from './handlers.ts';
import { acknowledge, nagName } from './nag.ts';

export interface WorkflowStateMachinesProps {
  /** Every function a definition may name, by handler id. */
  readonly functions: Readonly<Partial<Record<WorkflowHandlerId, lambda.IFunction>>>;
  readonly numbers: Readonly<Record<NumericPlaceholder, number>>;
  readonly logGroup: logs.ILogGroup;
  /** Create the organization run too (`targets`). */
  readonly organization: boolean;
}

export interface WorkflowStateMachines {
  readonly run: sfn.StateMachine;
  readonly deleteBatch: sfn.StateMachine;
  readonly organization?: sfn.StateMachine;
}

export function createWorkflowStateMachines(
  scope: Construct,
  props: WorkflowStateMachinesProps,
): WorkflowStateMachines {
  // Numbers are rendered here (the files keep them as quoted placeholders to stay valid JSON);
  // ARNs go through DefinitionSubstitutions so the template keeps a readable definition.
  const machine = (
    id: string,
    definition: DefinitionId,
    path: string | undefined,
    children: Readonly<Record<string, string>> = {},
  ): sfn.StateMachine => {
    const functions = handlersOf(definition).map((spec) => {
      const fn = props.functions[spec.id];
      if (!fn) throw new Error(`AmiCleaner: the ${definition} definition needs the ${spec.id} function`);
      return { placeholder: spec.stateMachinePlaceholder, fn };
    });
    const substitutions: Record<string, string> = { ...children };
    for (const { placeholder, fn } of functions) substitutions[placeholder] = fn.functionArn;
    const rendered = renderNumbers(loadDefinitionTemplate(path), props.numbers);
    const unknown = listPlaceholders(rendered).filter((name) => !(name in substitutions));
    if (unknown.length > 0) {
      throw new Error(
        `AmiCleaner: the ${definition} state machine definition uses unknown placeholders: ${unknown.join(', ')}`,
      );
    }
    return workflowStateMachine(
      scope,
      id,
      rendered,
      substitutions,
      functions.map(({ fn }) => fn),
      props.logGroup,
    );
  };
  // The DeleteBatch child: one batch of the verified deletion set, started by the run (.sync:2).
  const deleteBatch = machine('DeleteBatchStateMachine', 'deleteBatch', DELETE_BATCH_DEFINITION_PATH);
  const run = machine('StateMachine', 'target', undefined, {
    [DELETE_BATCH_STATE_MACHINE_PLACEHOLDER]: deleteBatch.stateMachineArn,
  });
  allowSyncChildren(scope, run, deleteBatch, 'FollowDeleteBatchChildren', 'the DeleteBatch state machine');
  if (!props.organization) return { run, deleteBatch };
  // The organization run: one target run per target and phase (plan, delete, close).
  const organization = machine('OrganizationStateMachine', 'organization', ORGANIZATION_DEFINITION_PATH, {
    [TARGET_STATE_MACHINE_PLACEHOLDER]: run.stateMachineArn,
  });
  allowSyncChildren(scope, organization, run, 'FollowTargetRuns', 'the target run state machine');
  allowDistributedMapChildren(scope, organization);
  return { run, deleteBatch, organization };
}

/**
 * A DISTRIBUTED Map starts each iteration as a child execution of its own state machine, and
 * follows and stops it. As the CDK's DistributedMap does, in a policy of its own under the state
 * machine: the role's default policy naming the state machine's ARN would be a dependency cycle.
 */
function allowDistributedMapChildren(scope: Construct, machine: sfn.StateMachine): void {
  const stack = Stack.of(scope);
  const policy = new iam.Policy(machine, 'DistributedMapPolicy', {
    statements: [
      new iam.PolicyStatement({
        sid: 'StartMapRunChildren',
        actions: ['states:StartExecution'],
        resources: [machine.stateMachineArn],
      }),
      new iam.PolicyStatement({
        sid: 'FollowMapRunChildren',
        actions: ['states:DescribeExecution', 'states:StopExecution'],
        // A Map Run's children: execution:<state machine>/<Map label>:<id>.
        resources: [executionArns(stack, `${machine.stateMachineName}/*`)],
      }),
    ],
  });
  machine.role.attachInlinePolicy(policy);
  acknowledge(
    policy,
    "A Map Run's child executions are named by Step Functions when they start: this state machine's own executions only.",
    `AwsSolutions-IAM5[Resource::arn:${nagName(scope, stack.partition)}:states:${nagName(scope, stack.region)}:${nagName(scope, stack.account)}:execution:<${stack.getLogicalId(machine.node.defaultChild as CfnElement)}.Name>/*]`,
  );
}

/** `.sync:2`: start, describe and stop the children, and the managed rule that reports their end. */
function allowSyncChildren(
  scope: Construct,
  parent: sfn.StateMachine,
  child: sfn.StateMachine,
  sid: string,
  what: string,
): void {
  const stack = Stack.of(scope);
  child.grantStartExecution(parent);
  parent.addToRolePolicy(
    new iam.PolicyStatement({
      sid,
      actions: ['states:DescribeExecution', 'states:StopExecution'],
      resources: [executionArns(stack, `${child.stateMachineName}:*`)],
    }),
  );
  parent.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'SyncExecutionEvents',
      actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
      resources: [
        stack.formatArn({
          service: 'events',
          resource: 'rule',
          resourceName: 'StepFunctionsGetEventsForStepFunctionsExecutionRule',
        }),
      ],
    }),
  );
  acknowledge(
    parent,
    `.sync:2 follows its children by execution ARN, which exists only once started: ${what} executions only.`,
    `AwsSolutions-IAM5[Resource::arn:${nagName(scope, stack.partition)}:states:${nagName(scope, stack.region)}:${nagName(scope, stack.account)}:execution:<${stack.getLogicalId(child.node.defaultChild as CfnElement)}.Name>:*]`,
  );
}

/** `arn:…:states:<region>:<account>:execution:<pattern>`: executions of this stack's state machines. */
function executionArns(stack: Stack, pattern: string): string {
  return stack.formatArn({
    service: 'states',
    resource: 'execution',
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    resourceName: pattern,
  });
}

/** One STANDARD state machine of the workflow, logged, traced, invoking only its definition's functions. */
function workflowStateMachine(
  scope: Construct,
  id: string,
  definition: string,
  substitutions: Record<string, string>,
  functions: readonly lambda.IFunction[],
  logGroup: logs.ILogGroup,
): sfn.StateMachine {
  const stateMachine = new sfn.StateMachine(scope, id, {
    stateMachineType: sfn.StateMachineType.STANDARD,
    definitionBody: sfn.DefinitionBody.fromString(definition),
    definitionSubstitutions: { ...substitutions },
    tracingEnabled: true,
    logs: {
      destination: logGroup,
      level: sfn.LogLevel.ALL,
      // Execution data would put `$$.Task.Token` (RequestApproval's Payload) into the logs.
      includeExecutionData: false,
    },
  });
  // fromString infers no grants: allow exactly the functions the definition invokes (unqualified ARNs).
  stateMachine.addToRolePolicy(
    new iam.PolicyStatement({
      sid: 'InvokeWorkflowFunctions',
      actions: ['lambda:InvokeFunction'],
      resources: functions.map((fn) => fn.functionArn),
    }),
  );
  acknowledge(
    stateMachine,
    'Log delivery and X-Ray actions added by the CDK for logging and tracing support no resource-level permissions.',
    'AwsSolutions-IAM5[Resource::*]',
  );
  return stateMachine;
}
