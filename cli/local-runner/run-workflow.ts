/**
 * Executes the very ASL file CDK deploys (statemachine/ami-cleaner.asl.json) in-process with
 * aws-local-stepfunctions, every Task running its real handler from functions/.
 *
 * What the local runner cannot do by itself is filled in here, and only here:
 * - `lambda:invoke` tasks get `{ FunctionName, Payload }` and must answer `{ Payload }`;
 *   payloads are JSON round-tripped, as Lambda would serialise them.
 * - `.waitForTaskToken` has no token service: the token comes from the control plane's
 *   simulated Step Functions, and the task waits until the approval page's SendTaskSuccess
 *   settles it, or until TimeoutSeconds, which fails the task with States.Timeout.
 * - The Context object (`$$.Execution`, `$$.Task.Token`) is passed explicitly.
 * - Stopping (`signal`) is StopExecution: the execution ends ABORTED, the handler calls in flight
 *   are awaited (a Lambda keeps running after its execution stops), then the run is closed by the
 *   real close-abandoned-run handler, as the EventBridge rule does in AWS.
 */
import './polyfills.ts';
import { randomBytes } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { RunSummary } from '../../functions/core/workflow.ts';
import { renderDefinition } from '../../infra/lib/definition.ts';
import { STATE_MACHINE_HANDLERS, type StateMachineHandlerId } from '../../infra/lib/handlers.ts';
import type { LocalStack } from './local-stack.ts';

/** The construct's default; see infra for why (EC2 delete buckets refill 5 per second). */
export const LOCAL_DELETION_MAX_CONCURRENCY = 5;
const LOCAL_ACCOUNT_ID = '000000000000';

/** The runner's execution events (its EventLog type is not exported): what progress needs. */
export interface ExecutionEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type?: string; readonly output?: unknown };
  /** Set for states inside a Map iteration. */
  readonly index?: number;
  readonly Error?: string;
  readonly Cause?: unknown;
}

export interface LocalRunOptions {
  /** The execution input, as a manual start would give it. */
  readonly input: Record<string, unknown>;
  /** Default `manual-<UTC time>-<random>`; it is also the run id in the ledger. */
  readonly executionName?: string;
  readonly deletionMaxConcurrency?: number;
  /** Replaces every Retry interval (ms); tests use 0 so retries do not wait. */
  readonly retryIntervalMs?: number;
  /** Every execution event, as it happens (progress display, tests). */
  readonly onEvent?: (event: ExecutionEvent) => void;
  /** Called with the link the approval email carries, once the approval is requested. */
  readonly onApprovalRequested?: (request: ApprovalRequest) => void;
  /** Aborting it stops the execution (StopExecution), then closes the run (close-abandoned-run). */
  readonly signal?: AbortSignal;
  /**
   * Wraps each Lambda invocation with the name of the Task state that makes it (several states
   * share a handler): fault-injection tests attribute every SDK call to its state this way.
   */
  readonly aroundTask?: (stateName: string, invoke: () => Promise<unknown>) => Promise<unknown>;
}

export interface ApprovalRequest {
  /** The (first) emailed link: the shared link, or the first named approver's personal link. */
  readonly link: string;
  /** Every emailed link: one shared link, or one personal link per named approver. */
  readonly links: readonly { readonly approver?: string; readonly link: string }[];
  readonly subject: string;
  readonly message: string;
  /**
   * Withdraws the request (SendTaskFailure `ApprovalWithdrawn`): the run ends WITHDRAWN, nothing
   * is deleted, a later click is refused. Returns false when a decision already arrived and there
   * was nothing left to withdraw.
   */
  readonly withdraw: () => boolean;
}

export interface LocalRunResult {
  readonly executionName: string;
  readonly executionArn: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** The execution's output: the run summary (or `{ status: 'SKIPPED_LOCKED' }`). */
  readonly output?: RunSummary | { readonly status: 'SKIPPED_LOCKED' };
  readonly error?: { readonly error: string; readonly cause: string };
}

