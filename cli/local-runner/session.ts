/**
 * One local execution of the workflow as a person sees it: the approval page served on
 * 127.0.0.1, progress on stderr, the approval taken by link, by terminal prompt or scripted
 * (always through the page's own GET and POST), and the final report on stdout.
 */
import { createInterface } from 'node:readline';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { safeErrorMessage } from '../../functions/adapters/errors.ts';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import type { Plan } from '../../functions/core/model.ts';
import type { RecycleBinRetention } from '../../functions/core/recycle-bin.ts';
import type { PlanSettings } from '../../functions/core/settings.ts';
import { isAccountId } from '../../functions/core/target.ts';
import type { AccountEnvironment } from '../environment.ts';
import { AccountUnreachableError, RunInterruptedError, RunNotCompletedError } from '../errors.ts';
import type { CliIo } from '../io.ts';
import type { OrganizationEnvironment } from '../organization-environment.ts';
import { count, renderPlanReport } from '../report.ts';
import { startApprovalServer } from './approval-server.ts';
import type { ApprovalRequest } from './approval-wait.ts';
import { createLocalStack, type LocalOrganization, type LocalStack } from './local-stack.ts';
import { renderOrganizationReport } from './organization-report.ts';
import { renderRunReport } from './run-report.ts';
import { type ExecutionEvent, type LocalRunResult, runWorkflowLocally } from './run-workflow.ts';
import { answerApprovalLink } from './scripted-approver.ts';

const TERMINATING_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGHUP'];

/**
 * How the plan gets approved: `link` serves the page and waits for a click; `prompt` asks
 * `[y/N]` on the terminal; `yes` approves at once. `prompt` and `yes` POST the page's form,
 * so they pass the same signature, plan-hash and single-use checks as a click.
 */
export type ApprovalMode = 'link' | 'prompt' | 'yes';

export interface SessionOptions {
  readonly env: AccountEnvironment;
  readonly ledger: Ledger;
  readonly settings: PlanSettings;
  readonly approval: ApprovalMode;
  readonly dryRun?: boolean;
  readonly approvalTimeoutSeconds: number;
  readonly maxDeletionsPerRun?: number;
  /** Port for the approval page; 0 picks a free one. */
  readonly port?: number;
  /** Who approves in `yes` and `prompt` modes (recorded in the ledger; a comment with `approvers`). */
  readonly approver: string;
  /**
   * Named approvers, as the construct's `approvers`: one personal link each. Locally the person at
   * the terminal holds every approver's link (the simulated mailboxes), so `yes` and `prompt`
   * answer with the first `requiredApprovals` of them, each through its own link.
   */
  readonly approvers?: readonly string[];
  readonly requiredApprovals?: number;
  /** Reads one answer for `prompt` mode; undefined when stdin closes (which counts as no). */
  readonly readAnswer?: (question: string) => Promise<string | undefined>;
  readonly json?: boolean;
  readonly fullReport?: boolean;
  readonly retryIntervalMs?: number;
  /** `--recycle-bin-days`: the deletion steps tag what they delete for the Recycle Bin. */
  readonly recycleBin?: RecycleBinRetention;
  /** `--accounts`/`--ou`/`--regions`: an organization run over these targets, through the member role. */
  readonly organization?: OrganizationEnvironment;
}

/** The organization the run goes over: the demo's simulated one, or `--accounts`/`--ou` through the member role. */
function localOrganizationOf(options: SessionOptions): LocalOrganization | undefined {
  if (options.env.organization) return options.env.organization;
  const organization = options.organization;
  if (!organization) return undefined;
  return {
    selection: organization.targets.selection,
    // Resolved at run time by ResolveTargets, with the caller's credentials (OUs through Organizations).
    resolve: () => organization.resolveTargets(),
    hubAccountId: organization.hub.accountId,
    memberClientsFor: organization.memberClientsFor,
    roleName: organization.targets.roleName,
  };
}

/**
 * The account the local run works on: the simulated one, or the caller's (STS
 * GetCallerIdentity, which needs no permission). The local executions' ARNs name it, so the
 * run's lock (`<account>-<region>`) is the one a deployed run of the same account takes in a
 * shared `--ledger-table`. Unknown means no run: a lock under another key would not exclude.
 */
