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
import { assertAccountId } from '../core/target.ts';
import { getStringFromEnv } from './env.ts';
import {
  type MemberClientsFor,
  memberClientsFactory,
  memberRoleNameFromEnv,
  type TargetClientsDeps,
} from './target-clients.ts';

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

/** HUB_ACCOUNT_ID when set (12 digits, else cold start fails); absent: runs take it from their execution ARN. */
export const hubAccountIdFromEnv: () => string | undefined = lazy(() => {
  const value = process.env.HUB_ACCOUNT_ID;
  return value === undefined || value === '' ? undefined : assertAccountId(value);
});

/** Member-role clients per target and run (role MEMBER_ROLE_NAME, STS in the function's region). */
export const memberClientsFromEnv: () => MemberClientsFor = lazy(() =>
  memberClientsFactory({ hubRegion: regionFromEnv(), roleName: memberRoleNameFromEnv() }),
);

/** What a handler that acts in a run's target needs, from the Lambda environment. */
export function targetClientsFromEnv(): TargetClientsDeps {
  const hubAccountId = hubAccountIdFromEnv();
  return {
    clients: awsClients(),
    region: regionFromEnv(),
    ...(hubAccountId === undefined ? {} : { hubAccountId }),
    memberClientsFor: memberClientsFromEnv(),
  };
}