class ExecutionStoppedError extends Error {
  override readonly name = 'ExecutionStopped';
}

/** Raised into the runner when an approval wait passes TimeoutSeconds, as Step Functions would. */
class StatesTimeoutError extends Error {
  override readonly name = 'States.Timeout';
}

export function defaultExecutionName(trigger = 'manual', now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${trigger}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export async function runWorkflowLocally(
  stack: LocalStack,
  options: LocalRunOptions,
): Promise<LocalRunResult> {
  const functionArn = (id: string) =>
    `arn:aws:lambda:${stack.region}:${LOCAL_ACCOUNT_ID}:function:ami-cleaner-${id}`;
  const handlerByArn = new Map<string, StateMachineHandlerId>(
    STATE_MACHINE_HANDLERS.map((h) => [functionArn(h.id), h.id]),
  );
  const rendered = renderDefinition({
    approvalTimeoutSeconds: stack.approvalTimeoutSeconds,
    deletionMaxConcurrency: options.deletionMaxConcurrency ?? LOCAL_DELETION_MAX_CONCURRENCY,
    functionArns: Object.fromEntries(
      STATE_MACHINE_HANDLERS.map((h) => [h.stateMachinePlaceholder, functionArn(h.id)]),
    ),
  });
  const definition = JSON.parse(rendered) as AslDefinition;

  const executionName = options.executionName ?? defaultExecutionName();
  const stateMachineArn = `arn:aws:states:${stack.region}:${LOCAL_ACCOUNT_ID}:stateMachine:ami-cleaner`;
  const executionArn = `arn:aws:states:${stack.region}:${LOCAL_ACCOUNT_ID}:execution:ami-cleaner:${executionName}`;
  const taskToken = stack.control.taskTokens.issue();

  const taskHandlers: Record<string, (input: unknown) => Promise<never>> = {};
  // Handler calls still running: after a stop they finish, as a Lambda would, before the close.
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  const track = <T>(call: Promise<T>): Promise<T> => {
    inFlight.add(call);
    const settled = () => inFlight.delete(call);
    call.then(settled, settled);
    return call;
  };
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [stateName, state] of taskStates(definition)) {
    const id = handlerByArn.get(String(state.Parameters?.FunctionName));
    if (!id) throw new Error(`state ${stateName} invokes no known handler`);
    const stepHandler = stack.handlers[id] as (event: unknown) => Promise<unknown>;
    const around = options.aroundTask;
    const handler = around ? (event: unknown) => around(stateName, () => stepHandler(event)) : stepHandler;
    const waitsForToken = String(state.Resource).endsWith('.waitForTaskToken');
    taskHandlers[stateName] = async (input) => {
      // The runner keeps starting inline Map iterations after abort(); Step Functions would not.
      if (stopped) throw new ExecutionStoppedError('the execution was stopped');
      const payload = roundTrip((input as { Payload?: unknown }).Payload);
      if (!waitsForToken) return roundTrip({ Payload: await track(handler(payload)) }) as never;
      const emailsBefore = stack.control.published.length;
      await track(handler(payload));
      announceApproval(stack, options, taskToken, emailsBefore);
      return (await waitForDecision(stack, taskToken, state.TimeoutSeconds)) as never;
    };
    if (options.retryIntervalMs !== undefined && state.Retry)
      retryIntervalOverrides[stateName] = options.retryIntervalMs;
  }

  const machine = stateMachineFor(rendered, definition);
  const startTime = new Date().toISOString();
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: taskHandlers as never, retryIntervalOverrides },
    context: {
      Execution: { Id: executionArn, Name: executionName, StartTime: startTime, Input: options.input },
      StateMachine: { Id: stateMachineArn, Name: 'ami-cleaner' },
      Task: { Token: taskToken },
    } as never,
  });
  const stop = () => {
    stopped = true;
    if (stack.control.taskTokens.status(taskToken) === 'PENDING') stack.control.taskTokens.expire(taskToken);
    execution.abort();
  };
  if (options.signal?.aborted) stop();
  else options.signal?.addEventListener('abort', stop, { once: true });
  const events = (async () => {
    for await (const event of execution.eventLogs) options.onEvent?.(event as ExecutionEvent);
  })();

  try {
    const output = (await execution.result) as LocalRunResult['output'];
    await events;
    options.signal?.removeEventListener('abort', stop);
    return { executionName, executionArn, status: 'SUCCEEDED', ...(output ? { output } : {}) };
  } catch (error) {
    await events.catch(() => {});
    options.signal?.removeEventListener('abort', stop);
    if (error instanceof ExecutionAbortedError) {
      await Promise.allSettled([...inFlight]);
      await stack.closeAbandonedRun({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail: { executionArn, name: executionName, status: 'ABORTED' },
      });
      return { executionName, executionArn, status: 'ABORTED' };
    }
    if (!(error instanceof ExecutionError)) throw error;
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    return {
      executionName,
      executionArn,
      status: 'FAILED',
      error: { error: cause?.name ?? error.name, cause: cause?.message ?? error.message },
    };
  }
}

