import { createRequire } from 'node:module';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import {
  DELETE_BATCH_DEFINITION_PATH,
  DELETE_BATCH_STATE_MACHINE_PLACEHOLDER,
  listPlaceholders,
  loadDefinitionTemplate,
  NUMERIC_PLACEHOLDERS,
  ORGANIZATION_DEFINITION_PATH,
  renderDefinition,
  TARGET_STATE_MACHINE_PLACEHOLDER,
} from '../../infra/lib/definition.ts';
import {
  type DefinitionId,
  handlersOf,
  ORGANIZATION_HANDLERS,
  STATE_MACHINE_HANDLERS,
} from '../../infra/lib/handlers.ts';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk parsed ASL and CloudFormation JSON.
type Json = Record<string, any>;
type AslValidator = (
  definition: unknown,
  options: { checkArn: boolean; checkPaths: boolean },
) => { isValid: boolean; errorsText: (separator?: string) => string };
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const APPROVAL_TIMEOUT_SECONDS = 86_400;
const MAX_CONCURRENCY = 7;
const DELETE_BATCH_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-cleaner-delete-batch';
const SYNC_START = 'arn:aws:states:::states:startExecution.sync:2';
const TARGET_RUN_ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:ami-cleaner';
const functionArns: Record<string, string> = {
  ...Object.fromEntries(
    [...STATE_MACHINE_HANDLERS, ...ORGANIZATION_HANDLERS].map((h) => [
      h.stateMachinePlaceholder,
      `arn:aws:lambda:eu-west-1:123456789012:function:ami-cleaner-${h.file}`,
    ]),
  ),
  [DELETE_BATCH_STATE_MACHINE_PLACEHOLDER]: DELETE_BATCH_ARN,
  [TARGET_STATE_MACHINE_PLACEHOLDER]: TARGET_RUN_ARN,
};
const childTemplate = () => loadDefinitionTemplate(DELETE_BATCH_DEFINITION_PATH);

/** `${Name}`, as written in the ASL file. */
const placeholder = (name: string) => `\${${name}}`;

function render(approvalTimeoutSeconds = APPROVAL_TIMEOUT_SECONDS, template?: string): Json {
  return JSON.parse(
    renderDefinition(
      { approvalTimeoutSeconds, deletionMaxConcurrency: MAX_CONCURRENCY, functionArns },
      template,
    ),
  ) as Json;
}

/** The DeleteBatch child, rendered with the same values. */
const renderChild = (): Json => render(APPROVAL_TIMEOUT_SECONDS, childTemplate());

/** The organization run (the parent of one target run per target and phase), 7 targets at once. */
const renderOrganization = (): Json =>
  JSON.parse(
    renderDefinition(
      {
        approvalTimeoutSeconds: APPROVAL_TIMEOUT_SECONDS,
        deletionMaxConcurrency: MAX_CONCURRENCY,
        targetMaxConcurrency: 7,
        functionArns,
      },
      loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH),
    ),
  ) as Json;

/**
 * Every state by name, including those inside Map item processors and those of the DeleteBatch
 * child a `.sync:2` task starts (names are unique across the run's definitions).
 */
function allStates(definition: Json): Map<string, Json> {
  const states = new Map<string, Json>();
  const visit = (machine: Json) => {
    for (const [name, state] of Object.entries(machine.States as Json)) {
      expect(states.has(name), `state name ${name} is used twice`).toBe(false);
      states.set(name, state as Json);
      if (state.ItemProcessor) visit(state.ItemProcessor);
      if (state.Resource === SYNC_START) {
        expect(state.Parameters.StateMachineArn).toBe(DELETE_BATCH_ARN);
        visit(renderChild());
      }
    }
  };
  visit(definition);
  return states;
}

/** Edges: Next, Default, Choices, Catch, and a Map into its item processor. */
function successors(state: Json): string[] {
  const next: string[] = [];
  if (state.Next) next.push(state.Next);
  if (state.Default) next.push(state.Default);
  for (const choice of state.Choices ?? []) next.push(choice.Next);
  for (const c of state.Catch ?? []) next.push(c.Next);
  if (state.ItemProcessor) next.push(state.ItemProcessor.StartAt);
  // A `.sync:2` task runs its child to the end before the task's own Next.
  if (state.Resource === SYNC_START) next.push(renderChild().StartAt);
  return next;
}

