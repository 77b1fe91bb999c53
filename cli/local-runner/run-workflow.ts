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
 * - `states:startExecution.sync:2` has no local integration: its task runs the child definition
 *   (statemachine/delete-batch.asl.json, rendered like the parent) in-process the same way, with
 *   its own Context, and answers like `.sync:2` (`{ Output, ExecutionArn, Status, … }`, the
 *   output as JSON), or fails with `States.TaskFailed` when the child fails. A second start with
 *   the same name returns the same child while it runs (same input) and is refused otherwise, as
 *   StartExecution does. Stopping the parent stops its children, as `.sync` does.
 * - A Task without TimeoutSeconds runs as long as it takes (the runner's own default is 60 s,
 *   Step Functions' is 99,999,999 s; see withAwsTaskTimeouts in asl.ts).
 * - Stopping (`signal`) is StopExecution: the execution ends ABORTED, the handler calls in flight
 *   are awaited (a Lambda keeps running after its execution stops), then the run is closed by the
 *   real close-abandoned-run handler, as the EventBridge rule does in AWS.
 * - That rule also fires for an execution that ends FAILED, the started one or a child of the
 *   target workflow (not a DeleteBatch, which the rule does not watch): the runner calls
 *   close-abandoned-run for those too. A close that throws is reported in `closeErrors` (in AWS
 *   the event would go to the dead-letter queue), never swallowed.
 */
import './polyfills.ts';
import { randomBytes } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError } from 'aws-local-stepfunctions';
import type {
  CloseAbandonedRunResult,
  ExecutionStatusChangeEvent,
} from '../../functions/close-abandoned-run.ts';
import type { RunSummary } from '../../functions/core/workflow.ts';
import {
  DELETE_BATCH_DEFINITION_PATH,
  DELETE_BATCH_STATE_MACHINE_PLACEHOLDER,
  loadDefinitionTemplate,
  ORGANIZATION_DEFINITION_PATH,
  renderDefinition,
  TARGET_STATE_MACHINE_PLACEHOLDER,
} from '../../infra/lib/definition.ts';
import {
  ORGANIZATION_HANDLERS,
  type OrganizationHandlerId,
  STATE_MACHINE_HANDLERS,
  type StateMachineHandlerId,
} from '../../infra/lib/handlers.ts';
import { type ApprovalRequest, announceApproval, waitForDecision } from './approval-wait.ts';
import { type AslDefinition, stateMachineFor, taskStates, withAwsTaskTimeouts } from './asl.ts';
import type { LocalStack } from './local-stack.ts';

/** The construct's default; see infra for why (EC2 delete buckets refill 5 per second). */
export const LOCAL_DELETION_MAX_CONCURRENCY = 5;
const LOCAL_ACCOUNT_ID = '000000000000';

/**
 * The account the local executions' ARNs name: the hub's when the stack knows it (so a run
 * without a target and a target run of the hub's own account take the same lock), else a
 * placeholder.
 */
export function localExecutionAccountId(stack: Pick<LocalStack, 'hubAccountId'>): string {
  return stack.hubAccountId ?? LOCAL_ACCOUNT_ID;
}

/** The lock key (`LOCK#<key>`) of a local run without a target: the executions' account in the stack's region. */
export function localLockKey(stack: Pick<LocalStack, 'hubAccountId' | 'region'>): string {
  return `${localExecutionAccountId(stack)}-${stack.region}`;
}

/** The runner's execution events (its EventLog type is not exported): what progress needs. */
export interface ExecutionEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly type?: string; readonly output?: unknown };
  /** Set for states inside a Map iteration. */
  readonly index?: number;
  /** Set for events of a child execution (`.sync:2`): its name. */
  readonly execution?: string;
  readonly Error?: string;
  readonly Cause?: unknown;
}

export interface LocalRunOptions {
  /** The execution input, as a manual start would give it. */
  readonly input: Record<string, unknown>;
  /** Default `manual-<UTC time>-<random>`; it is also the run id in the ledger. */
  readonly executionName?: string;
  readonly deletionMaxConcurrency?: number;
  /** DeleteBatch children running at once (the construct's default is 1). */
  readonly deleteBatchMaxConcurrency?: number;
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
  /**
   * Wraps each attempt of a `.sync:2` task (the child's name and input, and the start-and-wait):
   * fault-injection tests fail a child start, or lose its result, this way.
   */
  readonly aroundChildStart?: (
    stateName: string,
    child: { readonly name: string; readonly input: unknown },
    start: () => Promise<unknown>,
  ) => Promise<unknown>;
}

export interface LocalRunResult {
  readonly executionName: string;
  readonly executionArn: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  /** The execution's output: the run summary (or `{ status: 'SKIPPED_LOCKED' }`). */
  readonly output?: RunSummary | { readonly status: 'SKIPPED_LOCKED' };
  readonly error?: { readonly error: string; readonly cause: string };
  /** close-abandoned-run's answer for this execution, when it ended FAILED or ABORTED. */
  readonly closed?: CloseAbandonedRunResult;
  /** Each abnormal execution (this one or a child) whose close-abandoned-run threw; absent when none. */
  readonly closeErrors?: readonly string[];
}

