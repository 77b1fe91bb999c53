import {
  DescribeAutoScalingGroupsCommand,
  paginateDescribeAutoScalingGroups,
  paginateDescribeLaunchConfigurations,
} from '@aws-sdk/client-auto-scaling';
import { GetObjectCommand, NoSuchKey, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { PublishCommand } from '@aws-sdk/client-sns';
import { GetParametersByPathCommand, paginateGetParametersByPath } from '@aws-sdk/client-ssm';
import { describe, expect, it } from 'vitest';
import { SimulatedAccount, TaskFailedError } from '../../cli/simulated-account/index.ts';
import { clientsFor, rejectionOf } from './clients.ts';

const created = new Date('2024-01-01T00:00:00Z');

describe('Auto Scaling', () => {
  it('pages groups and reports launch configurations, templates and mixed-instances overrides', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const template = account.addLaunchTemplate({
      name: 'web',
      createTime: created,
      versions: [{ imageId: 'ami-1' }],
    });
    for (let i = 0; i < 120; i++) {
      account.addAutoScalingGroup({
        name: `group-${String(i).padStart(3, '0')}`,
        desiredCapacity: 1,
        launchTemplate: { launchTemplateName: 'web', version: '$Latest' },
        createdTime: created,
      });
    }
    account.addAutoScalingGroup({
      name: 'mixed',
      desiredCapacity: 0,
      mixedInstancesPolicy: {
        launchTemplate: { launchTemplateId: template.launchTemplateId },
        overrides: [
          { instanceType: 'c7g.large', launchTemplate: { launchTemplateName: 'web', version: '1' } },
        ],
      },
      createdTime: created,
    });
    const { autoScaling } = clientsFor(account);

    // Act
    const pageSizes: number[] = [];
    for await (const page of paginateDescribeAutoScalingGroups({ client: autoScaling }, {})) {
      pageSizes.push(page.AutoScalingGroups?.length ?? 0);
    }
    const [mixed] =
      (
        await autoScaling.send(
          new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['mixed', 'nope'] }),
        )
      ).AutoScalingGroups ?? [];
    const [first] =
      (await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['group-000'] })))
        .AutoScalingGroups ?? [];
    const tooMany = await rejectionOf(
      autoScaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 101 })),
    );

    // Assess
    expect(pageSizes).toEqual([50, 50, 21]); // AWS's default page of 50
    expect(mixed?.DesiredCapacity).toBe(0);
    expect(mixed?.MixedInstancesPolicy?.LaunchTemplate).toEqual({
      LaunchTemplateSpecification: { LaunchTemplateId: template.launchTemplateId, LaunchTemplateName: 'web' },
      Overrides: [
        {
          InstanceType: 'c7g.large',
          LaunchTemplateSpecification: {
            LaunchTemplateId: template.launchTemplateId,
            LaunchTemplateName: 'web',
            Version: '1',
          },
        },
      ],
    });
    expect(first?.LaunchTemplate).toEqual({
      LaunchTemplateId: template.launchTemplateId,
      LaunchTemplateName: 'web',
      Version: '$Latest',
    });
    expect(tooMany.name).toBe('ValidationError');
  });

  it('pages launch configurations, attached or not', async () => {
    // Prepare
    const account = new SimulatedAccount();
    for (let i = 0; i < 7; i++) {
      account.addLaunchConfiguration({ name: `lc-${i}`, imageId: `ami-${i}`, createdTime: created });
    }
    const { autoScaling } = clientsFor(account);

    // Act
    const pages: string[][] = [];
    for await (const page of paginateDescribeLaunchConfigurations({ client: autoScaling, pageSize: 3 }, {})) {
      pages.push((page.LaunchConfigurations ?? []).map((lc) => lc.ImageId as string));
    }

    // Assess
    expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
    expect(pages.flat().sort()).toEqual(['ami-0', 'ami-1', 'ami-2', 'ami-3', 'ami-4', 'ami-5', 'ami-6']);
  });
});