function reachable(
  states: Map<string, Json>,
  from: string,
  blocked: ReadonlySet<string> = new Set(),
): Set<string> {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (seen.has(name) || blocked.has(name)) continue;
    seen.add(name);
    stack.push(...successors(states.get(name) ?? {}));
  }
  return seen;
}

function functionOf(state: Json): string | undefined {
  return state.Parameters?.FunctionName;
}

const DELETION_FUNCTIONS = ['DeregisterImage', 'DeleteImageSnapshots', 'DeleteOrphanSnapshot'].map(
  (id) => functionArns[`${id}FunctionArn`],
);

function deletionStates(states: Map<string, Json>): string[] {
  return [...states].filter(([, s]) => DELETION_FUNCTIONS.includes(functionOf(s))).map(([name]) => name);
}

const DELETION_RETRY = [
  {
    ErrorEquals: [
      'TransientAwsError',
      'Lambda.TooManyRequestsException',
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      // A deletion can succeed and then time out before it is recorded; the retry records it.
      'Sandbox.Timedout',
    ],
    IntervalSeconds: 2,
    BackoffRate: 2,
    MaxAttempts: 3,
    MaxDelaySeconds: 60,
    JitterStrategy: 'FULL',
  },
  {
    // A crashed Lambda (out of memory, exit) may have deleted before dying: deletions are
    // idempotent, so one more attempt finishes or records it.
    ErrorEquals: ['Runtime.ExitError', 'Runtime.OutOfMemory', 'Lambda.Unknown'],
    IntervalSeconds: 5,
    BackoffRate: 2,
    MaxAttempts: 1,
    JitterStrategy: 'FULL',
  },
];

