/**
 * `AmiCleanerStack`: one `AmiCleaner` and the outputs an operator needs after `cdk deploy`: the
 * ledger table (for `amicleaner --ledger-table`), the state machine, the approval topic and a
 * console link to the executions.
 */
import { Aws, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { AmiCleaner } from '../ami-cleaner.ts';
import type { AmiCleanerProps } from './props.ts';

export interface AmiCleanerStackProps extends StackProps {
  /** The construct's props. */
  readonly cleaner: AmiCleanerProps;
}

export class AmiCleanerStack extends Stack {
  readonly cleaner: AmiCleaner;

  constructor(scope: Construct, id: string, props: AmiCleanerStackProps) {
    super(scope, id, props);
    this.cleaner = new AmiCleaner(this, 'AmiCleaner', props.cleaner);
    const { ledgerTable, stateMachine, approvalTopic } = this.cleaner;

    new CfnOutput(this, 'LedgerTableName', {
      description: 'The audit ledger; pass it to amicleaner run/history --ledger-table',
      value: ledgerTable.tableName,
    });
    new CfnOutput(this, 'StateMachineArn', {
      description: 'Start a run by hand: aws stepfunctions start-execution --state-machine-arn <this>',
      value: stateMachine.stateMachineArn,
    });
    new CfnOutput(this, 'ApprovalTopicArn', {
      description: 'Approval emails are published here; subscribe more approvers to it',
      value: approvalTopic.topicArn,
    });
    new CfnOutput(this, 'ExecutionsConsoleUrl', {
      description: 'The runs in the Step Functions console',
      value: `https://${Aws.REGION}.console.${Aws.URL_SUFFIX}/states/home?region=${Aws.REGION}#/statemachines/view/${stateMachine.stateMachineArn}`,
    });
  }
}
