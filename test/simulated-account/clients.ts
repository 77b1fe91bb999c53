import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { SimulatedAccount } from '../../cli/simulated-account/index.ts';

/** Real SDK clients, configured as a caller would, attached to the simulated account. */
export function clientsFor(account: SimulatedAccount) {
  const config = { credentials: { accessKeyId: 'x', secretAccessKey: 'y' }, region: 'eu-west-1' };
  return {
    ec2: account.attach(new EC2Client(config)),
    autoScaling: account.attach(new AutoScalingClient(config)),
    ssm: account.attach(new SSMClient(config)),
    imageBuilder: account.attach(new ImagebuilderClient(config)),
    s3: account.attach(new S3Client(config)),
    sns: account.attach(new SNSClient(config)),
    sfn: account.attach(new SFNClient(config)),
    secretsManager: account.attach(new SecretsManagerClient(config)),
  };
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('Expected the promise to reject');
}
