import * as autoScaling from '@aws-sdk/client-auto-scaling';
import * as ec2 from '@aws-sdk/client-ec2';
import * as imagebuilder from '@aws-sdk/client-imagebuilder';
import * as organizations from '@aws-sdk/client-organizations';
import * as s3 from '@aws-sdk/client-s3';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import * as sfn from '@aws-sdk/client-sfn';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import * as sts from '@aws-sdk/client-sts';
import { HttpResponse } from '@smithy/core/transport';
import type { DeserializeHandlerOutput } from '@smithy/types';
import { SimulatedAwsError } from './errors.ts';

type ServiceExceptionCtor = new (options: {
  name: string;
  $fault: 'client' | 'server';
  $metadata: { httpStatusCode: number; requestId: string; attempts?: number };
  message: string;
}) => Error;

type ModeledExceptionCtor = new (options: {
  $metadata: { httpStatusCode: number; requestId: string };
  message: string;
}) => Error;

/** Each service's base exception and its module (where modeled exceptions such as `NoSuchKey` live). */
const services: Record<string, { base: ServiceExceptionCtor; module: Record<string, unknown> }> = {
  EC2: { base: ec2.EC2ServiceException, module: ec2 },
  'Auto Scaling': { base: autoScaling.AutoScalingServiceException, module: autoScaling },
  imagebuilder: { base: imagebuilder.ImagebuilderServiceException, module: imagebuilder },
  SSM: { base: ssm.SSMServiceException, module: ssm },
  S3: { base: s3.S3ServiceException, module: s3 },
  SNS: { base: sns.SNSServiceException, module: sns },
  SFN: { base: sfn.SFNServiceException, module: sfn },
  'Secrets Manager': { base: secretsManager.SecretsManagerServiceException, module: secretsManager },
  // Answered by the simulated organization (organization.ts), not by one account.
  STS: { base: sts.STSServiceException, module: sts },
  Organizations: { base: organizations.OrganizationsServiceException, module: organizations },
};

export const supportedServices: readonly string[] = Object.keys(services);

/**
 * Builds the error the SDK itself would have thrown for this response: the modeled exception class
 * when the service defines one (`instanceof NoSuchKey` works), otherwise the service's
 * ServiceException with `name` = AWS error code. The SDK's retry strategy classifies it like a real
 * one (by name and HTTP status).
 */
export function toSdkError(serviceId: string, error: SimulatedAwsError, requestId: string): Error {
  const service = services[serviceId];
  if (service === undefined) throw new Error(`No simulated service ${serviceId}`);
  const $metadata = { httpStatusCode: error.httpStatusCode, requestId };
  const modeled = service.module[error.code];
  let sdkError: Error;
  if (typeof modeled === 'function' && modeled.prototype instanceof service.base) {
    sdkError = new (modeled as ModeledExceptionCtor)({ $metadata, message: error.message });
  } else {
    sdkError = new service.base({
      name: error.code,
      $fault: error.httpStatusCode >= 500 ? 'server' : 'client',
      $metadata,
      message: error.message,
    });
  }
  // Query-protocol errors also carry the raw Code/Message, as the SDK copies them from the body.
  Object.assign(sdkError, { Code: error.code, Message: error.message });
  // The retry middleware reads headers (retry-after) from the hidden raw response.
  Object.defineProperty(sdkError, '$response', {
    value: new HttpResponse({ statusCode: error.httpStatusCode, headers: { 'x-amzn-requestid': requestId } }),
    enumerable: false,
  });
  return sdkError;
}

/**
 * Runs one command's handler and shapes the result as the SDK's deserializer would have: the
 * output with `$metadata`, or the SDK's own error class for a `SimulatedAwsError` (its code noted
 * on `record`). Anything else is a bug in the simulation and propagates as is.
 */
export async function answer(
  serviceId: string,
  requestId: string,
  record: { error?: string },
  run: () => object | Promise<object>,
): Promise<DeserializeHandlerOutput<object>> {
  try {
    const output = await run();
    return {
      output: { ...output, $metadata: { httpStatusCode: 200, requestId, attempts: 1, totalRetryDelay: 0 } },
      response: new HttpResponse({ statusCode: 200, headers: { 'x-amzn-requestid': requestId } }),
    };
  } catch (error) {
    if (!(error instanceof SimulatedAwsError)) throw error;
    record.error = error.code;
    throw toSdkError(serviceId, error, requestId);
  }
}