describe('SSM GetParametersByPath', () => {
  it('returns direct children, or the whole subtree when recursive, ten at most per page', async () => {
    // Prepare
    const account = new SimulatedAccount();
    for (let i = 0; i < 12; i++)
      account.putParameter(`/amicleaner/app-${String(i).padStart(2, '0')}`, `ami-${i}`);
    account.putParameter('/amicleaner/team/web', 'ami-web');
    account.putParameter('/amicleanerx/other', 'ami-other');
    account.putParameter('/other/thing', 'x');
    const { ssm } = clientsFor(account);
    const names = async (recursive: boolean) => {
      const pages: string[][] = [];
      for await (const page of paginateGetParametersByPath(
        { client: ssm },
        { Path: '/amicleaner', Recursive: recursive },
      )) {
        pages.push((page.Parameters ?? []).map((parameter) => parameter.Name as string));
      }
      return pages;
    };

    // Act
    const direct = await names(false);
    const recursive = await names(true);
    const tooMany = await rejectionOf(
      ssm.send(new GetParametersByPathCommand({ Path: '/amicleaner', MaxResults: 11 })),
    );

    // Assess
    expect(direct.map((page) => page.length)).toEqual([10, 2]);
    expect(direct.flat()).not.toContain('/amicleaner/team/web');
    expect(recursive.flat()).toHaveLength(13);
    expect(recursive.flat()).toContain('/amicleaner/team/web');
    expect(recursive.flat()).not.toContain('/amicleanerx/other');
    expect(tooMany.name).toBe('ValidationException');
  });

  it('reports AMI ids with the aws:ec2:image data type', async () => {
    // Prepare
    const account = new SimulatedAccount();
    account.putParameter('/amicleaner/golden-ami', 'ami-0123456789abcdef0');
    const { ssm } = clientsFor(account);

    // Act
    const { Parameters } = await ssm.send(new GetParametersByPathCommand({ Path: '/amicleaner/' }));

    // Assess
    expect(Parameters).toEqual([
      expect.objectContaining({
        Name: '/amicleaner/golden-ami',
        Value: 'ami-0123456789abcdef0',
        DataType: 'aws:ec2:image',
      }),
    ]);
  });
});

describe('S3', () => {
  it('round-trips an object whose Body the SDK reads with transformToString', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { s3 } = clientsFor(account);

    // Act
    await s3.send(
      new PutObjectCommand({
        Bucket: 'ws',
        Key: 'runs/1/plan.json',
        Body: '{"ok":true}',
        ContentType: 'application/json',
      }),
    );
    const output = await s3.send(new GetObjectCommand({ Bucket: 'ws', Key: 'runs/1/plan.json' }));
    const text = await output.Body?.transformToString();
    const missing = await rejectionOf(
      s3.send(new GetObjectCommand({ Bucket: 'ws', Key: 'runs/2/plan.json' })),
    );

    // Assess
    expect(text).toBe('{"ok":true}');
    expect(output.ContentType).toBe('application/json');
    expect(account.readObject('ws', 'runs/1/plan.json')).toBe('{"ok":true}');
    expect(missing).toBeInstanceOf(NoSuchKey);
    expect(missing.$metadata).toMatchObject({ httpStatusCode: 404 });
    expect(account.calls.find((call) => call.command === 'PutObject')?.input.Body).toBe('[body]');
  });
});

describe('SNS', () => {
  it('records each published message for tests to read', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { sns } = clientsFor(account);
    const topicArn = 'arn:aws:sns:eu-west-1:123456789012:approvals';

    // Act
    const output = await sns.send(
      new PublishCommand({ TopicArn: topicArn, Subject: 'Approve', Message: 'link' }),
    );

    // Assess
    expect(output.MessageId).toBeTruthy();
    expect(account.sentEmails).toEqual([
      expect.objectContaining({ messageId: output.MessageId, topicArn, subject: 'Approve', message: 'link' }),
    ]);
  });
});