describe('the ASL file', () => {
  it('is valid ASL for asl-validator once its placeholders are filled: the run, its DeleteBatch child and the organization run', () => {
    for (const definition of [render(), renderChild(), renderOrganization()]) {
      // Act
      const result = aslValidator(definition, { checkArn: true, checkPaths: true });

      // Assess
      expect(result.errorsText('\n')).toBe('');
      expect(result.isValid).toBe(true);
      expect(JSON.stringify(definition)).not.toContain('${');
    }
  });

  it.each([
    [
      'target',
      loadDefinitionTemplate,
      [
        'ApprovalTimeoutSeconds',
        'DeleteBatchMaxConcurrency',
        'ExecutionTimeoutSeconds',
        DELETE_BATCH_STATE_MACHINE_PLACEHOLDER,
      ],
    ],
    ['deleteBatch', childTemplate, ['DeletionMaxConcurrency']],
    [
      'organization',
      () => loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH),
      [
        'ApprovalTimeoutSeconds',
        'ExecutionTimeoutSeconds',
        'TargetMaxConcurrency',
        TARGET_STATE_MACHINE_PLACEHOLDER,
      ],
    ],
  ] as const)(
    'the %s definition uses a placeholder for exactly the functions the registry says it invokes',
    (id, template, others) => {
      // Act
      const placeholders = listPlaceholders(template());

      // Assess
      const expected = [...handlersOf(id as DefinitionId).map((h) => h.stateMachinePlaceholder), ...others];
      expect(placeholders).toEqual([...expected].sort());
    },
  );

  it('gives every function of the registry to at least one definition, and every numeric placeholder a use', () => {
    // Act
    const used = new Set(
      [
        loadDefinitionTemplate(),
        childTemplate(),
        loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH),
      ].flatMap(listPlaceholders),
    );

    // Assess
    for (const spec of [...STATE_MACHINE_HANDLERS, ...ORGANIZATION_HANDLERS]) {
      expect(spec.usedBy.length, spec.id).toBeGreaterThan(0);
      expect(used.has(spec.stateMachinePlaceholder), spec.id).toBe(true);
    }
    for (const name of NUMERIC_PLACEHOLDERS) expect(used.has(name), name).toBe(true);
  });

  it('the organization workflow uses its own functions, RequestApproval and the target state machine', () => {
    // Act
    const placeholders = listPlaceholders(loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH));

    // Assess
    expect(placeholders.sort()).toEqual(
      [
        ...ORGANIZATION_HANDLERS.map((h) => h.stateMachinePlaceholder),
        'RequestApprovalFunctionArn',
        TARGET_STATE_MACHINE_PLACEHOLDER,
        'ApprovalTimeoutSeconds',
        'ExecutionTimeoutSeconds',
        'TargetMaxConcurrency',
      ].sort(),
    );
  });

  it('keeps numeric settings as whole-string placeholders and renders them as JSON numbers', () => {
    // Prepare
    const template = JSON.parse(loadDefinitionTemplate()) as Json;

    // Act
    const rendered = render();

    // Assess
    expect(template.States.RequestApproval.TimeoutSeconds).toBe(placeholder('ApprovalTimeoutSeconds'));
    expect(rendered.States.RequestApproval.TimeoutSeconds).toBe(APPROVAL_TIMEOUT_SECONDS);
    expect(rendered.States.DeleteBatches.MaxConcurrency).toBe(1);
    expect(renderChild().States.DeleteImages.MaxConcurrency).toBe(MAX_CONCURRENCY);
    expect(renderChild().States.DeleteOrphans.MaxConcurrency).toBe(MAX_CONCURRENCY);
    const organization = renderOrganization();
    for (const map of ['CollectReferences', 'PlanTargets', 'DeleteTargets', 'CloseTargets'])
      expect(organization.States[map].MaxConcurrency, map).toBe(7);
    expect(organization.States.RequestApproval.TimeoutSeconds).toBe(APPROVAL_TIMEOUT_SECONDS);
  });

  it('stays on what the local runner executes: JSONPath, no Assign, inline Maps only', () => {
    // Prepare
    const text = loadDefinitionTemplate() + childTemplate();
    const states = allStates(render());

    // Act
    const maps = [...states.values()].filter((s) => s.Type === 'Map');

    // Assess
    expect(text).not.toContain('"QueryLanguage"');
    expect(text).not.toContain('"Assign"');
    expect(text).not.toContain('ItemReader');
    expect(maps).toHaveLength(3);
    for (const map of maps) expect(map.ItemProcessor.ProcessorConfig).toEqual({ Mode: 'INLINE' });
  });

  it('never lets a raw Lambda response into the state: every invoke selects its result or drops it', () => {
    // Prepare
    const states = allStates(render());

    // Act
    const invokes = [...states].filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke');

    // Assess
    expect(invokes.length).toBeGreaterThan(10);
    for (const [name, state] of invokes) {
      expect(state.ResultSelector !== undefined || state.ResultPath === null, name).toBe(true);
    }
  });

  it("bounds every invoke by Lambda's 15-minute maximum, as AWS does and the local runner would not", () => {
    // Prepare: without TimeoutSeconds, aws-local-stepfunctions times a Task out after 60 s.
    const states = allStates(render());

    // Act
    const invokes = [...states].filter(([, s]) => s.Resource === 'arn:aws:states:::lambda:invoke');

    // Assess
    for (const [name, state] of invokes) expect(state.TimeoutSeconds, name).toBe(900);
  });
});