class ExecutionStoppedError extends Error {
  override readonly name = 'ExecutionStopped';
}

/** A `.sync:2` child that failed, as Step Functions reports it to the parent's task. */
class ChildExecutionFailedError extends Error {
  override readonly name = 'States.TaskFailed';
}

/** StartExecution of a name already used with another input, or after that execution ended. */
class ExecutionAlreadyExistsError extends Error {
  override readonly name = 'StepFunctions.ExecutionAlreadyExistsException';
}

const START_CHILD_SYNC = 'arn:aws:states:::states:startExecution.sync:2';

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
  const allHandlers = [...STATE_MACHINE_HANDLERS, ...(stack.organization ? ORGANIZATION_HANDLERS : [])];
  const handlerByArn = new Map<string, StateMachineHandlerId | OrganizationHandlerId>(
    allHandlers.map((h) => [functionArn(h.id), h.id]),
  );
  const targetArn = `arn:aws:states:${stack.region}:${localExecutionAccountId(stack)}:stateMachine:ami-cleaner`;
  const deleteBatchArn = `${targetArn}-delete-batch`;
  // With targets the organization workflow is the one started; the target workflow is its child.
  const stateMachineArn = stack.organization ? `${targetArn}-organization` : targetArn;
  const stateMachineName = stateMachineArn.split(':').at(-1) as string;
  const values = {
    approvalTimeoutSeconds: stack.approvalTimeoutSeconds,
    deletionMaxConcurrency: options.deletionMaxConcurrency ?? LOCAL_DELETION_MAX_CONCURRENCY,
    deleteBatchMaxConcurrency: options.deleteBatchMaxConcurrency ?? 1,
    functionArns: {
      ...Object.fromEntries(allHandlers.map((h) => [h.stateMachinePlaceholder, functionArn(h.id)])),
      [DELETE_BATCH_STATE_MACHINE_PLACEHOLDER]: deleteBatchArn,
      [TARGET_STATE_MACHINE_PLACEHOLDER]: targetArn,
    },
  };
  const targetRendered = renderDefinition(values);
  const rendered = stack.organization
    ? renderDefinition(values, loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH))
    : targetRendered;
  const definition = withAwsTaskTimeouts(JSON.parse(rendered) as AslDefinition);
  const children = new Map([
    [deleteBatchArn, renderDefinition(values, loadDefinitionTemplate(DELETE_BATCH_DEFINITION_PATH))],
    ...(stack.organization ? [[targetArn, targetRendered] as const] : []),
  ]);

  const executionName = options.executionName ?? defaultExecutionName();
  const executionArn = `arn:aws:states:${stack.region}:${localExecutionAccountId(stack)}:execution:${stateMachineName}:${executionName}`;
  const taskToken = stack.control.taskTokens.issue();

  // Handler calls still running: after a stop they finish, as a Lambda would, before the close.
  const inFlight = new Set<Promise<unknown>>();
  let stopped = false;
  const track = <T>(call: Promise<T>): Promise<T> => {
    inFlight.add(call);
    const settled = () => inFlight.delete(call);
    call.then(settled, settled);
    return call;
  };
  const childRuns = new Map<string, { input: string; result: Promise<unknown>; abort: () => void }>();
  const closeErrors: string[] = [];
  /** What the AbandonedExecution rule does in AWS for an execution that ended abnormally. */
  const closeAbandoned = async (
    detail: ExecutionStatusChangeEvent['detail'],
  ): Promise<CloseAbandonedRunResult | undefined> => {
    try {
      return await stack.closeAbandonedRun({
        source: 'aws.states',
        'detail-type': 'Step Functions Execution Status Change',
        detail,
      });
    } catch (error) {
      closeErrors.push(`${detail.name}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  };
  const withCloseErrors = () => (closeErrors.length > 0 ? { closeErrors: [...closeErrors] } : {});

  /** Task overrides for one definition: Lambda tasks run their handler, `.sync:2` tasks a child. */
  const overridesFor = (states: AslDefinition) => {
    const taskHandlers: Record<string, (input: unknown) => Promise<never>> = {};
    const retryIntervalOverrides: Record<string, number> = {};
    for (const [stateName, state] of taskStates(states)) {
      if (options.retryIntervalMs !== undefined && state.Retry)
        retryIntervalOverrides[stateName] = options.retryIntervalMs;
      if (state.Resource === START_CHILD_SYNC) {
        taskHandlers[stateName] = async (input) => {
          if (stopped) throw new ExecutionStoppedError('the execution was stopped');
          const start = roundTrip(input) as ChildStart;
          const around = options.aroundChildStart;
          if (!around) return (await startChild(start)) as never;
          const child = { name: String(start.Name), input: start.Input ?? {} };
          return (await around(stateName, child, () => startChild(start))) as never;
        };
        continue;
      }
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
        announceApproval(stack, options.onApprovalRequested, taskToken, emailsBefore);
        return (await waitForDecision(stack, taskToken, state.TimeoutSeconds)) as never;
      };
    }
    return { taskResourceLocalHandlers: taskHandlers as never, retryIntervalOverrides };
  };

  /** StartExecution + wait, as `.sync:2`: the child definition run in-process. */
  const startChild = (start: ChildStart): Promise<unknown> => {
    const childRendered = children.get(String(start.StateMachineArn));
    if (!childRendered) throw new Error(`no child state machine ${String(start.StateMachineArn)}`);
    const name = String(start.Name);
    const input = JSON.stringify(start.Input ?? {});
    const earlier = childRuns.get(name);
    if (earlier) {
      if (earlier.input !== input) throw new ExecutionAlreadyExistsError(`execution ${name} already exists`);
      return earlier.result;
    }
    const childDefinition = withAwsTaskTimeouts(JSON.parse(childRendered) as AslDefinition);
    const childArn = `${start.StateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const childExecution = stateMachineFor(childRendered, childDefinition).run(JSON.parse(input), {
      overrides: overridesFor(childDefinition),
      context: {
        Execution: {
          Id: childArn,
          Name: name,
          StartTime: new Date().toISOString(),
          Input: JSON.parse(input),
        },
        StateMachine: { Id: start.StateMachineArn, Name: start.StateMachineArn.split(':').at(-1) },
      } as never,
    });
    const events = (async () => {
      for await (const event of childExecution.eventLogs)
        options.onEvent?.({ ...(event as ExecutionEvent), execution: name });
    })().catch(() => {});
    const result = (async () => {
      const startDate = new Date().toISOString();
      try {
        const output = await childExecution.result;
        await events;
        return {
          ExecutionArn: childArn,
          Name: name,
          Status: 'SUCCEEDED',
          StartDate: startDate,
          Output: output,
        };
      } catch (error) {
        await events;
        const aborted = error instanceof ExecutionAbortedError;
        // A stopped parent's close covers its aborted children; a failed target child is closed now.
        if (!aborted && start.StateMachineArn === targetArn)
          await closeAbandoned({ executionArn: childArn, name, status: 'FAILED', input });
        const cause = (error as { cause?: { name?: string; message?: string } }).cause;
        throw new ChildExecutionFailedError(
          JSON.stringify({
            ExecutionArn: childArn,
            Status: aborted ? 'ABORTED' : 'FAILED',
            Error: cause?.name ?? (error as Error).name,
            Cause: cause?.message ?? (error as Error).message,
          }),
        );
      }
    })();
    childRuns.set(name, { input, result, abort: () => childExecution.abort() });
    return result;
  };

  const machine = stateMachineFor(rendered, definition);
  const startTime = new Date().toISOString();
  const execution = machine.run(options.input as never, {
    overrides: overridesFor(definition),
    context: {
      Execution: { Id: executionArn, Name: executionName, StartTime: startTime, Input: options.input },
      StateMachine: { Id: stateMachineArn, Name: stateMachineName },
      Task: { Token: taskToken },
    } as never,
  });
  const stop = () => {
    stopped = true;
    if (stack.control.taskTokens.status(taskToken) === 'PENDING') stack.control.taskTokens.expire(taskToken);
    // `.sync` stops the children of a stopped execution.
    for (const child of childRuns.values()) child.abort();
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
    return {
      executionName,
      executionArn,
      status: 'SUCCEEDED',
      ...(output ? { output } : {}),
      ...withCloseErrors(),
    };
  } catch (error) {
    await events.catch(() => {});
    options.signal?.removeEventListener('abort', stop);
    if (!(error instanceof ExecutionAbortedError) && !(error instanceof ExecutionError)) throw error;
    const status = error instanceof ExecutionAbortedError ? 'ABORTED' : 'FAILED';
    // A Lambda keeps running after its execution ends: its calls finish before the close.
    await Promise.allSettled([...inFlight]);
    const closed = await closeAbandoned({ executionArn, name: executionName, status });
    const ended = { executionName, executionArn, ...(closed ? { closed } : {}), ...withCloseErrors() };
    if (status === 'ABORTED') return { ...ended, status };
    const cause = (error as { cause?: { name?: string; message?: string } }).cause;
    return {
      ...ended,
      status,
      error: { error: cause?.name ?? error.name, cause: cause?.message ?? error.message },
    };
  }
}

function roundTrip(value: unknown): unknown {
  return value === undefined ? {} : JSON.parse(JSON.stringify(value));
}

/** What a `.sync:2` task's Parameters resolve to. */
interface ChildStart {
  readonly StateMachineArn: string;
  readonly Name?: string;
  readonly Input?: unknown;
}
