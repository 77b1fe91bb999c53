/**
 * The fault matrix of the organization workflow, generated like matrix.ts: rows are state ×
 * service × fault × position, where the states are the Lambda Task states of
 * statemachine/organization.asl.json, the target workflow's phase states only an organization
 * run reaches (ResumeTargetRun), the approval page, and the `.sync:2` child starts (PlanTarget,
 * DeleteTarget, CloseTarget), and the services are those each state was seen calling in a
 * fault-free probe. The target workflow's other states are the single-target matrix's rows.
 *
 * Sampled, not exploded: a Lambda state gets, per service, one transient fault kind (throttling,
 * server error and timeout take turns) and the three others at its first call (a Map state's
 * later item too for the faults that leave an effect behind), a child start every child fault at
 * its first and a later target. The invariants hold per target and for the whole run.
 */
import type { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import type { RunRecord } from '../../functions/adapters/ledger/index.ts';
import { FINAL_ITEM_STATUSES } from '../../functions/core/workflow.ts';
import { type OrganizationHarness, startOrganizationHarness } from '../workflow/organization-harness.ts';
import {
  CHILD_START_FAULTS,
  CHILD_START_SERVICE,
  type ChildStartFault,
  EFFECT_FAULTS,
  FAULT_KINDS,
  FaultInjector,
  type FaultKind,
  type FaultTarget,
  type StandingRule,
  type TracedCall,
} from './injector.ts';
import {
  APPROVAL_PAGE,
  aslTaskStates,
  deletionsSince,
  NOT_APPROVED_RUN,
  phaseStateNames,
  strandedImages,
  UNFINISHED_RUN,
} from './matrix.ts';
import { approveAsAPerson, type PageVerdict } from './world.ts';

export const ORGANIZATION_SETTINGS = 'organization';

export interface OrganizationPath {
  readonly id: string;
  readonly description: string;
  readonly rules: readonly StandingRule[];
}

export const ORGANIZATION_PATHS: readonly OrganizationPath[] = [
  { id: 'org-approved', description: 'every target planned, one approval, every target deleted', rules: [] },
  {
    id: 'org-approval-unsent',
    description: 'the approval cannot be recorded, so every awaiting target is closed as failed',
    rules: [
      { state: 'RequestApproval', service: 'DynamoDB', command: 'PutItem', code: 'AccessDeniedException' },
    ],
  },
];

/** The organization workflow's states a fault can be aimed at, in definition order. */
export function organizationStateNames(): { lambda: string[]; childStarts: string[] } {
  const states = aslTaskStates('organization.asl.json');
  return {
    lambda: [...states.filter((s) => !s.childStart).map((s) => s.name), ...phaseStateNames(), APPROVAL_PAGE],
    childStarts: states.filter((s) => s.childStart).map((s) => s.name),
  };
}

export interface OrganizationRun {
  readonly runId: string;
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly error?: string;
  readonly verdict: PageVerdict;
  /** What close-abandoned-run answered for each failed execution (parent and children), if it threw; the runner closes them. */
  readonly closeErrors: readonly string[];
}

export interface OrganizationWorld {
  readonly harness: OrganizationHarness;
  readonly injector: FaultInjector;
  /** Executes the organization workflow once; the runner closes every failed execution as EventBridge would. */
  run(executionName: string): Promise<OrganizationRun>;
  stop(): Promise<void>;
}

export async function startOrganizationWorld(): Promise<OrganizationWorld> {
  const injector = new FaultInjector();
  const harness = await startOrganizationHarness({ instrument: injector });
  return {
    harness,
    injector,
    async run(executionName) {
      let verdict: PageVerdict = 'not-asked';
      const execution = await harness.run({
        executionName,
        decision: 'NONE',
        beforeAnswer: async (request) => {
          verdict = await approveAsAPerson(request.link);
          // The approval runs out now unless a decision reached the workflow (a no-op then).
          request.withdraw();
        },
        aroundChildStart: (state, child, start) => injector.childStart(state, child.name, start),
      });
      const { status, error } = execution.result;
      return {
        runId: executionName,
        status,
        ...(error ? { error: `${error.error}: ${error.cause}` } : {}),
        verdict,
        closeErrors: execution.result.closeErrors ?? [],
      };
    },
    stop: () => harness.stop(),
  };
}

/** What the invariants read of a world: its harness (a hand-written fault row has no injector). */
export type WorldHarness = Pick<OrganizationWorld, 'harness'>;

/** One target's end state after the fault-free run. */
interface TargetReference {
  readonly images: readonly string[];
  readonly snapshots: readonly string[];
  readonly approvedImages: ReadonlySet<string>;
  readonly approvedSnapshots: ReadonlySet<string>;
}

export interface OrganizationReference {
  readonly byTarget: ReadonlyMap<string, TargetReference>;
  /** Golden AMIs another account runs: never deregistered. */
  readonly untouchable: ReadonlySet<string>;
}

const accountOf = (world: WorldHarness, key: string): SimulatedAccount => {
  const each = world.harness.targets.find((t) => t.key === key);
  if (!each) throw new Error(`no target ${key}`);
  return world.harness.organization.account(each.accountId, each.region);
};

const sortedIds = (account: SimulatedAccount) => ({
  images: [...account.images.values()].map((i) => i.imageId).sort(),
  snapshots: [...account.snapshots.values()].map((s) => s.snapshotId).sort(),
});

function referenceOf(world: OrganizationWorld): OrganizationReference {
  const byTarget = new Map<string, TargetReference>();
  for (const each of world.harness.targets) {
    const account = accountOf(world, each.key);
    const deleted = deletionsSince(account, 0);
    byTarget.set(each.key, {
      ...sortedIds(account),
      approvedImages: new Set(deleted.images),
      approvedSnapshots: new Set(deleted.snapshots),
    });
  }
  const untouchable = new Set(world.harness.scenario.usedByOtherAccounts.map((u) => u.imageId));
  return { byTarget, untouchable };
}

/** Where each target's call log stands now. */
export function callMarks(world: OrganizationWorld): Map<string, number> {
  return new Map(world.harness.targets.map((t) => [t.key, accountOf(world, t.key).calls.length]));
}

async function brokenRecord(world: WorldHarness, run: RunRecord | undefined, label: string) {
  if (run === undefined) return [];
  const broken: string[] = [];
  if (UNFINISHED_RUN.has(run.status)) broken.push(`${label} run left ${run.status}`);
  const open = (await world.harness.ledger.listItems(run.runId)).filter(
    (item) => !FINAL_ITEM_STATUSES.includes(item.status),
  );
  if (open.length > 0) broken.push(`${label}: ${open.length} item(s) not final`);
  return broken;
}

/**
 * The invariants after one organization run, per target and for the whole run: nothing
 * unapproved or in use deleted, no AMI left without its snapshots, every target run and the
 * parent run final with every item final, every target's lock free, nothing deleted unless the
 * parent's one approval is APPROVED, and what the person was told matches what the run did.
 */
export async function brokenOrganizationInvariants(
  world: WorldHarness,
  run: OrganizationRun,
  reference: OrganizationReference,
  marks: ReadonlyMap<string, number>,
  options: { readonly ownApprovalRequired: boolean },
): Promise<string[]> {
  const broken: string[] = [];
  const { ledger } = world.harness;
  let didDelete = false;
  for (const each of world.harness.targets) {
    const account = accountOf(world, each.key);
    const want = reference.byTarget.get(each.key);
    const deleted = deletionsSince(account, marks.get(each.key) ?? 0);
    didDelete ||= deleted.images.length + deleted.snapshots.length > 0;
    const badImages = deleted.images.filter(
      (id) => !want?.approvedImages.has(id) || reference.untouchable.has(id),
    );
    const badSnapshots = deleted.snapshots.filter((id) => !want?.approvedSnapshots.has(id));
    if (badImages.length > 0) broken.push(`${each.key}: deregistered unapproved or in-use AMIs ${badImages}`);
    if (badSnapshots.length > 0) broken.push(`${each.key}: deleted unapproved snapshots ${badSnapshots}`);
    broken.push(...strandedImages(account).map((b) => `${each.key}: ${b}`));
    broken.push(...(await brokenRecord(world, await world.harness.targetRun(run.runId, each), each.key)));
    const lock = await ledger.getLock(each.key);
    if (lock !== undefined) broken.push(`${each.key}: lock still held by ${lock.owner}`);
  }
  const parent = await ledger.getRun(run.runId);
  broken.push(...(await brokenRecord(world, parent, 'parent')));
  const approval = parent?.approvalId ? await ledger.getApproval(parent.approvalId) : undefined;
  if (options.ownApprovalRequired && didDelete && approval?.status !== 'APPROVED')
    broken.push(`deleted without an APPROVED approval (approval ${approval?.status ?? 'missing'})`);
  if (run.verdict === 'approved' && parent !== undefined && NOT_APPROVED_RUN.has(parent.status))
    broken.push(`page said approved, run ended ${parent.status}`);
  if ((run.verdict === 'refused' || run.verdict === 'gave-up') && didDelete)
    broken.push(`page answered ${run.verdict === 'refused' ? 'a refusal' : 'errors only'}, run deleted`);
  broken.push(...run.closeErrors.map((e) => `close-abandoned-run failed: ${e}`));
  return broken;
}

/** After the fault-free re-run: every target ends exactly as in the fault-free run. */
export function organizationDivergence(world: OrganizationWorld, reference: OrganizationReference): string[] {
  const broken: string[] = [];
  for (const [key, want] of reference.byTarget) {
    const have = sortedIds(accountOf(world, key));
    const left = (a: readonly string[], b: readonly string[]) => a.filter((id) => !b.includes(id));
    const leftImages = left(have.images, want.images);
    const leftSnapshots = left(have.snapshots, want.snapshots);
    const gone = [...left(want.images, have.images), ...left(want.snapshots, have.snapshots)];
    if (leftImages.length > 0) broken.push(`${key}: re-run left ${leftImages.length} approved AMI(s)`);
    if (leftSnapshots.length > 0) broken.push(`${key}: re-run left ${leftSnapshots.length} snapshot(s)`);
    if (gone.length > 0) broken.push(`${key}: re-run end state lacks ${gone}`);
  }
  return broken;
}

export interface OrganizationRow {
  readonly id: string;
  readonly path: OrganizationPath;
  readonly target: FaultTarget;
  readonly detail: string;
}

export interface OrganizationProbe {
  readonly path: OrganizationPath;
  readonly trace: readonly TracedCall[];
  readonly run: OrganizationRun;
}

export interface OrganizationMatrix {
  readonly reference: OrganizationReference;
  readonly probes: readonly OrganizationProbe[];
  readonly rows: readonly OrganizationRow[];
  readonly unreached: readonly string[];
}

function orgRow(
  path: OrganizationPath,
  state: string,
  service: string,
  fault: FaultKind | ChildStartFault,
  at: { label: 'first' | 'later'; invocation: number; call: number; effects: boolean; detail: string },
): OrganizationRow {
  return {
    id: `${state} × ${service} × ${fault} × ${at.label} × ${ORGANIZATION_SETTINGS}`,
    path,
    detail: at.detail,
    target: { state, service, fault, effects: at.effects, invocation: at.invocation, call: at.call },
  };
}

const TRANSIENT_FAULTS: readonly FaultKind[] = ['throttling', 'server-error', 'timeout'];
let sampled = 0;

/** The calls a Lambda state's rows aim at: the first, and for a Map state a later item's. */
function lambdaRows(path: OrganizationPath, state: string, calls: readonly TracedCall[]): OrganizationRow[] {
  const rows: OrganizationRow[] = [];
  for (const service of [...new Set(calls.map((c) => c.service))]) {
    const serviceCalls = calls.filter((c) => c.service === service);
    const changing = serviceCalls.filter((c) => c.effectCall > 0);
    const items = [...new Set(serviceCalls.map((c) => c.invocation))].sort((a, b) => a - b);
    // The three transient kinds meet the same SDK retries and Retry policy: one of them per
    // state and service, taking turns, keeps the matrix's wall time bounded.
    const transient = TRANSIENT_FAULTS[sampled++ % TRANSIENT_FAULTS.length];
    for (const fault of FAULT_KINDS.filter((f) => !TRANSIENT_FAULTS.includes(f) || f === transient)) {
      const effects = changing.length > 0 && EFFECT_FAULTS.has(fault);
      const pool = effects ? changing : serviceCalls;
      const at = (invocation: number, label: 'first' | 'later') => {
        const own = pool.filter((c) => c.invocation === invocation);
        const call = Math.min(...own.map((c) => (effects ? c.effectCall : c.call)));
        const kind = effects ? 'changing call' : 'call';
        const detail =
          label === 'first' ? `first ${kind} of the first item` : `first ${kind} of item ${invocation}`;
        return { label, invocation, call, effects, detail };
      };
      const first = pool[0]?.invocation ?? 1;
      rows.push(orgRow(path, state, service, fault, at(first, 'first')));
      // A later item of a Map state meets the faults that leave an effect behind with others done.
      const laterItems = [...new Set(pool.map((c) => c.invocation))].filter((i) => i !== first);
      const later = laterItems[Math.floor((laterItems.length * 2) / 3)];
      if (effects && items.length > 1 && later !== undefined)
        rows.push(orgRow(path, state, service, fault, at(later, 'later')));
    }
  }
  return rows;
}

async function runProbes(): Promise<{ probes: OrganizationProbe[]; reference: OrganizationReference }> {
  const probes: OrganizationProbe[] = [];
  let reference: OrganizationReference | undefined;
  for (const path of ORGANIZATION_PATHS) {
    const world = await startOrganizationWorld();
    try {
      world.injector.arm(undefined, path.rules);
      const run = await world.run(`probe-${path.id}`);
      probes.push({ path, trace: [...world.injector.trace], run });
      reference ??= referenceOf(world);
    } finally {
      await world.stop();
    }
  }
  return { probes, reference: reference as OrganizationReference };
}

export async function generateOrganizationMatrix(): Promise<OrganizationMatrix> {
  const { probes, reference } = await runProbes();
  const { lambda, childStarts } = organizationStateNames();
  const rows: OrganizationRow[] = [];
  const unreached: string[] = [];
  for (const state of [...lambda, ...childStarts]) {
    const probe = probes.find((p) => p.trace.some((c) => c.state === state));
    const calls = probe?.trace.filter((c) => c.state === state);
    if (probe === undefined || calls === undefined) {
      unreached.push(state);
      continue;
    }
    if (!childStarts.includes(state)) {
      rows.push(...lambdaRows(probe.path, state, calls));
      continue;
    }
    const items = calls.map((c) => c.invocation);
    const later = items[Math.floor((items.length * 2) / 3)];
    for (const fault of CHILD_START_FAULTS) {
      const at = (invocation: number, label: 'first' | 'later') => ({
        label,
        invocation,
        call: 1,
        effects: false,
        detail: `the start of child ${invocation} of ${items.length}`,
      });
      rows.push(orgRow(probe.path, state, CHILD_START_SERVICE, fault, at(1, 'first')));
      if (later !== undefined && later !== 1)
        rows.push(orgRow(probe.path, state, CHILD_START_SERVICE, fault, at(later, 'later')));
    }
  }
  return { reference, probes, rows, unreached };
}

/** One case: faulted organization run, its invariants, a fault-free re-run, and the re-run's. */
export async function runOrganizationCase(
  row: OrganizationRow,
  reference: OrganizationReference,
): Promise<string[]> {
  const world = await startOrganizationWorld();
  try {
    world.injector.arm(row.target, row.path.rules);
    const faulted = await world.run('faulted');
    if (!world.injector.fired) return [`the fault never fired (${row.detail})`];
    const broken = (
      await brokenOrganizationInvariants(world, faulted, reference, new Map(), { ownApprovalRequired: true })
    ).map((b) => `after the fault: ${b}`);
    world.injector.arm(undefined);
    const marks = callMarks(world);
    const rerun = await world.run('rerun');
    const afterRerun = await brokenOrganizationInvariants(world, rerun, reference, marks, {
      // A re-run may finish what an earlier approval covered (stranded snapshots).
      ownApprovalRequired: false,
    });
    broken.push(
      ...afterRerun.map((b) => `after the re-run: ${b}`),
      ...organizationDivergence(world, reference),
    );
    if (rerun.status !== 'SUCCEEDED') broken.push(`re-run ${rerun.status}: ${rerun.error}`);
    return broken;
  } finally {
    await world.stop();
  }
}