describe('deletion safety', () => {
  const states = allStates(render());

  it('has exactly three deletion tasks, each with its own retry with backoff and full jitter', () => {
    // Act
    const deletions = deletionStates(states);

    // Assess
    expect(deletions.sort()).toEqual(['DeleteOrphan', 'DeleteSnapshots', 'Deregister']);
    for (const name of deletions) {
      expect(states.get(name)?.Retry, name).toEqual(DELETION_RETRY);
    }
  });

  it('records a failed deletion on its item and ends that iteration successfully, so the Map goes on', () => {
    for (const name of deletionStates(states)) {
      // Prepare
      const catchers = states.get(name)?.Catch as Json[];

      // Act
      const recorder = states.get(catchers[0]?.Next);
      const afterRecording = reachable(states, catchers[0]?.Next);

      // Assess
      expect(catchers, name).toEqual([
        { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: expect.any(String) },
      ]);
      expect(functionOf(recorder ?? {}), name).toBe(functionArns.RecordFailureFunctionArn);
      expect(recorder?.Parameters.Payload['error.$']).toBe('$.error');
      const kinds = [...afterRecording].map((s) => states.get(s)?.Type);
      expect(kinds, name).not.toContain('Fail');
      expect(
        [...afterRecording].every((s) => states.get(s)?.End === true || states.get(s)?.Next),
        name,
      ).toBe(true);
    }
  });

  it('reaches no deletion without passing RequestApproval and then the decision Choice', () => {
    // Prepare
    const deletions = deletionStates(states);

    // Act
    const withoutApproval = reachable(states, 'AcquireLock', new Set(['RequestApproval']));
    const withoutDecision = reachable(states, 'AcquireLock', new Set(['ApprovedThisPlan?']));
    const everything = reachable(states, 'AcquireLock');

    // Assess
    for (const name of [...deletions, 'LoadApproved']) {
      expect(everything.has(name), name).toBe(true);
      expect(withoutApproval.has(name), name).toBe(false);
      expect(withoutDecision.has(name), name).toBe(false);
    }
  });

  it('enters LoadApproved only on an APPROVED decision for the exact recorded plan hash', () => {
    // Prepare
    const decision = states.get('ApprovedThisPlan?') as Json;

    // Act
    const predecessors = [...states]
      .filter(([, s]) => successors(s).includes('LoadApproved'))
      .map(([n]) => n);
    const toLoad = (decision.Choices as Json[]).filter((c) => c.Next === 'LoadApproved');

    // Assess
    // ResumeToDelete: a target run's delete phase, whose LoadApproved checks the parent's approval.
    expect(predecessors.sort()).toEqual(['ApprovedThisPlan?', 'ResumeToDelete']);
    const phase = states.get('Phase?') as Json;
    expect(
      (phase.Choices as Json[]).filter((c) => c.Next === 'ResumeToDelete').map((c) => JSON.stringify(c.And)),
    ).toEqual([
      JSON.stringify([
        { Variable: '$.phase', IsPresent: true },
        { Variable: '$.phase', StringEquals: 'delete' },
      ]),
    ]);
    expect(decision.Default).not.toBe('LoadApproved');
    expect(toLoad).toEqual([
      {
        And: [
          { Variable: '$.approval.decision', StringEquals: 'APPROVED' },
          { Variable: '$.approval.planHash', StringEqualsPath: '$.plan.planHash' },
        ],
        Next: 'LoadApproved',
      },
    ]);
  });

  it('waits for the approval with the configured timeout, and a timeout reaches Finalize without deleting', () => {
    // Prepare
    const request = states.get('RequestApproval') as Json;
    const timeoutCatch = (request.Catch as Json[])[0] as Json;

    // Act
    const onTimeout = reachable(states, timeoutCatch.Next, new Set(['Finalize']));

    // Assess
    expect(request.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
    expect(request.TimeoutSeconds).toBe(APPROVAL_TIMEOUT_SECONDS);
    expect(request.Parameters.Payload['taskToken.$']).toBe('$$.Task.Token');
    expect(timeoutCatch.ErrorEquals).toEqual(['States.Timeout']);
    expect(states.get(timeoutCatch.Next)?.Parameters.outcome).toBe('EXPIRED');
    expect(reachable(states, timeoutCatch.Next).has('Finalize')).toBe(true);
    for (const name of deletionStates(states)) expect(onTimeout.has(name)).toBe(false);
  });

  it('sends every step failing before or around deletion to FAILED, the lock release and a Fail state', () => {
    // Prepare
    const guarded = [
      'Inventory',
      'MapGroups',
      'FilterInUse',
      'Rotate',
      'RotateNextPass',
      'RecordPlan',
      'LoadApproved',
      'Finalize',
    ];

    // Act
    const failurePath = reachable(states, 'SetOutcomeFailed');

    // Assess
    for (const name of guarded) {
      expect(states.get(name)?.Catch, name).toContainEqual({
        ErrorEquals: ['States.ALL'],
        ResultPath: '$.error',
        Next: 'SetOutcomeFailed',
      });
    }
    expect(states.get('SetOutcomeFailed')?.Parameters.outcome).toBe('FAILED');
    const types = [...failurePath].map((s) => states.get(s)?.Type);
    expect(types).toContain('Fail');
    expect(types).not.toContain('Succeed');
    expect([...failurePath].map((s) => functionOf(states.get(s) ?? {}))).toContain(
      functionArns.ReleaseLockFunctionArn,
    );
    for (const name of deletionStates(states)) expect(failurePath.has(name)).toBe(false);
  });

  it('starts one DeleteBatch child per batch descriptor, with only the run id, the plan hash and the descriptor', () => {
    // Prepare
    const map = states.get('DeleteBatches') as Json;
    const start = map.ItemProcessor.States.DeleteBatch as Json;
    const child = renderChild();

    // Assess: the child's ids come from LoadBatch (which checks the descriptor's hash), never from the input.
    expect(states.get('LoadApproved')?.ResultSelector).toEqual({ 'batches.$': '$.Payload.batches' });
    expect(map.ItemsPath).toBe('$.work.batches');
    expect(map.ItemSelector).toEqual({
      'runId.$': '$.run.runId',
      'planHash.$': '$.plan.planHash',
      'batch.$': '$$.Map.Item.Value',
    });
    expect(start.Resource).toBe(SYNC_START);
    expect(start.Parameters).toEqual({
      StateMachineArn: DELETE_BATCH_ARN,
      'Name.$': '$.batch.executionName',
      Input: {
        'runId.$': '$.runId',
        'planHash.$': '$.planHash',
        'batch.$': '$.batch',
        'AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$': '$$.Execution.Id',
      },
    });
    expect(child.StartAt).toBe('LoadBatch');
    expect(child.States.LoadBatch.ResultPath).toBe('$.work');
    expect(child.States.DeleteImages.ItemsPath).toBe('$.work.images');
    expect(child.States.DeleteOrphans.ItemsPath).toBe('$.work.orphanSnapshots');
    // A failed child is caught in its iteration: its items are left for Finalize, the others go on.
    expect(start.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: null, Next: 'BatchNotFinished' },
    ]);
    expect(start.Retry.flatMap((r: Json) => r.ErrorEquals)).not.toContain('States.TaskFailed');
  });

  it("passes each deletion Map only the run id, the plan hash and LoadApproved's verified ids, and keeps no iteration output", () => {
    for (const [mapName, idKeys] of [
      ['DeleteImages', ['imageId', 'snapshotIds']],
      ['DeleteOrphans', ['snapshotId']],
    ] as const) {
      // Prepare
      const map = states.get(mapName) as Json;

      // Act
      const terminals = Object.values(map.ItemProcessor.States as Json).filter((s: Json) => s.End === true);

      // Assess
      expect(map.ItemSelector).toEqual({
        'runId.$': '$.runId',
        'planHash.$': '$.planHash',
        ...Object.fromEntries(idKeys.map((key) => [`${key}.$`, `$$.Map.Item.Value.${key}`])),
      });
      expect(map.ResultPath).toBeNull();
      // Up to 2000 iterations: their outputs must be {} to keep the Map's result far below 256 KiB.
      for (const terminal of terminals as Json[]) {
        expect(
          terminal.OutputPath === null || (terminal.Type === 'Pass' && terminal.Result),
          mapName,
        ).toBeTruthy();
      }
    }
  });
});

