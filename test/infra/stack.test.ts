import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AmiCleaner,
  type AmiCleanerProps,
  AmiCleanerStack,
  defaultFunctionFactory,
  InlineCodeFunctionFactory,
  NodejsFunctionFactory,
  PrebundledFunctionFactory,
} from '../../infra/index.ts';
import { ALL_HANDLERS, ORGANIZATION_HANDLERS } from '../../infra/lib/handlers.ts';

const ENV = { account: '123456789012', region: 'eu-west-1' };

function testApp() {
  return new App({ builtinCloudFormationValidation: false });
}

function cleanerStack(props: Partial<AmiCleanerProps> = {}) {
  const stack = new Stack(testApp(), 'TestStack', { env: ENV });
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'approver@example.org',
    functionFactory: new InlineCodeFunctionFactory(),
    ...props,
  });
  return { stack, cleaner, template: Template.fromStack(stack) };
}

describe('AmiCleanerStack outputs', () => {
  const stack = new AmiCleanerStack(testApp(), 'Deployed', {
    env: ENV,
    cleaner: { approvalEmail: 'approver@example.org', functionFactory: new InlineCodeFunctionFactory() },
  });
  const outputs = Template.fromStack(stack).toJSON().Outputs;
  const { cleaner } = stack;

  it('names the ledger table, the state machine and the approval topic an operator needs', () => {
    expect(outputs.LedgerTableName.Value).toEqual(stack.resolve(cleaner.ledgerTable.tableName));
    expect(outputs.StateMachineArn.Value).toEqual(stack.resolve(cleaner.stateMachine.stateMachineArn));
    expect(outputs.ApprovalTopicArn.Value).toEqual(stack.resolve(cleaner.approvalTopic.topicArn));
    expect(outputs.LedgerTableName.Description).toMatch(/--ledger-table/);
  });

  it('links to the executions in the Step Functions console of the stack region', () => {
    const url = JSON.stringify(outputs.ExecutionsConsoleUrl.Value);
    expect(url).toContain('.console.');
    expect(url).toContain('/states/home?region=');
    expect(url).toContain('#/statemachines/view/');
    expect(url).toContain(JSON.stringify(stack.resolve(cleaner.stateMachine.stateMachineArn)).slice(1, -1));
  });
});

describe('alarm notifications', () => {
  it('sends every alarm to a topic the approval email is subscribed to, by default', () => {
    // Act
    const { stack, cleaner, template } = cleanerStack();

    // Assess
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThanOrEqual(5);
    const topicRef = stack.resolve((cleaner.alarmTopic as sns.Topic).topicArn);
    for (const alarm of alarms) expect(alarm.Properties.AlarmActions).toEqual([topicRef]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'approver@example.org',
      TopicArn: topicRef,
    });
    expect(cleaner.alarmTopic).not.toBe(cleaner.approvalTopic);
  });

  it('sends the alarms to a given alarmTopic and creates none', () => {
    // Prepare
    const stack = new Stack(testApp(), 'Given', { env: ENV });
    const onCall = new sns.Topic(stack, 'OnCall');

    // Act
    new AmiCleaner(stack, 'Cleaner', {
      approvalEmail: 'approver@example.org',
      alarmTopic: onCall,
      functionFactory: new InlineCodeFunctionFactory(),
    });

    // Assess
    const template = Template.fromStack(stack);
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      expect(alarm.Properties.AlarmActions).toEqual([stack.resolve(onCall.topicArn)]);
    }
    template.resourceCountIs('AWS::SNS::Topic', 2); // OnCall and the approval topic
  });

  it('warns at synth when the alarms would notify no one', () => {
    // Prepare
    const stack = new Stack(testApp(), 'Silent', { env: ENV });

    // Act
    new AmiCleaner(stack, 'Cleaner', {
      approvalTopic: sns.Topic.fromTopicArn(
        stack,
        'Approvals',
        'arn:aws:sns:eu-west-1:123456789012:approvals',
      ),
      functionFactory: new InlineCodeFunctionFactory(),
    });

    // Assess
    Annotations.fromStack(stack).hasWarning('*', Match.stringLikeRegexp('The alarms notify no one'));
  });
});

describe('function factories', () => {
  const folders: string[] = [];
  afterAll(() => {
    for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  });

  function prebuilt(files: readonly string[]): string {
    const folder = mkdtempSync(join(tmpdir(), 'ami-cleaner-prebuilt-'));
    folders.push(folder);
    for (const file of files) {
      mkdirSync(join(folder, file));
      writeFileSync(join(folder, file, 'index.mjs'), `export const handler = async () => '${file}';\n`);
    }
    return folder;
  }

  it('bundles from source in a checkout, where no pre-built handlers sit beside the construct', () => {
    expect(defaultFunctionFactory()).toBeInstanceOf(NodejsFunctionFactory);
  });

  it('uses each pre-built handler folder as the function code, with source maps on', () => {
    // Act
    const { template } = cleanerStack({
      functionFactory: new PrebundledFunctionFactory({
        directory: prebuilt(ALL_HANDLERS.map((h) => h.file)),
      }),
    });

    // Assess
    const functions = Object.values(
      template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }),
    );
    // Without targets, the organization run's functions are not created.
    expect(functions).toHaveLength(ALL_HANDLERS.length - ORGANIZATION_HANDLERS.length);
    for (const fn of functions) {
      expect(fn.Properties.Runtime).toBe('nodejs24.x');
      expect(fn.Properties.Code.S3Key).toMatch(/^[0-9a-f]{64}\.zip$/);
      expect(fn.Properties.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('names the missing pre-built handler and how to build it', () => {
    // Prepare
    const directory = prebuilt(['resume-target-run', 'acquire-lock', 'finish-earlier-runs']);

    // Act
    const act = () => cleanerStack({ functionFactory: new PrebundledFunctionFactory({ directory }) });

    // Assess
    expect(act).toThrow(
      /no pre-built handler .*inventory\/index\.mjs \(handler Inventory\); run npm run build/,
    );
  });
});
