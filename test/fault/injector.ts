/**
 * Fault injection on the real SDK client stack. One middleware per client sits right after the
 * SDK's retry middleware, so every attempt passes through it and the SDK's own retry decisions
 * (which errors, how many attempts) run unchanged. Each Lambda invocation runs inside an
 * AsyncLocalStorage context naming its Task state, so a call is attributed to the state that made
 * it; calls the test itself makes (assertions, close-abandoned-run) have no context and pass.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { HttpResponse } from '@smithy/core/transport';
import type {
  FinalizeHandlerArguments,
  FinalizeHandlerOutput,
  FinalizeRequestMiddleware,
} from '@smithy/types';

export const FAULT_KINDS = [
  'throttling',
  'server-error',
  'timeout',
  'access-denied',
  'lost-response',
  'crash-after-effect',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * Faults of a `.sync:2` child start (no SDK call is made locally; the runner's start-and-wait is
 * wrapped instead): the first start refused (StartExecution throttled, the Retry starts it), every
 * start refused (the child never runs), and the child run to its end with every report of it lost.
 */
export const CHILD_START_FAULTS = ['start-throttled', 'start-refused', 'result-lost'] as const;
export type ChildStartFault = (typeof CHILD_START_FAULTS)[number];
/** The pseudo-service a child start's rows name. */
export const CHILD_START_SERVICE = 'Step Functions start';

/**
 * Where a fault fires: the `call`-th SDK attempt to `service` (counting only calls that change
 * something when `effects`) within the `invocation`-th invocation of `state`.
 */
export interface FaultTarget {
  readonly state: string;
  readonly service: string;
  readonly invocation: number;
  readonly call: number;
  readonly effects: boolean;
  readonly fault: FaultKind | ChildStartFault;
}

/** Faults about a call that took effect: they target calls that change something, where there are any. */
export const EFFECT_FAULTS: ReadonlySet<FaultKind> = new Set(['lost-response', 'crash-after-effect']);

const READ_COMMAND = /^(Describe|Get|List|Head|Query|Scan|BatchGet)/;

/** True for a call that changes state (deregister, delete, put, update, publish, send...). */
export function changesState(command: string): boolean {
  return !READ_COMMAND.test(command);
}

/** A standing failure for one run (the path that leads to a failure-handling state). */
export interface StandingRule {
  readonly state?: string;
  readonly service: string;
  readonly command?: string;
  readonly code: string;
}

export interface TracedCall {
  readonly state: string;
  /** 1-based ordinal of this invocation among the invocations of its state. */
  readonly invocation: number;
  /** 1-based ordinal of this attempt among the attempts to `service` in this invocation. */
  readonly call: number;
  /** The same, among the attempts that change state (0 for a read). */
  readonly effectCall: number;
  readonly service: string;
  readonly command: string;
}

interface Invocation {
  readonly state: string;
  readonly ordinal: number;
  readonly callsByService: Map<string, number>;
  readonly effectsByService: Map<string, number>;
  crashed: boolean;
  /** Attempts left to fail in this invocation, once the target fired here. */
  burstLeft: number;
}

/** Thrown by a Lambda whose process died (as Lambda reports it). */
export class RuntimeExitError extends Error {
  override readonly name = 'Runtime.ExitError';
}

/** What a dead process's further SDK calls see: nothing leaves it. */
class ProcessGoneError extends Error {
  override readonly name = 'ProcessGoneError';
}

interface ErrorCodes {
  readonly throttling: readonly [string, number];
  readonly 'server-error': readonly [string, number];
  readonly 'access-denied': readonly [string, number];
}

/** Each service's real error codes and HTTP statuses (what its SDK would have deserialised). */
const SERVICE_ERRORS: Readonly<Record<string, ErrorCodes>> = {
  EC2: {
    throttling: ['RequestLimitExceeded', 503],
    'server-error': ['InternalError', 500],
    'access-denied': ['UnauthorizedOperation', 403],
  },
  'Auto Scaling': {
    throttling: ['Throttling', 400],
    'server-error': ['InternalFailure', 500],
    'access-denied': ['AccessDenied', 403],
  },
  S3: {
    throttling: ['SlowDown', 503],
    'server-error': ['InternalError', 500],
    'access-denied': ['AccessDenied', 403],
  },
  SNS: {
    throttling: ['ThrottledException', 400],
    'server-error': ['InternalErrorException', 500],
    'access-denied': ['AuthorizationErrorException', 403],
  },
  DynamoDB: {
    throttling: ['ThrottlingException', 400],
    'server-error': ['InternalServerError', 500],
    'access-denied': ['AccessDeniedException', 400],
  },
};
const DEFAULT_ERRORS: ErrorCodes = {
  throttling: ['ThrottlingException', 400],
  'server-error': ['InternalFailure', 500],
  'access-denied': ['AccessDeniedException', 400],
};