/** Runs the rendered definition in-process with stub Lambdas: the wiring, not the handlers. */
async function execute(options: {
  dryRun?: boolean;
  toDelete?: number;
  approval?: Json | 'timeout' | 'withdrawn';
  failingState?: string;
  /** Only fail calls whose payload carries this AMI id. */
  failingImageId?: string;
  acquired?: boolean;
}) {
  const calls: Json[] = [];
  const run = { runId: 'run-1', dryRun: options.dryRun ?? false };
  const lambda =
    (name: string, result: (payload: Json) => Json) =>
    async (input: Json): Promise<Json> => {
      calls.push({ state: name, payload: input.Payload });
      const imageMatches =
        options.failingImageId === undefined || input.Payload.imageId === options.failingImageId;
      if (options.failingState === name && imageMatches) {
        throw Object.assign(new Error(`${name} broke`), { name: 'PermanentError' });
      }
      return { Payload: result(input.Payload) };
    };
  const handlers: Record<string, (input: Json) => Promise<Json>> = {
    AcquireLock: lambda('AcquireLock', () => ({ acquired: options.acquired ?? true, run })),
    Inventory: lambda('Inventory', () => ({ inventoryKey: 'runs/run-1/inventory.json', counts: {} })),
    MapGroups: lambda('MapGroups', () => ({ groupsKey: 'runs/run-1/groups.json', groups: 1 })),
    FilterInUse: lambda('FilterInUse', () => ({ filteredKey: 'runs/run-1/filtered.json', inUse: 0 })),
    // Two passes: the first leaves reads for the next one (RotateDone? loops once).
    Rotate: lambda('Rotate', () => ({
      done: false,
      nextPass: 1,
      planKey: null,
      planHash: null,
      candidates: null,
      orphanSnapshots: null,
      kept: null,
    })),
    RotateNextPass: lambda('RotateNextPass', () => ({
      done: true,
      nextPass: null,
      planKey: 'runs/run-1/plan.json',
      planHash: 'hash-1',
      candidates: 2,
      orphanSnapshots: 1,
      kept: 3,
    })),
    RecordPlan: lambda('RecordPlan', () => ({
      planHash: 'hash-1',
      toDelete: options.toDelete ?? 3,
      deferred: 0,
    })),
    RequestApproval: async (input: Json) => {
      calls.push({ state: 'RequestApproval', payload: input.Payload });
      if (options.approval === 'timeout') return new Promise<Json>(() => {});
      if (options.approval === 'withdrawn') {
        // What SendTaskFailure(error: ApprovalWithdrawn) raises into the waiting task.
        throw Object.assign(new Error('the operator withdrew the approval request'), {
          name: 'ApprovalWithdrawn',
        });
      }
      return options.approval ?? { decision: 'APPROVED', planHash: 'hash-1', approver: 'alice@example.com' };
    },
    FinishEarlierRuns: lambda('FinishEarlierRuns', () => ({
      finished: 1,
      snapshotsDeleted: 2,
      gibFreed: 16,
      unfinished: 0,
    })),
    LoadApproved: lambda('LoadApproved', () => ({
      batches: [{ index: 0, executionName: 'run-1-delete-0', hash: 'batch-hash-0' }],
    })),
    LoadBatch: lambda('LoadBatch', () => ({
      images: [
        { imageId: 'ami-00000001', snapshotIds: ['snap-00000011'] },
        { imageId: 'ami-00000002', snapshotIds: [] },
      ],
      orphanSnapshots: [{ snapshotId: 'snap-00000001' }],
    })),
    // `.sync:2`: the child definition run with the same stubs, its output returned as JSON.
    DeleteBatch: async (input: Json) => {
      calls.push({ state: 'DeleteBatch', payload: input });
      const child = new StateMachine(renderChild() as never, {
        validationOptions: { checkArn: true, checkPaths: true },
      });
      const Output = await child.run(input.Input, {
        overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: {} },
        context: { Execution: { Id: `${DELETE_BATCH_ARN}:${input.Name}`, Name: input.Name } } as never,
      }).result;
      return { Output, Status: 'SUCCEEDED' };
    },
    Deregister: lambda('Deregister', (p) => ({ imageId: p.imageId, outcome: 'DEREGISTERED' })),
    DeleteSnapshots: lambda('DeleteSnapshots', (p) => ({ imageId: p.imageId, deleted: [], skipped: [] })),
    DeleteOrphan: lambda('DeleteOrphan', (p) => ({ snapshotId: p.snapshotId, outcome: 'DONE' })),
    RecordImageFailure: lambda('RecordImageFailure', () => ({})),
    RecordOrphanFailure: lambda('RecordOrphanFailure', () => ({})),
    Finalize: lambda('Finalize', (p) => ({ runId: p.run.runId, status: p.outcome })),
    FinalizeFailed: lambda('FinalizeFailed', (p) => ({ runId: p.run.runId, status: p.outcome })),
    ReleaseLock: lambda('ReleaseLock', () => ({})),
    ReleaseLockAfterFailure: lambda('ReleaseLockAfterFailure', () => ({})),
  };
  const machine = new StateMachine(
    render(options.approval === 'timeout' ? 1 : APPROVAL_TIMEOUT_SECONDS) as never,
    {
      validationOptions: { checkArn: true, checkPaths: true },
    },
  );
  const execution = machine.run(
    { dryRun: options.dryRun ?? false },
    {
      overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: {} },
      context: {
        Execution: { Id: 'arn:aws:states:eu-west-1:123456789012:execution:sm:run-1', Name: 'run-1' },
        Task: { Token: 'token-never-in-a-link' },
      } as never,
    },
  );
  let output: unknown;
  let error: Error | undefined;
  try {
    output = await execution.result;
  } catch (e) {
    error = e as Error;
  }
  const states = calls.map((c) => c.state);
  const payloadOf = (state: string) => calls.find((c) => c.state === state)?.payload as Json;
  return { output, error, states, calls, payloadOf };
}

