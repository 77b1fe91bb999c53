/**
 * Where the CLI's ledger lives, shared by `history` and `run`: the DynamoDB table named by
 * `--ledger-table` (reached through the SDK's standard configuration: region, profile,
 * AWS_ENDPOINT_URL), or else the persistent local store under `<cwd>/.amicleaner/`.
 */
import { closeSync, existsSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Ledger } from '../functions/adapters/ledger/index.ts';
import { LedgerUnavailableError, ledgerUnavailable } from './errors.ts';
import { type LocalLedger, startLocalLedger } from './local-ledger.ts';

/** The directory, under the working directory, that holds the local store. */
export const LOCAL_STORE_DIR = '.amicleaner';

export interface LedgerLocationOptions {
  /** DynamoDB table; when absent, the local store under `<cwd>/.amicleaner/`. */
  readonly tableName?: string | undefined;
  /** DynamoDB only; defaults to the SDK configuration (AWS_REGION, profile). */
  readonly region?: string | undefined;
  /** Local store only; defaults to `process.cwd()`. */
  readonly cwd?: string | undefined;
  /**
   * Local store only. `false` (readers such as `history`) opens a missing store as an empty one
   * without creating `.amicleaner/`, so looking does not leave files behind. Default `true`.
   */
  readonly create?: boolean | undefined;
}

export type LedgerLocation =
  | { readonly type: 'local'; readonly path: string }
  | {
      readonly type: 'dynamodb';
      readonly tableName: string;
      readonly region: string;
      readonly endpoint?: string;
    };

export interface OpenedLedger {
  readonly ledger: Ledger;
  readonly location: LedgerLocation;
  /** For messages: `local store /x/.amicleaner/ledger` or `DynamoDB table t (eu-west-1)`. */
  readonly where: string;
  /** Stops the local store or destroys the DynamoDB client. Safe to call twice. */
  close(): Promise<void>;
}

/** `<cwd>/.amicleaner/ledger`: dynalite's LevelDB files. */
export function localLedgerPath(cwd: string = process.cwd()): string {
  return join(cwd, LOCAL_STORE_DIR, 'ledger');
}

export function describeLocation(location: LedgerLocation): string {
  if (location.type === 'local') return `local store ${location.path}`;
  const at = location.endpoint ? ` at ${location.endpoint}` : '';
  return `DynamoDB table ${location.tableName} (${location.region}${at})`;
}

export { ledgerUnavailable } from './errors.ts';

export async function openLedger(options: LedgerLocationOptions = {}): Promise<OpenedLedger> {
  return options.tableName === undefined
    ? openLocal(options)
    : openDynamoDb(options.tableName, options.region);
}

// ---------------------------------------------------------------------------------------------

async function openDynamoDb(tableName: string, region: string | undefined): Promise<OpenedLedger> {
  if (tableName.trim() === '') throw new LedgerUnavailableError('--ledger-table needs a table name');
  const client = new DynamoDBClient({
    ...(region === undefined ? {} : { region }),
    // A CLI should answer, not hang: a blackholed endpoint fails in seconds; the standard retry
    // still covers a transient refusal.
    maxAttempts: 3,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
  });
  let resolvedRegion: string | undefined;
  try {
    resolvedRegion = await client.config.region();
  } catch {
    resolvedRegion = undefined;
  }
  if (!resolvedRegion) {
    client.destroy();
    throw new LedgerUnavailableError('no AWS region for --ledger-table: pass --region or set AWS_REGION');
  }
  // Shown in messages only; the SDK resolves the endpoint itself from the same variables.
  const endpoint = process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL;
  const location: LedgerLocation = {
    type: 'dynamodb',
    tableName,
    region: resolvedRegion,
    ...(endpoint ? { endpoint } : {}),
  };
  const doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let closed = false;
  return {
    ledger: new Ledger({ doc, tableName }),
    location,
    where: describeLocation(location),
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
    },
  };
}

async function openLocal(options: LedgerLocationOptions): Promise<OpenedLedger> {
  const path = localLedgerPath(options.cwd);
  const location: LedgerLocation = { type: 'local', path };
  const where = describeLocation(location);
  const exists = existsSync(path);
  if (!exists && options.create === false) {
    // Nothing recorded here yet: an empty in-memory store answers like the real one would.
    return wrapLocal(await startEmpty(where), location, () => {});
  }
  if (!exists) await prepareStoreDir(join(path, '..'));
  const release = takeStoreLock(`${path}.lock`, where);
  try {
    const local = await startLocalLedger({ path });
    return wrapLocal(local, location, release);
  } catch (error) {
    release();
    throw ledgerUnavailable(error, where);
  }
}

async function startEmpty(where: string): Promise<LocalLedger> {
  try {
    return await startLocalLedger();
  } catch (error) {
    throw ledgerUnavailable(error, where);
  }
}

function wrapLocal(local: LocalLedger, location: LedgerLocation, release: () => void): OpenedLedger {
  let closed = false;
  return {
    ledger: local.ledger,
    location,
    where: describeLocation(location),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await local.stop();
      } finally {
        release();
      }
    },
  };
}

/** Creates `.amicleaner/` with a `.gitignore`, so the store is never committed by accident. */
async function prepareStoreDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ignore = join(dir, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# amicleaner local ledger; not for version control\n*\n');
}

/**
 * LevelDB allows one process per store, and dynalite turns a second opener's failure into an
 * uncaught exception at its first request. A pid lock file lets the second process say so in
 * one line instead (e.g. `history` while `run` waits for its y/N answer). A lock whose process is
 * gone is stale and taken over.
 */
function takeStoreLock(lockPath: string, where: string): () => void {
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeFileSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(lockPath, 'utf8') === String(process.pid)) unlinkSync(lockPath);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw ledgerUnavailable(error, where);
    }
    const holder = Number.parseInt(readLock(lockPath), 10);
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      const who = holder === process.pid ? 'this process' : `another amicleaner process (pid ${holder})`;
      throw new LedgerUnavailableError(`the ${where} is open in ${who}; try again when it ends`);
    }
    try {
      unlinkSync(lockPath);
    } catch {
      // Another process removed it first; the next attempt settles who holds it.
    }
  }
  throw new LedgerUnavailableError(`the ${where} is being opened by another amicleaner process; try again`);
}

function readLock(lockPath: string): string {
  try {
    return readFileSync(lockPath, 'utf8').trim();
  } catch {
    return '';
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
