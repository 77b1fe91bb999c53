import { DescribeImagesCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clientConfig, createAwsClients, DEFAULT_MAX_ATTEMPTS } from '../../functions/adapters/clients.ts';

/** Sends one request and returns where it would have gone, without any network. */
async function capturedRequestUrl(client: EC2Client): Promise<string> {
  let url = '';
  client.middlewareStack.add(
    () => async (args) => {
      const request = args.request as { protocol: string; hostname: string; port?: number };
      url = `${request.protocol}//${request.hostname}${request.port ? `:${request.port}` : ''}`;
      throw Object.assign(new Error('request captured'), { name: 'CapturedError' });
    },
    { step: 'deserialize', name: 'captureRequest' },
  );
  await expect(client.send(new DescribeImagesCommand({}))).rejects.toThrow('request captured');
  return url;
}

describe('clientConfig', () => {
  it('sets adaptive retries and leaves region, endpoint and credentials to the SDK chain', () => {
    // Act
    const config = clientConfig();

    // Assess
    expect(config).toEqual({ retryMode: 'adaptive', maxAttempts: DEFAULT_MAX_ATTEMPTS });
    expect(DEFAULT_MAX_ATTEMPTS).toBe(5);
    // An explicit `undefined` key would shadow AWS_REGION / AWS_ENDPOINT_URL.
    expect(Object.keys(config)).not.toContain('region');
    expect(Object.keys(config)).not.toContain('endpoint');
    expect(Object.keys(config)).not.toContain('credentials');
  });

  it('passes what the caller gives', () => {
    // Prepare
    const credentials = { accessKeyId: 'AKIDGIVEN', secretAccessKey: 'secret' };

    // Act
    const config = clientConfig({
      region: 'us-east-2',
      endpoint: 'http://localhost:4566',
      credentials,
      maxAttempts: 3,
    });

    // Assess
    expect(config).toEqual({
      region: 'us-east-2',
      endpoint: 'http://localhost:4566',
      credentials,
      retryMode: 'adaptive',
      maxAttempts: 3,
    });
  });
});

describe('createAwsClients', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('builds EC2, Auto Scaling and SSM clients with adaptive retries and 5 attempts', async () => {
    // Act
    const clients = createAwsClients({ region: 'eu-west-3' });

    // Assess
    for (const client of [clients.ec2, clients.autoScaling, clients.ssm]) {
      expect(await client.config.region()).toBe('eu-west-3');
      expect(await client.config.maxAttempts()).toBe(5);
      expect(await client.config.retryStrategy()).toMatchObject({ mode: 'adaptive' });
    }
  });

  it('takes the region from AWS_REGION when none is given', async () => {
    // Prepare
    vi.stubEnv('AWS_REGION', 'ap-southeast-2');

    // Act
    const { ec2, ssm } = createAwsClients();

    // Assess
    expect(await ec2.config.region()).toBe('ap-southeast-2');
    expect(await ssm.config.region()).toBe('ap-southeast-2');
  });

  it('honours AWS_ENDPOINT_URL when no endpoint is given', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:4566');

    // Act
    const { ec2 } = createAwsClients({ region: 'eu-west-1' });

    // Assess
    expect(await capturedRequestUrl(ec2)).toBe('http://127.0.0.1:4566');
  });

  it('lets an explicit endpoint win over AWS_ENDPOINT_URL', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL', 'http://127.0.0.1:4566');

    // Act
    const { ec2 } = createAwsClients({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9999' });

    // Assess
    expect(await capturedRequestUrl(ec2)).toBe('http://127.0.0.1:9999');
  });
});
