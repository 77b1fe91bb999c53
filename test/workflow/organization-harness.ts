/**
 * One isolated organization per test: the simulated organization of `organizationScenario`
 * (a golden-AMI account and two workload accounts in two regions, OUs, member roles), the hub
 * wired by `simulatedHub`, the ledger on dynalite, and the real approval page. `run()` executes
 * statemachine/organization.asl.json, whose target runs execute statemachine/ami-cleaner.asl.json
 * in-process, and answers the one emailed link the way a person does.
 */
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { type ApprovalServer, startApprovalServer } from '../../cli/local-runner/approval-server.ts';
import type { ApprovalRequest } from '../../cli/local-runner/approval-wait.ts';
import { createLocalStack, type LocalStack } from '../../cli/local-runner/local-stack.ts';
import {
  type ExecutionEvent,
  type LocalRunOptions,
  type LocalRunResult,
  runWorkflowLocally,
} from '../../cli/local-runner/run-workflow.ts';
import { answerApprovalLink, type ScriptedDecision } from '../../cli/local-runner/scripted-approver.ts';
import { SimulatedOrganization } from '../../cli/simulated-account/organization.ts';
import { simulatedHub } from '../../cli/simulated-account/organization-hub.ts';
import {
  type OrganizationScenario,
  organizationScenario,
} from '../../cli/simulated-account/organization-seeds.ts';
import type { Ledger, RunRecord } from '../../functions/adapters/ledger/index.ts';
import { targetRunId } from '../../functions/core/organization-run.ts';
import { DEFAULT_PLAN_SETTINGS, type PlanSettings } from '../../functions/core/settings.ts';
import { type Target, target, validateTargetSelection } from '../../functions/core/target.ts';

export const HUB_REGION = 'eu-west-1';

export interface OrganizationHarness {
  readonly organization: SimulatedOrganization;
  readonly scenario: OrganizationScenario;
  readonly stack: LocalStack;
  readonly ledger: Ledger;
  /** Every target of the selection, in target order. */
  readonly targets: readonly Target[];
  run(options?: OrganizationRunOptions): Promise<OrganizationExecution>;
  /** The target run of `each` in organization run `runId`. */
  targetRun(runId: string, each: Target): Promise<RunRecord | undefined>;
  /** Ids of images of `each` that exist now. */
  imagesOf(each: Target): Set<string>;
  stop(): Promise<void>;
}

export interface OrganizationRunOptions {
  readonly executionName?: string;
  readonly input?: Record<string, unknown>;
  readonly decision?: ScriptedDecision | 'NONE';
  readonly beforeAnswer?: (request: ApprovalRequest) => Promise<void> | void;
  /** Stops the organization execution when aborted (StopExecution, then close-abandoned-run). */
  readonly signal?: AbortSignal;
  readonly aroundChildStart?: LocalRunOptions['aroundChildStart'];
}

export interface OrganizationExecution {
  readonly result: LocalRunResult;
  readonly runId: string;
  readonly events: readonly ExecutionEvent[];
  readonly approvals: readonly ApprovalRequest[];
}

export interface OrganizationHarnessOptions {
  /** Default: the Platform and Workloads OUs (the suspended account is left out by Organizations). */
  readonly selection?: (scenario: OrganizationScenario) => {
    accounts?: string[];
    organizationalUnits?: string[];
    regions: string[];
  };
  /** Changes to the organization before the hub starts (a denied role, an unlistable OU). */
  readonly prepare?: (organization: SimulatedOrganization, scenario: OrganizationScenario) => void;
  readonly settings?: Partial<PlanSettings>;
  /** How long the one approval waits before the run expires (default 20 s). */
  readonly approvalTimeoutSeconds?: number;
  /** Fault injection: sees every SDK client (hub, member roles, ledger) and wraps every invocation. */
  readonly instrument?: HarnessInstrument;
}

/** What test/fault's FaultInjector offers; the harness needs no more of it. */
export interface HarnessInstrument {
  attach(client: never): unknown;
  within<R>(state: string, invoke: () => Promise<R>): Promise<R>;
}