function serviceError(service: string, code: string, status: number, why: string): Error {
  const error = Object.assign(new Error(`${why}: ${code}`), {
    name: code,
    Code: code,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status, requestId: 'fault-injected' },
  });
  Object.defineProperty(error, '$response', {
    value: new HttpResponse({ statusCode: status, headers: {} }),
    enumerable: false,
  });
  Object.defineProperty(error, '$service', { value: service, enumerable: false });
  return error;
}

function named(name: string, message: string): Error {
  return Object.assign(new Error(message), { name });
}

/** A socket timeout or reset, as Node's HTTP handler raises them (no response at all). */
function networkError(name: string, code: string, message: string): Error {
  return Object.assign(new Error(message), { name, code });
}

/** The middleware-stack surface of an SDK v3 client that `attach` needs. */
export interface InjectableClient {
  readonly config: {
    readonly serviceId?: string;
    retryStrategy?: unknown;
    readonly maxAttempts?: unknown;
  };
  readonly middlewareStack: {
    addRelativeTo(
      middleware: FinalizeRequestMiddleware<object, object>,
      options: { relation: 'after'; toMiddleware: string; name: string; override?: boolean },
    ): void;
  };
}

export class FaultInjector {
  readonly #context = new AsyncLocalStorage<Invocation>();
  readonly #invocations = new Map<string, number>();
  readonly trace: TracedCall[] = [];
  #target: FaultTarget | undefined;
  #rules: readonly StandingRule[] = [];
  readonly #childNames = new Map<string, string[]>();
  readonly #childAttempts = new Map<string, number>();
  #childFired = false;
  /** The invocation the target fired in, if it did. */
  #firedIn: Invocation | undefined;

  /** Arms one fault and the standing rules of its path for the next run; clears the trace. */
  arm(target: FaultTarget | undefined, rules: readonly StandingRule[] = []): void {
    this.#target = target;
    this.#rules = rules;
    this.#firedIn = undefined;
    this.#invocations.clear();
    this.#childNames.clear();
    this.#childAttempts.clear();
    this.#childFired = false;
    this.trace.length = 0;
  }

  /** True once the armed fault was injected. */
  get fired(): boolean {
    return this.#firedIn !== undefined || this.#childFired;
  }

