/**
 * A real DynamoDB-compatible server (dynalite) in-process, with the ledger table created from the
 * same definition the infra uses. Each call gets its own server, so tests never share state.
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { ledgerTableDefinition } from '../../functions/adapters/ledger.ts';

export interface LocalDynamo {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly docClient: DynamoDBDocumentClient;
  readonly tableName: string;
  stop(): Promise<void>;
}

export async function startDynalite(tableName = 'ami-cleaner-ledger'): Promise<LocalDynamo> {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' },
  });
  const docClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await client.send(new CreateTableCommand(ledgerTableDefinition(tableName)));
  return {
    endpoint,
    client,
    docClient,
    tableName,
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