/** The last email the request-approval handler sent, and the link in it, for the person at the terminal. */
function announceApproval(
  stack: LocalStack,
  options: LocalRunOptions,
  token: string,
  emailsBefore: number,
): void {
  const emails = stack.control.published.slice(emailsBefore);
  const email = emails[0];
  if (!email) throw new Error('the approval request sent no email');
  const links = emails.map((sent) => {
    const link = /https?:\/\/\S+/.exec(sent.message)?.[0];
    if (!link) throw new Error('the approval email carries no link');
    const approver = sent.messageAttributes?.approver;
    return approver ? { approver, link } : { link };
  });
  options.onApprovalRequested?.({
    link: links[0]?.link ?? '',
    links,
    subject: email.subject ?? '',
    message: email.message,
    withdraw: () => {
      if (stack.control.taskTokens.status(token) !== 'PENDING') return false;
      stack.control.taskTokens.fail(token, 'ApprovalWithdrawn', 'the operator withdrew the approval request');
      return true;
    },
  });
}

async function waitForDecision(
  stack: LocalStack,
  token: string,
  timeoutSeconds: number | undefined,
): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    if (timeoutSeconds === undefined) return;
    timer = setTimeout(() => {
      // Expire the token first, so a late click on the page is refused as Step Functions would.
      stack.control.taskTokens.expire(token);
      reject(new StatesTimeoutError('the approval was not given in time'));
    }, timeoutSeconds * 1000);
  });
  try {
    return await Promise.race([stack.control.taskTokens.wait(token), expiry]);
  } catch (error) {
    if (error instanceof Error && error.name === 'States.Timeout')
      throw new StatesTimeoutError(error.message);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** Validating a definition takes about a second; each rendered definition is validated once. */
const machines = new Map<string, StateMachine>();

function stateMachineFor(rendered: string, definition: AslDefinition): StateMachine {
  let machine = machines.get(rendered);
  if (!machine) {
    machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    machines.set(rendered, machine);
  }
  return machine;
}

function roundTrip(value: unknown): unknown {
  return value === undefined ? {} : JSON.parse(JSON.stringify(value));
}

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly TimeoutSeconds?: number;
  readonly Retry?: unknown[];
  readonly ItemProcessor?: { readonly States: Record<string, AslState> };
  readonly Iterator?: { readonly States: Record<string, AslState> };
}
interface AslDefinition {
  readonly States: Record<string, AslState>;
}

/** Every Task state, Map iterations included (state names are unique across the file). */
function* taskStates(definition: {
  readonly States: Record<string, AslState>;
}): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') yield [name, state];
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) yield* taskStates(inner);
  }
}
