/**
 * The local runner fails a Task without TimeoutSeconds after 60 s (aws-local-stepfunctions'
 * default) while its work goes on; Step Functions lets it run. A target's delete phase or a
 * DeleteBatch child takes minutes, so the runner must give such Tasks AWS's unbounded default.
 */
import { describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type AslState,
  LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS,
  withAwsTaskTimeouts,
} from '../../cli/local-runner/asl.ts';
import { loadDefinitionTemplate, ORGANIZATION_DEFINITION_PATH } from '../../infra/lib/definition.ts';

function tasks(definition: AslDefinition): Map<string, AslState> {
  const found = new Map<string, AslState>();
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task') found.set(name, state);
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) for (const [n, s] of tasks(inner)) found.set(n, s);
  }
  return found;
}

describe('the local runner and Task timeouts', () => {
  it('gives every child start of the organization workflow far more than the runner’s 60 s', () => {
    // Prepare
    // Placeholders are quoted strings: the template parses as it is.
    const parsed = JSON.parse(loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH)) as AslDefinition;
    const untimed = [...tasks(parsed)].filter(([, s]) => s.TimeoutSeconds === undefined).map(([n]) => n);

    // Act
    const timed = tasks(withAwsTaskTimeouts(parsed));

    // Assess: the `.sync:2` starts (inside the parent's Maps) had none and now run for days.
    expect(untimed).toEqual(expect.arrayContaining(['PlanTarget', 'DeleteTarget', 'CloseTarget']));
    for (const name of untimed) {
      expect(timed.get(name)?.TimeoutSeconds).toBe(LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS);
    }
    // Node's setTimeout fires at once past 2^31 - 1 ms, so the timer stays below it.
    expect(LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS * 1000).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS).toBeGreaterThan(24 * 3600);
  });

  it('keeps a Task’s own TimeoutSeconds or TimeoutSecondsPath and leaves other states alone', () => {
    // Prepare
    const definition: AslDefinition = {
      States: {
        Own: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSeconds: 900 },
        ByPath: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', TimeoutSecondsPath: '$.t' },
        Loop: {
          Type: 'Map',
          ItemProcessor: {
            States: { Child: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2' } },
          },
        },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const timed = withAwsTaskTimeouts(definition);

    // Assess
    expect(timed.States.Own?.TimeoutSeconds).toBe(900);
    expect(timed.States.ByPath?.TimeoutSeconds).toBeUndefined();
    expect(timed.States.Done).toEqual({ Type: 'Succeed' });
    expect(timed.States.Loop?.ItemProcessor?.States.Child?.TimeoutSeconds).toBe(
      LOCAL_DEFAULT_TASK_TIMEOUT_SECONDS,
    );
    // The input definition is not changed (the runner caches machines by their rendered text).
    expect(definition.States.Loop?.ItemProcessor?.States.Child?.TimeoutSeconds).toBeUndefined();
  });
});
