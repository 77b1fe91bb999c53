import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  DeleteObjectCommandInput,
  GetObjectCommandInput,
  HeadObjectCommandInput,
  PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import type { GetSecretValueCommandInput, GetSecretValueResponse } from '@aws-sdk/client-secrets-manager';
import type {
  SendTaskFailureCommandInput,
  SendTaskHeartbeatCommandInput,
  SendTaskSuccessCommandInput,
} from '@aws-sdk/client-sfn';
import type { PublishCommandInput, PublishResponse } from '@aws-sdk/client-sns';
import type {
  GetParameterCommandInput,
  GetParameterResult,
  GetParametersByPathCommandInput,
  GetParametersByPathResult,
  Parameter,
} from '@aws-sdk/client-ssm';
import { sdkStreamMixin } from '@smithy/core/serde';
import type { ServiceHandlers, SimulatedAccount } from './account.ts';
import { handler } from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';
import type { SimObject, SimParameter } from './state.ts';

/** Reads whatever the caller passed as an S3 Body (string, bytes, Blob or Node stream). */
async function readBody(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  if (body instanceof ArrayBuffer) return Buffer.from(new Uint8Array(body));
  if (typeof (body as Blob).arrayBuffer === 'function')
    return Buffer.from(await (body as Blob).arrayBuffer());
  if (typeof body === 'object' && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<string | Uint8Array>) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
  throw new SimulatedAwsError('InvalidArgument', 'The simulated account cannot read this kind of Body.');
}

