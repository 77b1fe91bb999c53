/**
 * Default collaborators for the Lambda entry points, built from the environment on first use and
 * cached at module level, so each container creates its SDK clients once and reuses them across
 * invocations. Tests and the local runner never come here: they call `create…Handler(deps)`.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type AwsClients, clientConfig, createAwsClients } from '../adapters/clients.ts';
import { Ledger } from '../adapters/ledger/index.ts';
import { type RunWorkspace, S3Workspace } from '../adapters/workspace.ts';
import { getStringFromEnv } from './env.ts';

/** `make()` once, on first call; a failure is not cached, so the next invocation tries again. */
export function lazy<T>(make: () => T): () => T {
  let made: { readonly value: T } | undefined;
  return () => {
    made ??= { value: make() };
    return made.value;
  };
}

/** A Lambda entry point whose handler (and so its deps and env reads) is built on the first event. */
export function lazyHandler<E, R>(build: () => (event: E) => Promise<R>): (event: E) => Promise<R> {
  const get = lazy(build);
  return (event) => get()(event);
}

/** EC2, Auto Scaling and SSM with adaptive retries; region and credentials from the Lambda environment. */
export const awsClients: () => AwsClients = lazy(() => createAwsClients());

export const ledgerFromEnv: () => Ledger = lazy(() => {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig()), {
    marshallOptions: { removeUndefinedValues: true },
  });
  return new Ledger({ doc, tableName: getStringFromEnv('LEDGER_TABLE_NAME') });
});

export const workspaceFromEnv: () => RunWorkspace = lazy(
  () =>
    new S3Workspace({ s3: new S3Client(clientConfig()), bucket: getStringFromEnv('WORKSPACE_BUCKET_NAME') }),
);

export const sfnClient: () => SFNClient = lazy(() => new SFNClient(clientConfig()));

/** The region the run works on: the function's own (Lambda sets AWS_REGION). */
export const regionFromEnv: () => string = lazy(() => getStringFromEnv('AWS_REGION'));