export async function localAccountId(env: AccountEnvironment): Promise<string> {
  if (env.simulated) return env.simulated.accountId;
  const sts = new STSClient({ region: env.region, credentials: env.clients.ec2.config.credentials });
  try {
    const account = (await sts.send(new GetCallerIdentityCommand({}))).Account;
    if (isAccountId(account)) return account;
    throw new Error('GetCallerIdentity named no account');
  } catch (error) {
    throw new AccountUnreachableError(
      `cannot tell which account this run works on: ${safeErrorMessage(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    sts.destroy();
  }
}

export async function runLocalSession(io: CliIo, options: SessionOptions): Promise<LocalRunResult> {
  // With targets the organization environment already asked STS who the caller is.
  const hubAccountId = options.organization?.hub.accountId ?? (await localAccountId(options.env));
  const progress = new Progress(io, !options.json && io.stderrIsTty);
  let stack: LocalStack | undefined;
  const server = await startApprovalServer(
    () => {
      if (!stack) throw new Error('the approval page was asked before the run started');
      return stack.approvalPage;
    },
    options.port === undefined ? {} : { port: options.port },
  );
  try {
    stack = createLocalStack({
      clients: options.env.clients,
      region: options.env.region,
      hubAccountId,
      ledger: options.ledger,
      ...(options.env.simulated ? { simulated: options.env.simulated } : {}),
      ...(localOrganizationOf(options) ? { organization: localOrganizationOf(options) } : {}),
      defaultSettings: options.settings,
      ...(options.maxDeletionsPerRun ? { maxDeletionsPerRun: options.maxDeletionsPerRun } : {}),
      approvalTimeoutSeconds: options.approvalTimeoutSeconds,
      approvalBaseUrl: server.baseUrl,
      ...(options.approvers
        ? { approvers: options.approvers, requiredApprovals: options.requiredApprovals ?? 1 }
        : {}),
      ...(options.recycleBin ? { recycleBin: options.recycleBin } : {}),
    });
    const local = stack;
    let decided: Promise<void> = Promise.resolve();
    let withdraw: (() => boolean) | undefined;
    // Ctrl-C while waiting for approval withdraws it: the run ends WITHDRAWN, records every item
    // and releases the lock. During deletions a first Ctrl-C lets the steps in progress finish; a
    // second one stops the execution, as StopExecution would: the handler calls in flight end,
    // then the run is closed (every item final, the lock released) before the process exits 130.
    const stop = new AbortController();
    let interrupts = 0;
    // Both return whether they did something; `cause` starts the line they print.
    const withdrawApproval = (cause: string): boolean => {
      if (!withdraw?.()) return false;
      io.err(`\n${cause}: the approval is withdrawn; nothing will be deleted\n`);
      return true;
    };
    const stopAtOnce = (cause: string): void => {
      if (stop.signal.aborted) return;
      io.err(`\n${cause}: recording the run as stopped and releasing the lock\n`);
      stop.abort();
    };
    const onInterrupt = () => {
      interrupts += 1;
      if (withdrawApproval('interrupted')) return;
      if (interrupts === 1)
        io.err('\ninterrupted: finishing the steps in progress; press Ctrl-C again to stop at once\n');
      else stopAtOnce('stopping');
    };
    // SIGTERM or SIGHUP (a CI job cancelled, a container stopped, the terminal closed) gives no
    // second chance: withdraw the approval, or stop at once. Either way the run is closed and the
    // lock released before the process exits, so the next run in the local store is not locked out.
    const onTerminate = (signal: NodeJS.Signals) => {
      if (!withdrawApproval(signal)) stopAtOnce(signal);
    };
    process.on('SIGINT', onInterrupt);
    for (const signal of TERMINATING_SIGNALS) process.on(signal, onTerminate);
    const result = await runWorkflowLocally(local, {
      input: { trigger: 'manual', ...(options.dryRun ? { dryRun: true } : {}) },
      signal: stop.signal,
      ...(options.retryIntervalMs === undefined ? {} : { retryIntervalMs: options.retryIntervalMs }),
      onEvent: (event) => progress.onEvent(event),
      onApprovalRequested: (request) => {
        withdraw = request.withdraw;
        decided = decide(io, local, options, request).catch((error: unknown) => {
          // The run keeps waiting until its timeout; say why nothing happens.
          io.err(`amicleaner: ${error instanceof Error ? error.message : String(error)}\n`);
        });
      },
    }).finally(() => {
      process.off('SIGINT', onInterrupt);
      for (const signal of TERMINATING_SIGNALS) process.off(signal, onTerminate);
    });
    withdraw = undefined;
    await decided;
    progress.done();
    // An organization run has no items of its own: each target run holds its own.
    // The lines are in the parent's ledger record: the execution's output carries the sums only.
    const targetRuns = local.organization
      ? ((await local.ledger.getRun(result.executionName))?.summary?.targets ?? [])
      : [];
    const items = local.organization
      ? (await Promise.all(targetRuns.map((t) => local.ledger.listItems(t.runId)))).flat()
      : await local.ledger.listItems(result.executionName);
    if (options.json) io.out(`${JSON.stringify({ ...result, items }, null, 2)}\n`);
    else if (local.organization)
      io.out(renderOrganizationReport(result, targetRuns, items, { width: io.columns }));
    else
      io.out(renderRunReport(result, items, { fullReport: options.fullReport ?? true, width: io.columns }));
    assertCompleted(result);
    return result;
  } finally {
    await server.close();
  }
}

async function decide(
  io: CliIo,
  stack: LocalStack,
  options: SessionOptions,
  request: ApprovalRequest,
): Promise<void> {
  const { link } = request;
  // The links that make the quorum: the shared one, or the first requiredApprovals personal ones.
  const quorum = request.links.slice(0, options.approvers ? (options.requiredApprovals ?? 1) : 1);
  const approveAll = async (how: string) => {
    for (const personal of quorum) {
      io.err(`Approving through the approval page as ${personal.approver ?? options.approver} (${how})\n`);
      await answerApprovalLink(personal.link, 'APPROVE', options.approver);
    }
  };
  if (options.approval === 'yes') return approveAll('--yes');
  if (options.approval === 'link') {
    const list = request.links
      .map((personal) =>
        personal.approver ? `  ${personal.approver}:\n  ${personal.link}\n` : `  ${personal.link}\n`,
      )
      .join('\n');
    io.err(
      `\nApproval requested. Open ${request.links.length === 1 ? 'this link' : "each approver's link"} to review the plan and approve or reject it\n` +
        `(${request.links.length === 1 ? 'it is the link the email carries' : "each is the link that approver's email carries"}; it expires in ${formatDuration(options.approvalTimeoutSeconds)}):\n\n${list}\n`,
    );
    return;
  }
  const plan = await planOfLink(stack, link);
  io.err(
    renderPlanReport(plan, {
      fullReport: options.fullReport ?? false,
      checkOrphans: options.settings.checkOrphans,
      width: io.columns,
    }),
  );
  const orphans = plan.totals.orphanSnapshots
    ? ` and ${count(plan.totals.orphanSnapshots, 'orphan snapshot')}`
    : '';
  const answer = await (options.readAnswer ?? readLine)(
    `Do you want to continue and remove ${count(plan.totals.candidates, 'AMI')}${orphans} [y/N] ? : `,
  );
  const yes = /^y(es)?$/i.test(answer?.trim() ?? '');
  if (answer === undefined) io.err('\nno answer (stdin closed): nothing will be deleted\n');
  if (yes) return approveAll('[y/N]');
  return answerApprovalLink(link, 'REJECT', options.approver);
}

/** The plan the link's approval is bound to: the one a [y/N] answer approves or rejects. */
async function planOfLink(stack: LocalStack, link: string): Promise<Plan> {
  const approvalId = new URL(link).searchParams.get('a');
  const approval = approvalId ? await stack.ledger.getApproval(approvalId) : undefined;
  if (!approval) throw new Error('the approval link names no recorded approval');
  const plan = await stack.workspace.getJson<Plan>(approval.planKey);
  if (plan.planHash !== approval.planHash) throw new Error('the approval is bound to another plan');
  return plan;
}

/** One line from stdin; undefined if stdin is closed or ends first. */
function readLine(question: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    process.stderr.write(question);
    if (process.stdin.readableEnded || process.stdin.destroyed) return resolve(undefined);
    const rl = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    rl.once('line', (line) => {
      answered = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => {
      if (!answered) resolve(undefined);
    });
  });
}

/** A run that did not end in deletion exits non-zero, with the reason. */
function assertCompleted(result: LocalRunResult): void {
  if (result.closeErrors) {
    throw new RunNotCompletedError(
      `run ${result.executionName} ended ${result.status}, and closing what it left failed (${result.closeErrors.join('; ')}): ` +
        'a lock may stay held until its lease ends',
    );
  }
  if (result.status === 'FAILED') {
    throw new RunNotCompletedError(
      `run ${result.executionName} failed: ${result.error?.error}: ${result.error?.cause}`,
    );
  }
  if (result.status === 'ABORTED') {
    throw new RunInterruptedError(
      `run ${result.executionName} was stopped: its items are recorded FAILED and the lock is released; the next run finishes what was deregistered`,
    );
  }
  const status = result.output?.status;
  if (status === 'REJECTED')
    throw new RunNotCompletedError(`run ${result.executionName} was rejected: nothing was deleted`);
  if (status === 'EXPIRED') {
    throw new RunNotCompletedError(
      `run ${result.executionName} expired before approval: nothing was deleted`,
    );
  }
  if (status === 'WITHDRAWN') {
    throw new RunNotCompletedError(
      `run ${result.executionName} was withdrawn before approval: nothing was deleted`,
    );
  }
  if (status === 'SKIPPED_LOCKED') {
    throw new RunNotCompletedError('another run holds the lock of this account and region: nothing was done');
  }
}

function formatDuration(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/** State-by-state progress on an interactive stderr, with live deletion counts. */
class Progress {
  private readonly counts = { Deregister: 0, DeleteSnapshots: 0, DeleteOrphan: 0 };
  private readonly started = new Map<string, number>();
  private live = false;

  constructor(
    private readonly io: CliIo,
    private readonly enabled: boolean,
  ) {}

  onEvent(event: ExecutionEvent): void {
    if (!this.enabled || !event.state) return;
    // A child execution's states say whose they are: `<account>-<region> <phase>: State`.
    const child = event.execution ? childLabel(event.execution) : undefined;
    const name = child ? `${child}: ${event.state.name}` : event.state.name;
    const stateName = event.state.name;
    if (event.index !== undefined) {
      if (event.type === 'StateExited' && stateName in this.counts) {
        this.counts[stateName as keyof typeof this.counts] += 1;
        // One line rewritten in place: the counts as they happen.
        this.io.err(
          `\r  deleting: ${count(this.counts.Deregister, 'AMI')} deregistered, snapshots of ` +
            `${count(this.counts.DeleteSnapshots, 'AMI')} deleted, ` +
            `${count(this.counts.DeleteOrphan, 'orphan snapshot')} deleted`,
        );
        this.live = true;
      }
      if (event.type === 'StateRetried') this.line(`  retrying ${name} (${event.Error ?? 'error'})`);
      return;
    }
    if (event.type === 'StateEntered') {
      this.started.set(name, Date.now());
      if (stateName === 'RequestApproval') this.line('… RequestApproval: waiting for a decision');
    }
    // Tasks and Maps are the steps a person follows; Choice and Pass states are bookkeeping.
    if (event.type === 'StateExited' && (event.state.type === 'Task' || event.state.type === 'Map')) {
      const ms = Date.now() - (this.started.get(name) ?? Date.now());
      this.line(`✓ ${name} (${ms} ms)`);
    }
    if (event.type === 'StateFailed') this.line(`✗ ${name}: ${event.Error ?? 'failed'}`);
  }

  done(): void {
    if (this.live) this.io.err('\n');
    this.live = false;
  }

  private line(text: string): void {
    if (this.live) this.io.err('\n');
    this.live = false;
    this.io.err(`${text}\n`);
  }
}

/** `210987654321-eu-west-1 plan` for a target run's child, `… batch 3` for a DeleteBatch child. */
function childLabel(execution: string): string {
  const target = /^([0-9]{12}-[a-z]{2}(?:-[a-z]+)+-[0-9]{1,2})-/.exec(execution)?.[1];
  const batch = /-(\d+)$/.exec(execution)?.[1];
  const phase =
    /-(plan|delete|close)$/.exec(execution)?.[1] ?? (batch === undefined ? undefined : `batch ${batch}`);
  if (!target) return phase ?? execution;
  return phase ? `${target} ${phase}` : target;
}