describe('Step Functions task tokens', () => {
  it('resolves a waiter with the output sent by SendTaskSuccess, once', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { sfn } = clientsFor(account);
    const token = account.taskTokens.issue();
    const waiting = account.taskTokens.wait(token);

    // Act
    await sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"decision":"APPROVE"}' }));
    const output = await waiting;
    const again = await rejectionOf(sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })));

    // Assess
    expect(output).toEqual({ decision: 'APPROVE' });
    expect(account.taskTokens.status(token)).toBe('SUCCEEDED');
    expect(again).toBeInstanceOf(TaskTimedOut);
    expect(account.calls[0]?.input.taskToken).toBe('[task token]');
  });

  it('rejects a waiter with the error of SendTaskFailure, and refuses unknown tokens', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { sfn } = clientsFor(account);
    const token = account.taskTokens.issue();

    // Act
    await sfn.send(new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: 'not now' }));
    const failure = await rejectionOf(account.taskTokens.wait(token));
    const unknown = await rejectionOf(
      sfn.send(new SendTaskSuccessCommand({ taskToken: 'AQCforged', output: '{}' })),
    );

    // Assess
    expect(failure).toBeInstanceOf(TaskFailedError);
    expect(failure).toMatchObject({ name: 'Rejected', message: 'not now' });
    expect(unknown).toBeInstanceOf(InvalidToken);
  });

  it('fails a waiter with States.Timeout when the token expires', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const token = account.taskTokens.issue();

    // Act
    account.taskTokens.expire(token);
    const failure = await rejectionOf(account.taskTokens.wait(token));

    // Assess
    expect(failure.name).toBe('States.Timeout');
    expect(account.taskTokens.status(token)).toBe('TIMED_OUT');
  });
});

describe('Secrets Manager', () => {
  it('returns a secret string by name or ARN, and ResourceNotFoundException otherwise', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const secret = account.putSecret('amicleaner/approval-signing', 'k3y');
    const { secretsManager } = clientsFor(account);

    // Act
    const byName = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: 'amicleaner/approval-signing' }),
    );
    const byArn = await secretsManager.send(new GetSecretValueCommand({ SecretId: secret.arn }));
    const missing = await rejectionOf(secretsManager.send(new GetSecretValueCommand({ SecretId: 'nope' })));

    // Assess
    expect(byName.SecretString).toBe('k3y');
    expect(byArn.Name).toBe('amicleaner/approval-signing');
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
  });

  it('stages the replaced value AWSPREVIOUS on a rotation, and has no AWSPREVIOUS before one', async () => {
    // Prepare
    const account = new SimulatedAccount();
    account.putSecret('amicleaner/approval-signing', 'k3y');
    const { secretsManager } = clientsFor(account);
    const previous = () =>
      secretsManager.send(
        new GetSecretValueCommand({ SecretId: 'amicleaner/approval-signing', VersionStage: 'AWSPREVIOUS' }),
      );

    // Act
    const beforeRotation = await rejectionOf(previous());
    account.rotateSecret('amicleaner/approval-signing', 'n3w');
    const current = await secretsManager.send(
      new GetSecretValueCommand({ SecretId: 'amicleaner/approval-signing' }),
    );
    const afterRotation = await previous();
    account.putSecret('amicleaner/approval-signing', 'fr3sh');
    const afterReplace = await rejectionOf(previous());

    // Assess
    expect(beforeRotation).toBeInstanceOf(ResourceNotFoundException);
    expect(current.SecretString).toBe('n3w');
    expect(afterRotation.SecretString).toBe('k3y');
    expect(afterRotation.VersionStages).toEqual(['AWSPREVIOUS']);
    expect(afterReplace).toBeInstanceOf(ResourceNotFoundException);
  });
});
