/**
 * The embedded ledger listens on loopback, where every local user can connect. It must answer
 * only this process's own client: another key, no key, or the old fixed key gets 403 and
 * nothing from the table; and the key never shows up in what the CLI prints.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { demoEnvironment } from '../../cli/environment.ts';
import { bufferIo } from '../../cli/io.ts';
import { describeLocation, localLedgerPath, openLedger } from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';

const started: LocalLedger[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((local) => local.stop()));
});

async function ledger(options: { path?: string } = {}): Promise<LocalLedger> {
  const local = await startLocalLedger(options);
  started.push(local);
  return local;
}

function clientWith(endpoint: string, accessKeyId: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'local',
    maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey: 'guessed' },
  });
}

/** A plain HTTP POST, as any local process could send it, without the SDK. */
function rawRequest(
  endpoint: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      endpoint,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.Scan',
          ...headers,
        },
      },
      (res) => {
        let body = '';
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ TableName: 'ami-cleaner-ledger' }));
  });
}

describe('the embedded ledger answers only its own process', () => {
  it("lets the CLI's own client read and write", async () => {
    // Prepare
    const local = await ledger();

    // Act
    const tables = await local.client.send(new ListTablesCommand({}));
    const runs = await local.ledger.listRuns();

    // Assess
    expect(tables.TableNames).toEqual([local.tableName]);
    expect(runs).toEqual([]);
  });

  it.each([
    ['another key', 'AKIDSOMEONEELSE'],
    ['the fixed key of earlier versions', 'AKIDLOCAL'],
    ['a key one character off', undefined],
  ])('refuses a signed request with %s: 403, nothing read', async (_, key) => {
    // Prepare
    const local = await ledger();
    const own = local.credentials.accessKeyId;
    const other = key ?? `${own.slice(0, -1)}${own.endsWith('A') ? 'B' : 'A'}`;
    const client = clientWith(local.endpoint, other);

    // Act
    const error = await client.send(new ScanCommand({ TableName: local.tableName })).catch((e: unknown) => e);
    client.destroy();

    // Assess
    expect(error).toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
  });

  it.each([
    ['no Authorization header', {}],
    ['a header that is not SigV4', { authorization: 'Bearer anything' }],
  ])('refuses an unsigned request with %s', async (_, headers) => {
    // Prepare
    const local = await ledger();
    await local.ledger.listRuns();

    // Act
    const answer = await rawRequest(local.endpoint, headers);

    // Assess
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('UnrecognizedClientException');
    expect(answer.body).not.toContain('Items');
  });

  it('makes a new key for every process (every start)', async () => {
    // Act
    const [a, b] = [await ledger(), await ledger()];

    // Assess
    expect(a.credentials.accessKeyId).not.toBe(b.credentials.accessKeyId);
    expect(a.credentials.secretAccessKey).not.toBe(b.credentials.secretAccessKey);
    const crossed = clientWith(a.endpoint, b.credentials.accessKeyId);
    await expect(crossed.send(new ListTablesCommand({}))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    crossed.destroy();
  });

  it('keeps the persistent store private to its owner (0700)', async () => {
    // Prepare
    const cwd = mkdtempSync(join(tmpdir(), 'amicleaner-private-'));
    try {
      // Act
      const opened = await openLedger({ cwd });
      await opened.close();

      // Assess
      expect(statSync(localLedgerPath(cwd)).mode & 0o777).toBe(0o700);
      expect(statSync(join(cwd, '.amicleaner')).mode & 0o077).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('never prints its key: a whole demo run, in text and in JSON', async () => {
    // Prepare
    let local: LocalLedger | undefined;
    const deps = {
      awsEnvironment: () => Promise.reject(new Error('the demo never reads a real account')),
      demoEnvironment,
      openLedger: async () => {
        local = await ledger();
        const location = { type: 'local' as const, path: 'memory' };
        return { ledger: local.ledger, location, where: describeLocation(location), close: async () => {} };
      },
    };

    for (const args of [
      ['demo', '--yes'],
      ['demo', '--yes', '--json'],
    ]) {
      // Act
      const io = bufferIo();
      const code = await main(args, io, deps);

      // Assess
      expect(code).toBe(0);
      const printed = io.stdout() + io.stderr();
      expect(printed.length).toBeGreaterThan(0);
      expect(printed).not.toContain(local?.credentials.accessKeyId);
      expect(printed).not.toContain(local?.credentials.secretAccessKey);
    }
  });
});
