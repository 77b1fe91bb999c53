import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
// @smithy/util-stream is not installed on its own; @smithy/core (an SDK dependency) ships the same mixin.
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MemoryWorkspace,
  runKey,
  S3Workspace,
  WorkspaceKeyNotFoundError,
} from '../../functions/adapters/workspace.ts';

const s3Mock = mockClient(S3Client);

afterEach(() => {
  s3Mock.reset();
});

function body(text: string) {
  return sdkStreamMixin(Readable.from([Buffer.from(text)]));
}

describe('runKey', () => {
  it('puts every document of a run under its prefix', () => {
    // Act
    const key = runKey('exec-2026-05-01', 'plan');

    // Assess
    expect(key).toBe('runs/exec-2026-05-01/plan.json');
  });

  it('refuses names that would escape the prefix', () => {
    // Act / Assess
    expect(() => runKey('../other', 'plan')).toThrow(RangeError);
    expect(() => runKey('run-1', 'a/b')).toThrow(RangeError);
  });
});

describe('S3Workspace', () => {
  it('writes JSON to the bucket under the key', async () => {
    // Prepare
    s3Mock.on(PutObjectCommand).resolves({});
    const workspace = new S3Workspace({ s3: new S3Client({}), bucket: 'ws-bucket' });

    // Act
    await workspace.putJson('runs/r/plan.json', { planHash: 'abc', n: 1 });

    // Assess
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'ws-bucket',
      Key: 'runs/r/plan.json',
      Body: '{"planHash":"abc","n":1}',
      ContentType: 'application/json',
    });
  });

  it('reads JSON back from the body stream', async () => {
    // Prepare
    s3Mock.on(GetObjectCommand, { Bucket: 'ws-bucket', Key: 'runs/r/plan.json' }).resolves({
      Body: body('{"planHash":"abc","groups":[1,2]}'),
    });
    const workspace = new S3Workspace({ s3: new S3Client({}), bucket: 'ws-bucket' });

    // Act
    const value = await workspace.getJson<{ planHash: string; groups: number[] }>('runs/r/plan.json');

    // Assess
    expect(value).toEqual({ planHash: 'abc', groups: [1, 2] });
  });

  it('turns a missing key into WorkspaceKeyNotFoundError naming the key', async () => {
    // Prepare
    s3Mock
      .on(GetObjectCommand)
      .rejects(new NoSuchKey({ message: 'The specified key does not exist.', $metadata: {} }));
    const workspace = new S3Workspace({ s3: new S3Client({}), bucket: 'ws-bucket' });

    // Act
    const attempt = workspace.getJson('runs/r/missing.json');

    // Assess
    await expect(attempt).rejects.toThrow(WorkspaceKeyNotFoundError);
    await expect(attempt).rejects.toThrow('runs/r/missing.json');
  });

  it('lets other S3 errors through unchanged', async () => {
    // Prepare
    const denied = Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    s3Mock.on(GetObjectCommand).rejects(denied);
    const workspace = new S3Workspace({ s3: new S3Client({}), bucket: 'ws-bucket' });

    // Act
    const attempt = workspace.getJson('runs/r/plan.json');

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'AccessDenied' });
  });
});

describe('MemoryWorkspace', () => {
  it('round-trips copies and reports missing keys', async () => {
    // Prepare
    const workspace = new MemoryWorkspace();
    const value = { list: [1] };
    await workspace.putJson('k', value);
    value.list.push(2);

    // Act
    const read = await workspace.getJson<{ list: number[] }>('k');

    // Assess
    expect(read).toEqual({ list: [1] });
    expect(workspace.keys()).toEqual(['k']);
    await expect(workspace.getJson('missing')).rejects.toThrow(WorkspaceKeyNotFoundError);
  });
});