  /**
   * Zero backoff (the attempt count stays the client's own), and the injection middleware right
   * after the SDK's retry middleware. Returns the client.
   */
  attach<C extends InjectableClient>(client: C): C {
    const service = client.config.serviceId ?? 'unknown';
    const maxAttempts = client.config.maxAttempts as (() => Promise<number>) | undefined;
    const attempts = maxAttempts ? maxAttempts() : Promise.resolve(3);
    client.config.retryStrategy = async () => new ConfiguredRetryStrategy(await attempts, 0);
    client.middlewareStack.addRelativeTo(this.#middleware(service, attempts), {
      relation: 'after',
      toMiddleware: 'retryMiddleware',
      name: 'faultInjector',
      override: true,
    });
    return client;
  }

  /** Runs one Lambda invocation of `state`; a crashed one ends as Lambda reports a dead process. */
  async within<R>(state: string, invoke: () => Promise<R>): Promise<R> {
    const ordinal = (this.#invocations.get(state) ?? 0) + 1;
    this.#invocations.set(state, ordinal);
    const invocation: Invocation = {
      state,
      ordinal,
      callsByService: new Map(),
      effectsByService: new Map(),
      crashed: false,
      burstLeft: 0,
    };
    return this.#context.run(invocation, async () => {
      let result: R;
      try {
        result = await invoke();
      } catch (error) {
        if (invocation.crashed)
          throw new RuntimeExitError('RequestId: fault Error: Runtime exited with error');
        throw error;
      }
      if (invocation.crashed) throw new RuntimeExitError('RequestId: fault Error: Runtime exited with error');
      return result;
    });
  }

  /**
   * One attempt of the `.sync:2` task `state` starting child `name`. Invocations of a child start
   * count distinct child names (a retried start of the same child is the same item), so a fault
   * aimed at item n fails every attempt of that item when it is persistent.
   */
  async childStart(state: string, name: string, start: () => Promise<unknown>): Promise<unknown> {
    const names = this.#childNames.get(state) ?? [];
    this.#childNames.set(state, names);
    if (!names.includes(name)) {
      names.push(name);
      const ordinal = names.length;
      this.trace.push({
        state,
        invocation: ordinal,
        call: 1,
        effectCall: 1,
        service: CHILD_START_SERVICE,
        command: 'StartExecution',
      });
    }
    const ordinal = names.indexOf(name) + 1;
    const target = this.#target;
    const aimed =
      target !== undefined &&
      target.state === state &&
      target.service === CHILD_START_SERVICE &&
      target.invocation === ordinal;
    if (!aimed) return start();
    const first = this.#childAttempts.get(name) === undefined;
    this.#childAttempts.set(name, (this.#childAttempts.get(name) ?? 0) + 1);
    this.#childFired = true;
    switch (target.fault) {
      case 'start-throttled':
        if (!first) return start();
        throw named('StepFunctions.ExecutionLimitExceededException', 'injected: too many executions');
      case 'start-refused':
        throw named('StepFunctions.ExecutionLimitExceededException', 'injected: too many executions');
      case 'result-lost':
        await start().catch(() => undefined);
        throw named('StepFunctions.SdkClientException', 'injected: the result of the child was lost');
      default:
        return start();
    }
  }

  #middleware(service: string, attempts: Promise<number>): FinalizeRequestMiddleware<object, object> {
    return (next, context) =>
      async (args: FinalizeHandlerArguments<object>): Promise<FinalizeHandlerOutput<object>> => {
        const invocation = this.#context.getStore();
        if (invocation === undefined) return next(args);
        if (invocation.crashed) throw new ProcessGoneError('the Lambda process is gone');
        const command = (context.commandName ?? '').replace(/Command$/, '');
        const call = (invocation.callsByService.get(service) ?? 0) + 1;
        invocation.callsByService.set(service, call);
        const changes = changesState(command);
        const effectCall = changes ? (invocation.effectsByService.get(service) ?? 0) + 1 : 0;
        if (changes) invocation.effectsByService.set(service, effectCall);
        this.trace.push({
          state: invocation.state,
          invocation: invocation.ordinal,
          call,
          effectCall,
          service,
          command,
        });

        const rule = this.#rules.find(
          (r) =>
            r.service === service &&
            (r.state === undefined || r.state === invocation.state) &&
            (r.command === undefined || r.command === command),
        );
        if (rule)
          throw serviceError(service, rule.code, rule.code.startsWith('Internal') ? 500 : 403, 'standing');

        const target = this.#target;
        if (
          target !== undefined &&
          this.#firedIn === undefined &&
          target.state === invocation.state &&
          target.service === service &&
          target.invocation === invocation.ordinal &&
          (target.effects ? target.call === effectCall : target.call === call)
        ) {
          this.#firedIn = invocation;
          // Transient faults last as many attempts as the SDK makes, so the handler sees them.
          invocation.burstLeft = ['throttling', 'server-error', 'timeout'].includes(target.fault)
            ? await attempts
            : 1;
        }
        if (target === undefined || this.#firedIn !== invocation || invocation.burstLeft === 0)
          return next(args);
        invocation.burstLeft -= 1;
        return this.#inject(target.fault, service, invocation, () => next(args));
      };
  }

  async #inject(
    fault: FaultKind | ChildStartFault,
    service: string,
    invocation: Invocation,
    send: () => Promise<FinalizeHandlerOutput<object>>,
  ): Promise<FinalizeHandlerOutput<object>> {
    const codes = SERVICE_ERRORS[service] ?? DEFAULT_ERRORS;
    switch (fault) {
      case 'throttling':
      case 'server-error':
      case 'access-denied': {
        const [code, status] = codes[fault];
        throw serviceError(service, code, status, 'injected');
      }
      case 'timeout':
        throw networkError('TimeoutError', 'ETIMEDOUT', 'Connection timed out after 3000 ms');
      case 'lost-response':
        await send();
        throw networkError('Error', 'ECONNRESET', 'socket hang up');
      case 'crash-after-effect':
        await send();
        invocation.crashed = true;
        throw new ProcessGoneError('the Lambda process died right after this call');
      default:
        throw new Error(`${fault} is a child start fault, not an SDK call's`);
    }
  }
}