describe('the definition executed locally with stub Lambdas', () => {
  it('deletes the approved plan item by item and ends with the summary', async () => {
    // Act
    const { output, states, payloadOf, calls } = await execute({});

    // Assess
    expect(output).toEqual({ runId: 'run-1', status: 'APPROVED' });
    expect(states.slice(states.indexOf('Rotate'), states.indexOf('RecordPlan') + 1)).toEqual([
      'Rotate',
      'RotateNextPass',
      'RecordPlan',
    ]);
    expect(payloadOf('RotateNextPass')).toMatchObject({ pass: 1, filteredKey: 'runs/run-1/filtered.json' });
    expect(payloadOf('RecordPlan')).toMatchObject({ planKey: 'runs/run-1/plan.json', planHash: 'hash-1' });
    expect(payloadOf('DeleteBatch')).toEqual({
      StateMachineArn: DELETE_BATCH_ARN,
      Name: 'run-1-delete-0',
      Input: {
        runId: 'run-1',
        planHash: 'hash-1',
        batch: { index: 0, executionName: 'run-1-delete-0', hash: 'batch-hash-0' },
        AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID:
          'arn:aws:states:eu-west-1:123456789012:execution:sm:run-1',
      },
    });
    expect(payloadOf('LoadBatch')).toEqual({
      runId: 'run-1',
      planHash: 'hash-1',
      batch: { index: 0, executionName: 'run-1-delete-0', hash: 'batch-hash-0' },
    });
    expect(calls.filter((c) => c.state === 'Deregister').map((c) => c.payload)).toEqual([
      { runId: 'run-1', planHash: 'hash-1', imageId: 'ami-00000001', snapshotIds: ['snap-00000011'] },
      { runId: 'run-1', planHash: 'hash-1', imageId: 'ami-00000002', snapshotIds: [] },
    ]);
    expect(payloadOf('DeleteOrphan')).toEqual({
      runId: 'run-1',
      planHash: 'hash-1',
      snapshotId: 'snap-00000001',
    });
    expect(payloadOf('RequestApproval')).toMatchObject({
      planHash: 'hash-1',
      taskToken: 'token-never-in-a-link',
    });
    expect(payloadOf('Finalize')).toEqual({
      run: { runId: 'run-1', dryRun: false },
      outcome: 'APPROVED',
      planHash: 'hash-1',
      approval: { decision: 'APPROVED', planHash: 'hash-1', approver: 'alice@example.com' },
      earlierRuns: { finished: 1, snapshotsDeleted: 2, gibFreed: 16, unfinished: 0 },
    });
    expect(states.at(-1)).toBe('ReleaseLock');
  });

  it.each([
    ['a rejection', { decision: 'REJECTED', planHash: 'hash-1', approver: 'bob@example.com' }, 'REJECTED'],
    [
      'an approval of another plan',
      { decision: 'APPROVED', planHash: 'hash-2', approver: 'eve' },
      'REJECTED',
    ],
    ['a timeout', 'timeout' as const, 'EXPIRED'],
    ['a withdrawal (not an expiry)', 'withdrawn' as const, 'WITHDRAWN'],
  ])('deletes nothing after %s', async (_label, approval, outcome) => {
    // Act
    const { output, states, payloadOf } = await execute({ approval });

    // Assess
    expect(output).toEqual({ runId: 'run-1', status: outcome });
    expect(payloadOf('Finalize').outcome).toBe(outcome);
    expect(states).not.toContain('LoadApproved');
    expect(states).not.toContain('Deregister');
    expect(states).toContain('ReleaseLock');
  });

  it.each([
    [{ dryRun: true }, 'DRY_RUN'],
    [{ toDelete: 0 }, 'NOTHING_TO_DELETE'],
  ])('finalizes without asking for approval for %o', async (options, outcome) => {
    // Act
    const { output, states } = await execute(options);

    // Assess
    expect(output).toEqual({ runId: 'run-1', status: outcome });
    expect(states).not.toContain('RequestApproval');
  });

  it('ends cleanly as SKIPPED_LOCKED, touching nothing, when another run holds the lock', async () => {
    // Act
    const { output, states } = await execute({ acquired: false });

    // Assess
    expect(output).toEqual({ status: 'SKIPPED_LOCKED' });
    expect(states).toEqual(['AcquireLock']);
  });

  it('fails the execution, records FAILED and releases the lock when a planning step fails', async () => {
    // Act
    const { error, states, payloadOf } = await execute({ failingState: 'Rotate' });

    // Assess
    expect(error?.message).toContain('Rotate broke');
    expect(payloadOf('FinalizeFailed')).toEqual({
      run: { runId: 'run-1', dryRun: false },
      outcome: 'FAILED',
      error: { Error: 'PermanentError', Cause: expect.stringContaining('Rotate broke') },
      earlierRuns: { finished: 1, snapshotsDeleted: 2, gibFreed: 16, unfinished: 0 },
    });
    expect(states).toContain('ReleaseLockAfterFailure');
    expect(states).not.toContain('RequestApproval');
  });

  it('records a permanent deregistration failure on that AMI and still handles the others', async () => {
    // Act
    const { output, calls } = await execute({ failingState: 'Deregister', failingImageId: 'ami-00000002' });

    // Assess
    expect(output).toEqual({ runId: 'run-1', status: 'APPROVED' });
    const failures = calls.filter((c) => c.state === 'RecordImageFailure').map((c) => c.payload);
    expect(failures).toEqual([
      {
        runId: 'run-1',
        planHash: 'hash-1',
        imageId: 'ami-00000002',
        error: { Error: 'PermanentError', Cause: expect.stringContaining('Deregister broke') },
      },
    ]);
    const snapshotDeletes = calls.filter((c) => c.state === 'DeleteSnapshots').map((c) => c.payload.imageId);
    expect(snapshotDeletes).toEqual(['ami-00000001']);
    expect(calls.some((c) => c.state === 'DeleteOrphan')).toBe(true);
  });
});

