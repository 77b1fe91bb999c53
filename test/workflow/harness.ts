/**
 * One isolated world per workflow test: the rich simulated account behind real SDK clients, the
 * ledger on dynalite, every handler wired by the local runner's `createLocalStack`, and the real
 * approval page on a loopback port. `run()` executes the real ASL file through
 * `runWorkflowLocally` and answers the emailed link the way a person does (GET, then form POST).
 */
import { expect } from 'vitest';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { type ApprovalServer, startApprovalServer } from '../../cli/local-runner/approval-server.ts';
import type { ApprovalRequest } from '../../cli/local-runner/approval-wait.ts';
import { createLocalStack, type LocalStack } from '../../cli/local-runner/local-stack.ts';
import {
  type ExecutionEvent,
  type LocalRunResult,
  runWorkflowLocally,
} from '../../cli/local-runner/run-workflow.ts';
import { answerApprovalLink, type ScriptedDecision } from '../../cli/local-runner/scripted-approver.ts';
import { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { type RichScenario, richScenario } from '../../cli/simulated-account/seeds.ts';
import { createAwsClients, DEFAULT_MAX_ATTEMPTS } from '../../functions/adapters/clients.ts';
import type { Ledger, LedgerItem, RunRecord } from '../../functions/adapters/ledger/index.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';

export const APPROVER = 'Ada Lovelace';

export interface HarnessOptions {
  /** The approval task's TimeoutSeconds. Default 10: long enough for any scripted answer. */
  readonly approvalTimeoutSeconds?: number;
  /** The SDK's own attempts per EC2 call. Default: the production value (DEFAULT_MAX_ATTEMPTS). */
  readonly sdkMaxAttempts?: number;
  /** Named approvers (personal links); `run()` then answers the first `requiredApprovals` links. */
  readonly approvers?: readonly string[];
  readonly requiredApprovals?: number;
}

export interface RunOptions {
  readonly input?: Record<string, unknown>;
  readonly executionName?: string;
  /** How the scripted approver answers the emailed link; `NONE` leaves it unanswered. Default APPROVE. */
  readonly decision?: ScriptedDecision | 'NONE';
  /** Runs once the approval email is sent, before the link is answered (races, second executions). */
  readonly beforeAnswer?: (request: ApprovalRequest) => Promise<void> | void;
  readonly deletionMaxConcurrency?: number;
  /** Replaces some step handlers for this execution (e.g. to simulate a Lambda crash). */
  readonly handlers?: (real: LocalStack['handlers']) => Partial<LocalStack['handlers']>;
  /** Stops the execution when aborted (StopExecution, then close-abandoned-run). */
  readonly signal?: AbortSignal;
}

export interface Execution {
  readonly result: LocalRunResult;
  readonly runId: string;
  readonly events: readonly ExecutionEvent[];
  /** Every approval email of this execution (zero or one). */
  readonly approvals: readonly ApprovalRequest[];
}

export interface WorkflowHarness {
  readonly account: SimulatedAccount;
  readonly scenario: RichScenario;
  readonly stack: LocalStack;
  readonly ledger: Ledger;
  /** Snapshot ids of every AMI as seeded, so assertions survive the AMI's deregistration. */
  readonly snapshotsOf: (imageId: string) => readonly string[];
  readonly seededImageIds: readonly string[];
  readonly seededSnapshotIds: readonly string[];
  /** Size of a seeded snapshot, even after its deletion. */
  readonly sizeOf: (snapshotId: string) => number;
  run(options?: RunOptions): Promise<Execution>;
  /** The run's ledger items by id (AMI or snapshot id). */
  items(runId: string): Promise<Map<string, LedgerItem>>;
  runRecord(runId: string): Promise<RunRecord | undefined>;
  /** Ids named by the calls of `command` (e.g. DeregisterImage -> ImageId), successful ones only unless `all`. */
  calledIds(command: 'DeregisterImage' | 'DeleteSnapshot', options?: { all?: boolean }): string[];
  /** EC2 calls that changed or tried to change the account (SNS/SFN control-plane calls left out). */
  ec2Mutations(): string[];
  stop(): Promise<void>;
}

export async function startWorkflowHarness(options: HarnessOptions = {}): Promise<WorkflowHarness> {
  const account = new SimulatedAccount();
  const scenario = richScenario(account, { now: new Date() });
  const clients = createAwsClients({
    region: account.region,
    credentials: { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' },
    maxAttempts: options.sdkMaxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  });
  for (const client of Object.values(clients)) account.attach(client);
  const seededSnapshots = new Map(
    [...account.images.values()].map((image) => [
      image.imageId,
      image.blockDeviceMappings.map((device) => device.snapshotId),
    ]),
  );

  const seededSizes = new Map(
    [...account.snapshots.values()].map((snapshot) => [snapshot.snapshotId, snapshot.volumeSizeGiB]),
  );

  const local: LocalLedger = await startLocalLedger();
  let stack: LocalStack | undefined;
  let server: ApprovalServer | undefined;
  try {
    server = await startApprovalServer(() => (stack as LocalStack).approvalPage);
    const settings: PlanSettings = {
      ...DEFAULT_PLAN_SETTINGS,
      checkOrphans: true,
      ssmParameterPaths: [scenario.ssmParameterPath],
    };
    stack = createLocalStack({
      clients,
      region: account.region,
      ledger: local.ledger,
      simulated: account,
      defaultSettings: settings,
      approvalTimeoutSeconds: options.approvalTimeoutSeconds ?? 10,
      approvalBaseUrl: server.baseUrl,
      ...(options.approvers
        ? { approvers: options.approvers, requiredApprovals: options.requiredApprovals ?? 1 }
        : {}),
    });
  } catch (error) {
    await server?.close();
    await local.stop();
    throw error;
  }
  const readyStack = stack;
  const readyServer = server;
  let executions = 0;

  return {
    account,
    scenario,
    stack: readyStack,
    ledger: local.ledger,
    snapshotsOf: (imageId) => seededSnapshots.get(imageId) ?? [],
    seededImageIds: [...seededSnapshots.keys()],
    seededSnapshotIds: [...seededSizes.keys()],
    sizeOf: (snapshotId) => seededSizes.get(snapshotId) ?? Number.NaN,

    async run(runOptions = {}) {
      executions += 1;
      const events: ExecutionEvent[] = [];
      const approvals: ApprovalRequest[] = [];
      const decision = runOptions.decision ?? 'APPROVE';
      let answering: Promise<void> = Promise.resolve();
      const stack: LocalStack = runOptions.handlers
        ? { ...readyStack, handlers: { ...readyStack.handlers, ...runOptions.handlers(readyStack.handlers) } }
        : readyStack;
      const result = await runWorkflowLocally(stack, {
        input: runOptions.input ?? {},
        executionName: runOptions.executionName ?? `test-run-${executions}`,
        retryIntervalMs: 0,
        ...(runOptions.deletionMaxConcurrency === undefined
          ? {}
          : { deletionMaxConcurrency: runOptions.deletionMaxConcurrency }),
        ...(runOptions.signal ? { signal: runOptions.signal } : {}),
        onEvent: (event) => events.push(event),
        onApprovalRequested: (request) => {
          approvals.push(request);
          answering = (async () => {
            await runOptions.beforeAnswer?.(request);
            if (decision === 'NONE') return;
            // A rejection takes one approver; an approval the quorum, each through its own link.
            const answering = decision === 'REJECT' ? 1 : (options.requiredApprovals ?? 1);
            for (const { link } of request.links.slice(0, answering))
              await answerApprovalLink(link, decision, APPROVER);
          })();
          // Surfaced after the run; until then a failed answer shows as an expired approval.
          answering.catch(() => undefined);
        },
      });
      await answering;
      return { result, runId: result.executionName, events, approvals };
    },

    async items(runId) {
      return new Map((await local.ledger.listItems(runId)).map((item) => [item.id, item]));
    },

    runRecord: (runId) => local.ledger.getRun(runId),

    calledIds(command, { all = false } = {}) {
      const field = command === 'DeregisterImage' ? 'ImageId' : 'SnapshotId';
      return account
        .callsTo(command)
        .filter((call) => all || call.error === undefined)
        .map((call) => String(call.input[field]));
    },

    ec2Mutations() {
      return account
        .mutatingCalls()
        .filter((call) => call.service === 'EC2')
        .map((call) => call.command);
    },

    async stop() {
      await readyServer.close();
      await local.stop();
    },
  };
}

/** Names of the states that emitted `type` (e.g. StateRetried), in order. */
export function statesWith(events: readonly ExecutionEvent[], type: string): string[] {
  return events.filter((event) => event.type === type).map((event) => event.state?.name ?? '');
}

/** Nothing was deregistered or deleted: no such call at all, and every seeded resource is there. */
export function expectNothingDeleted(h: WorkflowHarness): void {
  expect(h.account.callsTo('DeregisterImage')).toEqual([]);
  expect(h.account.callsTo('DeleteSnapshot')).toEqual([]);
  expect(h.ec2Mutations()).toEqual([]);
  expect(h.seededImageIds.filter((id) => !h.account.images.has(id))).toEqual([]);
  expect(h.seededSnapshotIds.filter((id) => !h.account.snapshots.has(id))).toEqual([]);
}
