/**
 * AWS SDK v3 client factories. Create clients once per module (cold start), never per request.
 *
 * Only what the caller gives is set: region, endpoint and credentials left out are resolved by the
 * SDK's own chain (AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, ...), so
 * the same code talks to AWS, to a compatible endpoint, or to the simulated account.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client, type EC2ClientConfig } from '@aws-sdk/client-ec2';
import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';
import { SSMClient } from '@aws-sdk/client-ssm';

/** Credentials as every SDK v3 client accepts them (static identity or provider). */
export type AwsCredentials = EC2ClientConfig['credentials'];

export interface AwsClientOptions {
  /** Defaults to the SDK chain (AWS_REGION, profile). */
  readonly region?: string;
  /** Defaults to the SDK chain (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>). */
  readonly endpoint?: string;
  /** Defaults to the SDK's default credential provider chain. */
  readonly credentials?: AwsCredentials;
  /** Defaults to {@link DEFAULT_MAX_ATTEMPTS}. */
  readonly maxAttempts?: number;
}

/** Shared config every client in this project is built from. */
export interface AwsClientConfig {
  readonly region?: string;
  readonly endpoint?: string;
  readonly credentials?: AwsCredentials;
  readonly retryMode: 'adaptive';
  readonly maxAttempts: number;
}

export interface AwsClients {
  readonly ec2: EC2Client;
  readonly autoScaling: AutoScalingClient;
  readonly ssm: SSMClient;
  /** Image and container recipes, an in-use source. */
  readonly imageBuilder: ImagebuilderClient;
}

/**
 * Five attempts with adaptive retries: the client-side rate limiter backs off on throttling, so a
 * burst against the EC2 token buckets slows down instead of failing; what still fails after that
 * is surfaced as `TransientAwsError` for the state machine's own Retry.
 */
export const DEFAULT_MAX_ATTEMPTS = 5;

export function clientConfig(options: AwsClientOptions = {}): AwsClientConfig {
  // Keys are added only when given: an explicit `undefined` must not shadow the SDK's defaults.
  return {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
}

export function createEc2Client(options: AwsClientOptions = {}): EC2Client {
  return new EC2Client(clientConfig(options));
}

export function createAutoScalingClient(options: AwsClientOptions = {}): AutoScalingClient {
  return new AutoScalingClient(clientConfig(options));
}

export function createSsmClient(options: AwsClientOptions = {}): SSMClient {
  return new SSMClient(clientConfig(options));
}

export function createImageBuilderClient(options: AwsClientOptions = {}): ImagebuilderClient {
  return new ImagebuilderClient(clientConfig(options));
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  return {
    ec2: createEc2Client(options),
    autoScaling: createAutoScalingClient(options),
    ssm: createSsmClient(options),
    imageBuilder: createImageBuilderClient(options),
  };
}