describe('finishing earlier runs and quotas', () => {
  const definition = render();
  const states = allStates(definition);

  it('finishes earlier runs on every path that holds the lock, before planning, and plans even if that fails', () => {
    // Act
    const lockChoice = states.get('LockAcquired?') as Json;
    const step = states.get('FinishEarlierRuns') as Json;
    const onFailure = states.get(step.Catch[0].Next) as Json;

    // Assess
    expect(lockChoice.Choices.map((c: Json) => c.Next)).toEqual(['FinishEarlierRuns']);
    expect(functionOf(step)).toBe(functionArns.FinishEarlierRunsFunctionArn);
    expect(step.Next).toBe('Inventory');
    expect(step.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], ResultPath: '$.earlierRuns', Next: expect.any(String) },
    ]);
    // Only the error name stays in the state: a Cause can be 32 KiB.
    expect(onFailure).toMatchObject({ Type: 'Pass', ResultPath: '$.earlierRuns', Next: 'Inventory' });
    expect(onFailure.Parameters['error.$']).toBe('$.earlierRuns.Error');
  });

  it('never copies the run context: every state that passes it reads $.run', () => {
    // Act
    const copies = [...states].filter(
      ([, state]) => state.Type === 'Pass' && JSON.stringify(state.Parameters ?? {}).includes('$.run'),
    );
    const finalizers = ['Finalize', 'FinalizeFailed'].map((name) => states.get(name)?.Parameters.Payload);

    // Assess
    expect(copies.map(([name]) => name)).toEqual([]);
    for (const payload of finalizers) expect(payload['run.$']).toBe('$.run');
  });

  it('treats a withdrawn approval as its own outcome, with no deletion reachable', () => {
    // Act
    const request = states.get('RequestApproval') as Json;
    const withdrawn = request.Catch.find((c: Json) => c.ErrorEquals.includes('ApprovalWithdrawn'));
    const after = reachable(states, withdrawn.Next);

    // Assess
    expect(states.get(withdrawn.Next)?.Parameters.outcome).toBe('WITHDRAWN');
    for (const name of deletionStates(states)) expect(after.has(name)).toBe(false);
    expect(after.has('ReleaseLock')).toBe(true);
  });
});
