/**
 * The ledger where the CLI keeps it when no DynamoDB table is named: dynalite (a DynamoDB-
 * compatible server written in Node) in-process on a loopback port, in memory for demos and
 * tests, or persisted under `.amicleaner/` so `amicleaner history` works after a run. The table
 * is created from the same definition the CDK construct deploys.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ResourceNotFoundException,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { Ledger, ledgerTableDefinition } from '../functions/adapters/ledger/index.ts';

export const LOCAL_TABLE_NAME = 'ami-cleaner-ledger';

export interface LocalLedger {
  readonly ledger: Ledger;
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly docClient: DynamoDBDocumentClient;
  readonly tableName: string;
  stop(): Promise<void>;
}

/** Starts dynalite; with `path`, data persists in LevelDB files there. */
export async function startLocalLedger(options: { path?: string } = {}): Promise<LocalLedger> {
  if (options.path) mkdirSync(options.path, { recursive: true });
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    // dynalite checks no signature; fixed fake keys keep the SDK from searching for real ones.
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
  });
  const docClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await ensureTable(client, LOCAL_TABLE_NAME);
  return {
    ledger: new Ledger({ doc: docClient, tableName: LOCAL_TABLE_NAME }),
    endpoint,
    client,
    docClient,
    tableName: LOCAL_TABLE_NAME,
    async stop() {
      client.destroy();
      // The SDK keeps connections alive; dynalite's graceful close would wait for them.
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    },
  };
}

async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
    await client.send(new CreateTableCommand(ledgerTableDefinition(tableName)));
    // dynalite, like DynamoDB, creates the table asynchronously; writes before ACTIVE fail.
    await waitUntilTableExists(
      { client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 },
      { TableName: tableName },
    );
  }
}
