/**
 * The run workspace: JSON documents (inventory, groups, plan) that states pass by key instead of
 * by value, so no state payload comes near Step Functions' 256 KiB limit.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export interface RunWorkspace {
  putJson(key: string, value: unknown): Promise<void>;
  /** Throws WorkspaceKeyNotFoundError when nothing is stored under `key`. */
  getJson<T>(key: string): Promise<T>;
}

/** `runs/<runId>/<name>.json`: one prefix per run, so a run's documents can be listed or expired together. */
export function runKey(runId: string, name: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(runId) || !/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new RangeError(`workspace key parts must be plain names, got "${runId}" / "${name}"`);
  }
  return `runs/${runId}/${name}.json`;
}

export class WorkspaceKeyNotFoundError extends Error {
  override readonly name = 'WorkspaceKeyNotFoundError';
  constructor(readonly key: string) {
    super(`nothing stored in the run workspace under "${key}"`);
  }
}

export class S3Workspace implements RunWorkspace {
  readonly #s3: S3Client;
  readonly #bucket: string;

  constructor(options: { s3: S3Client; bucket: string }) {
    this.#s3 = options.s3;
    this.#bucket = options.bucket;
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  }

  async getJson<T>(key: string): Promise<T> {
    try {
      const out = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      if (!out.Body) throw new WorkspaceKeyNotFoundError(key);
      return JSON.parse(await out.Body.transformToString('utf-8')) as T;
    } catch (error) {
      if (error instanceof Error && (error.name === 'NoSuchKey' || error.name === 'NotFound')) {
        throw new WorkspaceKeyNotFoundError(key);
      }
      throw error;
    }
  }
}

/** For tests, the CLI and the local runner. Stores JSON text, so callers get copies, as from S3. */
export class MemoryWorkspace implements RunWorkspace {
  readonly #objects = new Map<string, string>();

  async putJson(key: string, value: unknown): Promise<void> {
    this.#objects.set(key, JSON.stringify(value));
  }

  async getJson<T>(key: string): Promise<T> {
    const text = this.#objects.get(key);
    if (text === undefined) throw new WorkspaceKeyNotFoundError(key);
    return JSON.parse(text) as T;
  }

  /** Stored keys, for assertions. */
  keys(): string[] {
    return [...this.#objects.keys()];
  }
}