export function createMessagingHandlers(account: SimulatedAccount): Record<string, ServiceHandlers> {
  const parameterArn = (name: string) =>
    `arn:aws:ssm:${account.region}:${account.accountId}:parameter${name.startsWith('/') ? '' : '/'}${name}`;
  const renderParameter = (parameter: SimParameter): Parameter => ({
    Name: parameter.name,
    Type: parameter.type as Parameter['Type'],
    Value: parameter.value,
    Version: parameter.version,
    LastModifiedDate: new Date(parameter.lastModifiedDate),
    ARN: parameterArn(parameter.name),
    DataType: parameter.dataType,
  });

  const objectOf = (bucket: string | undefined, key: string | undefined): SimObject => {
    const object = account.objects.get(`${bucket}/${key}`);
    if (object === undefined)
      throw new SimulatedAwsError('NoSuchKey', 'The specified key does not exist.', 404);
    return object;
  };

  const ssm: ServiceHandlers = {
    GetParametersByPath: handler((input: GetParametersByPathCommandInput): GetParametersByPathResult => {
      const path = input.Path ?? '';
      if (!path.startsWith('/')) {
        throw new SimulatedAwsError(
          'ValidationException',
          'The parameter path must begin with a forward slash (/).',
        );
      }
      if (input.ParameterFilters?.length) {
        throw new SimulatedAwsError(
          'UnsupportedOperation',
          'The simulated account does not support ParameterFilters.',
        );
      }
      const limit = pageSize(input.MaxResults, {
        fallback: 10,
        min: 1,
        max: 10,
        errorCode: 'ValidationException',
        parameter: 'maxResults',
      });
      const prefix = path.endsWith('/') ? path : `${path}/`;
      const after = decodeToken(input.NextToken, 'GetParametersByPath', 'InvalidNextToken');
      const { items, lastKey } = account.parameters.page(
        after ?? prefix,
        limit,
        // Without Recursive, only the level directly below the path.
        (parameter) => input.Recursive === true || !parameter.name.slice(prefix.length).includes('/'),
        (name) => !name.startsWith(prefix),
      );
      return {
        Parameters: items.map(renderParameter),
        ...(lastKey === undefined ? {} : { NextToken: encodeToken('GetParametersByPath', lastKey) }),
      };
    }),

    GetParameter: handler((input: GetParameterCommandInput): GetParameterResult => {
      const parameter = account.parameters.get(input.Name ?? '');
      if (parameter === undefined) throw new SimulatedAwsError('ParameterNotFound', '');
      return { Parameter: renderParameter(parameter) };
    }),
  };

  const s3: ServiceHandlers = {
    PutObject: handler(async (input: PutObjectCommandInput) => {
      const key = `${input.Bucket}/${input.Key}`;
      if (input.IfNoneMatch === '*' && account.objects.has(key)) {
        throw new SimulatedAwsError(
          'PreconditionFailed',
          'At least one of the pre-conditions you specified did not hold',
          412,
        );
      }
      const body = await readBody(input.Body);
      const object: SimObject = {
        body,
        etag: `"${createHash('md5').update(body).digest('hex')}"`,
        lastModified: account.now().toISOString(),
        metadata: { ...input.Metadata },
        ...(input.ContentType === undefined ? {} : { contentType: input.ContentType }),
      };
      account.objects.set(key, object);
      return { ETag: object.etag };
    }),

    GetObject: handler((input: GetObjectCommandInput) => {
      const object = objectOf(input.Bucket, input.Key);
      return {
        // What the SDK hands out for a real response: a stream with transformToString() & co.
        Body: sdkStreamMixin(Readable.from([object.body])),
        ContentLength: object.body.length,
        ETag: object.etag,
        LastModified: new Date(object.lastModified),
        Metadata: object.metadata,
        ...(object.contentType === undefined ? {} : { ContentType: object.contentType }),
      };
    }),

    HeadObject: handler((input: HeadObjectCommandInput) => {
      const object = account.objects.get(`${input.Bucket}/${input.Key}`);
      // HEAD responses have no body, so S3 errors carry only the status: the SDK names it NotFound.
      if (object === undefined) throw new SimulatedAwsError('NotFound', 'Not Found', 404);
      return {
        ContentLength: object.body.length,
        ETag: object.etag,
        LastModified: new Date(object.lastModified),
        Metadata: object.metadata,
        ...(object.contentType === undefined ? {} : { ContentType: object.contentType }),
      };
    }),

    DeleteObject: handler((input: DeleteObjectCommandInput) => {
      account.objects.delete(`${input.Bucket}/${input.Key}`);
      return {};
    }),
  };

  const sns: ServiceHandlers = {
    Publish: handler((input: PublishCommandInput): PublishResponse => {
      if (!input.TopicArn && !input.TargetArn && !input.PhoneNumber) {
        throw new SimulatedAwsError(
          'InvalidParameter',
          'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
        );
      }
      if (!input.Message) {
        throw new SimulatedAwsError('InvalidParameter', 'Invalid parameter: Empty message');
      }
      const messageId = account.uuid();
      const attributes: Record<string, string> = {};
      for (const [name, value] of Object.entries(input.MessageAttributes ?? {})) {
        attributes[name] = value.StringValue ?? '';
      }
      account.published.push({
        messageId,
        topicArn: input.TopicArn ?? input.TargetArn ?? input.PhoneNumber ?? '',
        message: input.Message,
        messageAttributes: attributes,
        publishedAt: account.now().toISOString(),
        ...(input.Subject === undefined ? {} : { subject: input.Subject }),
      });
      return { MessageId: messageId };
    }),
  };

  const sfn: ServiceHandlers = {
    SendTaskSuccess: handler((input: SendTaskSuccessCommandInput) => {
      account.taskTokens.succeed(input.taskToken ?? '', input.output ?? '');
      return {};
    }),
    SendTaskFailure: handler((input: SendTaskFailureCommandInput) => {
      account.taskTokens.fail(input.taskToken ?? '', input.error, input.cause);
      return {};
    }),
    SendTaskHeartbeat: handler((input: SendTaskHeartbeatCommandInput) => {
      if (account.taskTokens.status(input.taskToken ?? '') === undefined) {
        throw new SimulatedAwsError('InvalidToken', "Invalid Token: 'Invalid token'");
      }
      if (account.taskTokens.status(input.taskToken ?? '') !== 'PENDING') {
        throw new SimulatedAwsError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
      }
      return {};
    }),
  };

  const secretsManager: ServiceHandlers = {
    GetSecretValue: handler((input: GetSecretValueCommandInput): GetSecretValueResponse => {
      const id = input.SecretId ?? '';
      const secret = account.secrets.get(id) ?? [...account.secrets.values()].find((s) => s.arn === id);
      if (secret === undefined) {
        throw new SimulatedAwsError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret.",
        );
      }
      // A rotated secret keeps its prior value as AWSPREVIOUS; other labels do not exist here.
      const stage = input.VersionStage ?? 'AWSCURRENT';
      const version = stage === 'AWSCURRENT' ? secret : stage === 'AWSPREVIOUS' ? secret.previous : undefined;
      if (version === undefined) {
        throw new SimulatedAwsError(
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        SecretString: version.value,
        VersionStages: [stage],
        CreatedDate: new Date(secret.createdDate),
      };
    }),
  };

  return { SSM: ssm, S3: s3, SNS: sns, SFN: sfn, 'Secrets Manager': secretsManager };
}
