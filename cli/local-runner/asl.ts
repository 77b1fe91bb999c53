/**
 * The ASL shapes the local runner reads, and what it does to a definition before running it:
 * AWS's Task timeout default, and one validated aws-local-stepfunctions machine per rendering.
 */
import { StateMachine } from 'aws-local-stepfunctions';

/** Validating a definition takes about a second; each rendered definition is validated once. */
const machines = new Map<string, StateMachine>();

export function stateMachineFor(rendered: string, definition: AslDefinition): StateMachine {
  let machine = machines.get(rendered);
  if (!machine) {
    machine = new StateMachine(definition as never, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
    machines.set(rendered, machine);
  }
  return machine;
}

export interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly Retry?: unknown[];
  readonly ItemProcessor?: { readonly States: Record<string, AslState> };
  readonly Iterator?: { readonly States: Record<string, AslState> };
}
export interface AslDefinition {
  readonly States: Record<string, AslState>;
}

/**
 * The runner gives a Task without TimeoutSeconds 60 s and then fails it with States.Timeout while
 * its work goes on; Step Functions' default is 99,999,999 s. A `.sync:2` child (a target's delete
 * phase, a DeleteBatch) runs for minutes, so such Tasks get the longest timer Node can set instead.
 */
export const LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

export function withAwsTaskTimeouts<T extends AslDefinition>(definition: T): T {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      const inner = state.ItemProcessor ?? state.Iterator;
      const timed =
        state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined
          ? { ...state, TimeoutSeconds: LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS }
          : state;
      if (!inner) return [name, timed];
      const key = state.ItemProcessor ? 'ItemProcessor' : 'Iterator';
      return [name, { ...timed, [key]: withAwsTaskTimeouts(inner) }];
    }),
  );
  return { ...definition, States: states };
}

/** Every Task state, Map iterations included (state names are unique across the file). */
export function* taskStates(definition: {
  readonly States: Record<string, AslState>;
}): Generator<[string, AslState]> {
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') yield [name, state];
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) yield* taskStates(inner);
  }
}
