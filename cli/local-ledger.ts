/**
 * The ledger where the CLI keeps it when no DynamoDB table is named: dynalite (a DynamoDB-
 * compatible server written in Node) in-process on a loopback port, in memory for demos and
 * tests, or persisted under `.amicleaner/` so `amicleaner history` works after a run. The table
 * is created from the same definition the CDK construct deploys.
 *
 * Loopback is open to every user of the machine, and the ledger holds task tokens and the plan,
 * so the server answers only requests signed with an access key made for this process (see
 * {@link requireAccessKey}); the store's directory is private to its owner (0700).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
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
  /**
   * The only credentials the server accepts, made for this process. For clients in this process
   * (tests that build their own); never print or log them.
   */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  stop(): Promise<void>;
}

/** Starts dynalite; with `path`, data persists in LevelDB files there. */
export async function startLocalLedger(options: { path?: string } = {}): Promise<LocalLedger> {
  if (options.path) {
    mkdirSync(options.path, { recursive: true, mode: 0o700 });
    // A store made before this check, or under a loose umask: LevelDB files hold task tokens.
    chmodSync(options.path, 0o700);
  }
  const credentials = {
    accessKeyId: `AKIDLOCAL${randomBytes(12).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(32).toString('base64url'),
  };
  const server = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(options.path ? { path: options.path } : {}),
  });
  requireAccessKey(server, credentials.accessKeyId);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: 'local',
    credentials,
  });
  const docClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  await ensureTable(client, LOCAL_TABLE_NAME);
  return {
    ledger: new Ledger({ doc: docClient, tableName: LOCAL_TABLE_NAME }),
    endpoint,
    client,
    docClient,
    tableName: LOCAL_TABLE_NAME,
    credentials,
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

/**
 * Puts a check in front of dynalite's request handler: the SigV4 `Authorization` header must
 * name `accessKeyId`, else 403 and dynalite never sees the request. The key id is random per
 * process and never leaves it, so another local user cannot read or rewrite the ledger.
 * (The signature itself is not verified: reading the key id off loopback already takes root.)
 */
export function requireAccessKey(server: Server, accessKeyId: string): void {
  const handlers = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  const expected = Buffer.from(accessKeyId);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const presented = Buffer.from(presentedAccessKey(request.headers.authorization) ?? '');
    if (presented.length === expected.length && timingSafeEqual(presented, expected)) {
      for (const handler of handlers) handler.call(server, request, response);
      return;
    }
    // Drain the body so the client reads the answer instead of a reset connection.
    request.resume();
    response.writeHead(403, { 'content-type': 'application/x-amz-json-1.0' });
    response.end(
      JSON.stringify({
        __type: 'com.amazonaws.dynamodb.v20120810#UnrecognizedClientException',
        message: 'The security token included in the request is invalid.',
      }),
    );
  });
}

/** `AWS4-HMAC-SHA256 Credential=<key id>/<date>/<region>/<service>/aws4_request, ...` */
function presentedAccessKey(authorization: string | undefined): string | undefined {
  return /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];
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
