import {
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../cli/simulated-account/index.ts';
import { clientsFor, rejectionOf } from './clients.ts';

function accountWithImages(count: number): SimulatedAccount {
  const account = new SimulatedAccount();
  for (let i = 0; i < count; i++) {
    account.addImage({ name: `img-${i}`, creationDate: new Date(Date.UTC(2020, 0, 1 + i)) });
  }
  return account;
}

describe('attach', () => {
  it('places the account after retry and signing and before the deserializer', () => {
    // Prepare
    const account = new SimulatedAccount();
    const client = new EC2Client({
      region: 'eu-west-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });

    // Act
    account.attach(client);
    account.attach(client); // a second attach replaces, never duplicates
    const order = client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);

    // Assess
    expect(order.filter((name) => name === 'simulatedAccount')).toHaveLength(1);
    const at = (name: string) => order.indexOf(name);
    expect(at('retryMiddleware')).toBeGreaterThanOrEqual(0);
    expect(at('simulatedAccount')).toBeGreaterThan(at('retryMiddleware'));
    expect(at('simulatedAccount')).toBeGreaterThan(at('httpSigningMiddleware'));
    expect(at('simulatedAccount')).toBeLessThan(at('deserializerMiddleware'));
  });

  it('answers without credentials from the caller, so no credential provider reaches the network', async () => {
    // Prepare
    const account = accountWithImages(1);
    const client = new EC2Client({
      region: 'eu-west-1',
      credentials: () => Promise.reject(new Error('the default chain would probe IMDS here')),
    });
    account.attach(client);

    // Act
    const output = await client.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(output.Images).toHaveLength(1);
    expect(output.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses a command it does not simulate with a named UnsupportedOperation error', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { ec2 } = clientsFor(account);

    // Act
    const error = await rejectionOf(
      ec2.send(new CreateImageCommand({ InstanceId: 'i-0123456789abcdef0', Name: 'x' })),
    );

    // Assess
    expect(error).toBeInstanceOf(EC2ServiceException);
    expect(error.name).toBe('UnsupportedOperation');
    expect(error.message).toContain('EC2 CreateImage');
  });
});

describe('retries and injected failures', () => {
  it('lets the SDK retry a simulated RequestLimitExceeded as throttling until it succeeds', async () => {
    // Prepare
    const account = accountWithImages(3);
    const { ec2 } = clientsFor(account);
    account.failNext('DescribeImages', 'RequestLimitExceeded', 2);

    // Act
    const output = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(output.Images).toHaveLength(3);
    expect(output.$metadata.attempts).toBe(3);
    expect(output.$metadata.totalRetryDelay).toBeGreaterThan(0);
    expect(account.callsTo('DescribeImages').map((call) => call.error)).toEqual([
      'RequestLimitExceeded',
      'RequestLimitExceeded',
      undefined,
    ]);
  });

  it('gives up after the SDK maximum attempts with the throttling error', async () => {
    // Prepare
    const account = accountWithImages(1);
    const ec2 = account.attach(
      new EC2Client({
        region: 'eu-west-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        maxAttempts: 2,
      }),
    );
    account.failNext('DescribeImages', 'RequestLimitExceeded', 5);

    // Act
    const error = await rejectionOf(ec2.send(new DescribeImagesCommand({})));

    // Assess
    expect(error.name).toBe('RequestLimitExceeded');
    expect(error.$metadata).toMatchObject({ httpStatusCode: 503, attempts: 2 });
    expect(account.callsTo('DescribeImages')).toHaveLength(2);
  });

  it('does not retry an access error, and only fails the command it was injected for', async () => {
    // Prepare
    const account = accountWithImages(1);
    const { ec2 } = clientsFor(account);
    account.failNext('DescribeSnapshots', 'UnauthorizedOperation');

    // Act
    const images = await ec2.send(new DescribeImagesCommand({}));
    const error = await rejectionOf(ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] })));
    const retried = await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }));

    // Assess
    expect(images.Images).toHaveLength(1);
    expect(error).toMatchObject({ name: 'UnauthorizedOperation', $fault: 'client' });
    expect(error.$metadata).toMatchObject({ httpStatusCode: 403, attempts: 1 });
    expect(retried.Snapshots).toHaveLength(1);
  });

  it('throttles with a token bucket when a rate limit is set', async () => {
    // Prepare
    const account = accountWithImages(1);
    const ec2 = account.attach(
      new EC2Client({
        region: 'eu-west-1',
        credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
        maxAttempts: 1,
      }),
    );
    account.setRateLimit('DescribeImages', { capacity: 2, refillPerSecond: 0.001 });

    // Act
    await ec2.send(new DescribeImagesCommand({}));
    await ec2.send(new DescribeImagesCommand({}));
    const error = await rejectionOf(ec2.send(new DescribeImagesCommand({})));

    // Assess
    expect(error.name).toBe('RequestLimitExceeded');
  });
});

describe('call log', () => {
  it('records every call with its input and classifies mutating commands', async () => {
    // Prepare
    const account = accountWithImages(2);
    const { ec2 } = clientsFor(account);

    // Act
    await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(account.calls).toEqual([
      { service: 'EC2', command: 'DescribeImages', input: { Owners: ['self'] } },
    ]);
    expect(account.mutatingCalls()).toEqual([]);
    expect(account.isMutating('DescribeImages')).toBe(false);
    expect(account.isMutating('GetParametersByPath')).toBe(false);
    expect(account.isMutating('DeregisterImage')).toBe(true);
    expect(account.isMutating('DeleteSnapshot')).toBe(true);
    expect(account.isMutating('SendTaskSuccess')).toBe(true);
  });
});
