/**
 * Errors raised inside the simulated account. Handlers throw `SimulatedAwsError` with AWS's real
 * error code; the middleware turns it into the SDK's own exception class for that service (see
 * `sdk-errors.ts`), so callers see exactly what a real response would have produced.
 */
export class SimulatedAwsError extends Error {
  override readonly name = 'SimulatedAwsError';

  constructor(
    /** AWS's error code, e.g. `InvalidAMIID.NotFound`; becomes the SDK error's `name`. */
    readonly code: string,
    message: string,
    readonly httpStatusCode = 400,
  ) {
    super(message);
  }
}

/** The HTTP status AWS uses for an error code that callers inject with `failNext`. */
export function defaultStatusFor(code: string): number {
  switch (code) {
    case 'RequestLimitExceeded':
    case 'ServiceUnavailable':
    case 'Unavailable':
    case 'SlowDown':
      return 503;
    case 'InternalError':
    case 'InternalFailure':
    case 'InternalServerError':
    case 'InternalServiceError':
    case 'InternalServerErrorException':
    case 'ServiceException': // Image Builder's internal error
      return 500;
    case 'AccessDenied':
    case 'AccessDeniedException':
    case 'UnauthorizedOperation':
    case 'ForbiddenException':
      return 403;
    case 'NoSuchKey':
    case 'NoSuchBucket':
      return 404;
    case 'TooManyRequestsException':
    case 'CallRateLimitExceededException': // Image Builder's throttling
      return 429;
    default:
      return 400;
  }
}

/** The command exists in AWS but not in this simulation: never fall through to the network. */
export function unsupportedOperation(service: string, command: string): SimulatedAwsError {
  return new SimulatedAwsError(
    'UnsupportedOperation',
    `The simulated account does not support ${service} ${command}. Add a handler in cli/simulated-account/ if the product needs it.`,
  );
}