export async function startOrganizationHarness(
  options: OrganizationHarnessOptions = {},
): Promise<OrganizationHarness> {
  // The SDK checks an assumed role's Expiration against the real clock: the simulated one starts now.
  const organization = new SimulatedOrganization({ seed: 'organization-workflow' });
  const scenario = organizationScenario(organization, { now: new Date() });
  // Reports are ready at once, so Rotate's bounded wait does not slow the tests.
  organization.usageReports.readyAfterMs = 0;
  options.prepare?.(organization, scenario);
  const { instrument } = options;
  if (instrument) {
    // Every client the organization serves (the hub's and each member role's) gets the instrument.
    const attachToOrganization = organization.attach.bind(organization);
    organization.attach = ((client: Parameters<typeof attachToOrganization>[0], as) => {
      attachToOrganization(client, as);
      instrument.attach(client as never);
      return client;
    }) as typeof organization.attach;
  }
  const selection = validateTargetSelection(
    options.selection?.(scenario) ?? {
      organizationalUnits: [scenario.ous.platform, scenario.ous.workloads],
      regions: [...scenario.regions],
    },
  );
  const hub = simulatedHub(organization, { region: HUB_REGION, selection, roleName: scenario.roleName });
  const targets = [scenario.golden.accountId, ...scenario.workloads.map((w) => w.accountId)]
    .filter((id) => selection.accounts.includes(id) || selection.organizationalUnits.length > 0)
    .flatMap((id) => selection.regions.map((region) => target(id, region)));

  const local: LocalLedger = await startLocalLedger();
  instrument?.attach(local.client as never);
  let stack: LocalStack | undefined;
  let server: ApprovalServer | undefined;
  try {
    server = await startApprovalServer(() => async (event) => {
      const page = (stack as LocalStack).approvalPage;
      if (!instrument) return page(event);
      try {
        return await instrument.within('ApprovalPage', () => page(event));
      } catch {
        // A Function URL answers a crashed or failed invocation with 502.
        return { statusCode: 502, headers: {}, body: 'Internal Server Error' };
      }
    });
    stack = createLocalStack({
      clients: hub.clients,
      region: HUB_REGION,
      ledger: local.ledger,
      simulated: organization.account(organization.managementAccountId, HUB_REGION),
      defaultSettings: {
        ...DEFAULT_PLAN_SETTINGS,
        mappingValues: ['Team', 'Role'],
        sharedAmis: 'delete-when-unused',
        ...options.settings,
      },
      approvalTimeoutSeconds: options.approvalTimeoutSeconds ?? 20,
      // A report that never completes is waited for briefly, not Rotate's production 180 s.
      usageReports: { maxWaitMs: 300, pollIntervalMs: 50 },
      approvalBaseUrl: server.baseUrl,
      organization: hub.organization,
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
    organization,
    scenario,
    stack: readyStack,
    ledger: local.ledger,
    targets,
    async run(runOptions = {}) {
      executions += 1;
      const executionName = runOptions.executionName ?? `org-run-${executions}`;
      const events: ExecutionEvent[] = [];
      const approvals: ApprovalRequest[] = [];
      const decision = runOptions.decision ?? 'APPROVE';
      let answering: Promise<void> = Promise.resolve();
      const result = await runWorkflowLocally(readyStack, {
        input: runOptions.input ?? {},
        executionName,
        retryIntervalMs: 0,
        ...(runOptions.signal ? { signal: runOptions.signal } : {}),
        ...(instrument ? { aroundTask: (state, invoke) => instrument.within(state, invoke) } : {}),
        ...(runOptions.aroundChildStart ? { aroundChildStart: runOptions.aroundChildStart } : {}),
        onEvent: (event) => events.push(event),
        onApprovalRequested: (request) => {
          approvals.push(request);
          answering = (async () => {
            await runOptions.beforeAnswer?.(request);
            if (decision === 'NONE') return;
            await answerApprovalLink(request.link, decision, 'Grace Hopper');
          })();
          answering.catch(() => undefined);
        },
      });
      await answering;
      return { result, runId: executionName, events, approvals };
    },
    targetRun: (runId, each) => local.ledger.getRun(targetRunId(each, runId)),
    imagesOf: (each) =>
      new Set([...organization.account(each.accountId, each.region).images.values()].map((i) => i.imageId)),
    async stop() {
      await readyServer.close();
      await local.stop();
    },
  };
}
