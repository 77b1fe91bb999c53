/** The run's storage: the audit ledger (kept forever) and the run workspace (transient). */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { acknowledge } from './nag.ts';

/**
 * GSI names and keys, as `ledgerTableDefinition` in functions/adapters/ledger/table.ts declares them for
 * the local table (a test keeps the two equal).
 */
export const LEDGER_INDEXES = {
  /** Every ledger item about one AMI, across runs, in the order they were recorded. */
  byImage: { indexName: 'by-image', partitionKey: 'imageId', sortKey: 'recordedAt' },
  /** Runs in start order: run items carry `entity = "RUN"` and `startedAt` (ISO 8601). */
  runsByStart: { indexName: 'runs-by-start', partitionKey: 'entity', sortKey: 'startedAt' },
} as const;

/** Workspace objects live under this prefix and expire after WORKSPACE_EXPIRY. */
export const WORKSPACE_PREFIX = 'runs/';
export const WORKSPACE_EXPIRY = Duration.days(30);

export function createLedgerTable(scope: Construct): dynamodb.Table {
  const string = dynamodb.AttributeType.STRING;
  const table = new dynamodb.Table(scope, 'Ledger', {
    partitionKey: { name: 'pk', type: string },
    sortKey: { name: 'sk', type: string },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    timeToLiveAttribute: 'ttl',
    // The ledger is the audit trail; it outlives executions (90 days) and the stack.
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
  });
  table.addGlobalSecondaryIndex({
    indexName: LEDGER_INDEXES.byImage.indexName,
    partitionKey: { name: LEDGER_INDEXES.byImage.partitionKey, type: string },
    sortKey: { name: LEDGER_INDEXES.byImage.sortKey, type: string },
  });
  table.addGlobalSecondaryIndex({
    indexName: LEDGER_INDEXES.runsByStart.indexName,
    partitionKey: { name: LEDGER_INDEXES.runsByStart.partitionKey, type: string },
    sortKey: { name: LEDGER_INDEXES.runsByStart.sortKey, type: string },
  });
  return table;
}

export function createWorkspaceBucket(scope: Construct): s3.Bucket {
  const bucket = new s3.Bucket(scope, 'Workspace', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    autoDeleteObjects: false,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [
      {
        id: 'expire-run-workspaces',
        prefix: WORKSPACE_PREFIX,
        expiration: WORKSPACE_EXPIRY,
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
  });
  acknowledge(
    bucket,
    'Transient per-run working files written only by this workflow; the DynamoDB ledger and CloudTrail are the audit trail.',
    'AwsSolutions-S1',
  );
  return bucket;
}
