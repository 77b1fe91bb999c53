/**
 * The fault matrix, generated: rows are state × service × fault × position × settings, where the
 * states are every Task state of the ASL file (plus the approval page, which the approval wait
 * depends on) and the services are the ones each state's handlers were seen calling in a
 * fault-free probe run. A state only failure handling reaches (RecordImageFailure, FinalizeFailed,
 * ...) is probed on a path that leads there. A new state, a new service or a new call gets rows
 * without editing this file; a state no path reaches fails the coverage test.
 */

import { readFileSync } from 'node:fs';
import { localLockKey } from '../../cli/local-runner/run-workflow.ts';
import type { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { FINAL_ITEM_STATUSES } from '../../functions/core/workflow.ts';
import {
  EFFECT_FAULTS,
  FAULT_KINDS,
  type FaultKind,
  type FaultTarget,
  type StandingRule,
  type TracedCall,
} from './injector.ts';
import { type SettingsName, startWorld, type World, type WorldRun } from './world.ts';

/** The approval page is no Task state, but the RequestApproval wait ends only through it. */
export const APPROVAL_PAGE = 'ApprovalPage';

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: { readonly FunctionName?: unknown };
  readonly ItemProcessor?: { readonly States: Record<string, AslState> };
  readonly Iterator?: { readonly States: Record<string, AslState> };
  readonly Branches?: readonly { readonly States: Record<string, AslState> }[];
}

/** The definitions CDK deploys for a single target: the run and its DeleteBatch child. */
const DEFINITIONS = ['ami-cleaner.asl.json', 'delete-batch.asl.json'];

const CHILD_START = 'arn:aws:states:::states:';
/** The handler of the target workflow's phases, which only an organization run starts. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: an ASL placeholder, not a template
const PHASE_HANDLER = '${ResumeTargetRunFunctionArn}';

/** Task states of one definition file, Map and Parallel bodies included, with what they run. */
export function aslTaskStates(file: string): { name: string; childStart: boolean; phase: boolean }[] {
  const found: { name: string; childStart: boolean; phase: boolean }[] = [];
  const visit = (states: Record<string, AslState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Type === 'Task') {
        const childStart = String(state.Resource).startsWith(CHILD_START);
        found.push({ name, childStart, phase: state.Parameters?.FunctionName === PHASE_HANDLER });
      }
      const inner = state.ItemProcessor ?? state.Iterator;
      if (inner) visit(inner.States);
      for (const branch of state.Branches ?? []) visit(branch.States);
    }
  };
  const url = new URL(`../../statemachine/${file}`, import.meta.url);
  visit((JSON.parse(readFileSync(url, 'utf8')) as { States: Record<string, AslState> }).States);
  return found;
}

/**
 * Every Lambda Task state a single-target run can reach (the run and its DeleteBatch child).
 * The `.sync:2` task that starts a DeleteBatch child makes no Lambda or SDK call a fault could be
 * injected into; the child's own states are enumerated instead. The phase states only an
 * organization run starts (ResumeTargetRun) belong to the organization matrix.
 */
export function taskStateNames(): string[] {
  return DEFINITIONS.flatMap(aslTaskStates)
    .filter((s) => !s.childStart && !s.phase)
    .map((s) => s.name);
}

/** The target workflow's states only an organization run reaches (its delete and close phases). */
export function phaseStateNames(): string[] {
  return aslTaskStates('ami-cleaner.asl.json')
    .filter((s) => s.phase)
    .map((s) => s.name);
}

/** A way through the workflow, with the standing failures that lead it there. */
export interface ProbePath {
  readonly id: string;
  readonly description: string;
  readonly rules: readonly StandingRule[];
}

export const PATHS: readonly ProbePath[] = [
  { id: 'approved', description: 'approved and deleted', rules: [] },
  {
    id: 'deletions-refused',
    description: 'every deletion refused by EC2, so each item goes through its failure recording',
    rules: [
      { state: 'Deregister', service: 'EC2', command: 'DeregisterImage', code: 'UnauthorizedOperation' },
      { state: 'DeleteOrphan', service: 'EC2', command: 'DeleteSnapshot', code: 'UnauthorizedOperation' },
    ],
  },
  {
    id: 'run-fails-after-approval',
    description: 'LoadApproved cannot re-read the account, so the run fails and is finalized as failed',
    rules: [{ state: 'LoadApproved', service: 'EC2', code: 'UnauthorizedOperation' }],
  },
];

export interface Position {
  /** `first`, or `later` (a later item for Map states, a later call otherwise). */
  readonly label: 'first' | 'later';
  readonly invocation: number;
  readonly call: number;
  readonly detail: string;
}

export interface FaultRow {
  readonly id: string;
  readonly settings: SettingsName;
  readonly path: ProbePath;
  readonly target: FaultTarget;
  readonly position: Position;
}

/** The end state of a fault-free run, which every case must reach after its re-run. */
export interface Reference {
  readonly settings: SettingsName;
  readonly images: readonly string[];
  readonly snapshots: readonly string[];
  /** Everything the fault-free run deregistered or deleted: the approved plan. */
  readonly approvedImages: ReadonlySet<string>;
  readonly approvedSnapshots: ReadonlySet<string>;
  /** AMIs referenced or protected in the scenario: never deregistered. */
  readonly untouchable: ReadonlySet<string>;
}

export interface Probe {
  readonly path: ProbePath;
  readonly trace: readonly TracedCall[];
  readonly run: WorldRun;
}

export interface Matrix {
  readonly settings: SettingsName;
  readonly reference: Reference;
  readonly probes: readonly Probe[];
  readonly rows: readonly FaultRow[];
  /** Task states no probe path reaches in these settings. */
  readonly unreached: readonly string[];
}

function positionsOf(all: readonly TracedCall[], effects: boolean): Position[] {
  const calls = effects ? all.filter((c) => c.effectCall > 0) : all;
  const ordinal = (c: TracedCall) => (effects ? c.effectCall : c.call);
  const kind = effects ? 'changing call' : 'call';
  const invocations = [...new Set(calls.map((c) => c.invocation))].sort((a, b) => a - b);
  const firstInvocation = invocations[0] ?? 1;
  const firstOf = (invocation: number) =>
    Math.min(...calls.filter((c) => c.invocation === invocation).map(ordinal));
  const first: Position = {
    label: 'first',
    invocation: firstInvocation,
    call: firstOf(firstInvocation),
    detail: `first ${kind} of the first item`,
  };
  if (invocations.length > 1) {
    const later = invocations[Math.floor((invocations.length * 2) / 3)] as number;
    const detail = `first ${kind} of item ${later} of ${invocations.length}`;
    return [first, { label: 'later', invocation: later, call: firstOf(later), detail }];
  }
  // Outside a Map a later call of the same invocation meets the same error handling as the
  // first (one Lambda, one Retry/Catch), so only Map states get a `later` row.
  return [{ ...first, detail: calls.length < 2 ? `its only ${kind}` : first.detail }];
}

export function referenceOf(world: World, settings: SettingsName): Reference {
  const succeeded = (command: string, field: string) =>
    world.account
      .callsTo(command)
      .filter((call) => call.error === undefined)
      .map((call) => String(call.input[field]));
  return {
    settings,
    images: [...world.account.images.values()].map((i) => i.imageId).sort(),
    snapshots: [...world.account.snapshots.values()].map((s) => s.snapshotId).sort(),
    approvedImages: new Set(succeeded('DeregisterImage', 'ImageId')),
    approvedSnapshots: new Set(succeeded('DeleteSnapshot', 'SnapshotId')),
    untouchable: new Set([...world.scenario.inUseImageIds, ...world.scenario.protectedImageIds]),
  };
}

async function runProbes(settings: SettingsName): Promise<{ probes: Probe[]; reference: Reference }> {
  const probes: Probe[] = [];
  let reference: Reference | undefined;
  for (const path of PATHS) {
    const world = await startWorld();
    try {
      world.injector.arm(undefined, path.rules);
      const run = await world.run(`probe-${path.id}`, settings);
      probes.push({ path, trace: [...world.injector.trace], run });
      reference ??= referenceOf(world, settings);
    } finally {
      await world.stop();
    }
  }
  return { probes, reference: reference as Reference };
}

/** What a state called in the first probe that reaches it, in order (undefined: not reached). */
function callsOf(probes: readonly Probe[], state: string): TracedCall[] | undefined {
  const probe = probes.find((p) => p.trace.some((call) => call.state === state));
  return probe?.trace.filter((call) => call.state === state);
}

const signature = (calls: readonly TracedCall[] | undefined) =>
  JSON.stringify(calls?.map((c) => [c.invocation, c.service, c.command]));

/**
 * Runs one fault-free probe per path and derives the rows from what each state called. With
 * settings other than the defaults, only states whose calls differ from the default probes' get
 * rows (the sweep's own states, and those the sweep makes call something else): a state calling
 * the same things in the same order meets the same faults the default rows already cover.
 */
export async function generateMatrix(settings: SettingsName): Promise<Matrix> {
  const { probes, reference } = await runProbes(settings);
  const baseline = settings === 'default' ? undefined : (await runProbes('default')).probes;
  const states = [...taskStateNames(), APPROVAL_PAGE];
  const rows: FaultRow[] = [];
  const unreached: string[] = [];
  for (const state of states) {
    const calls = callsOf(probes, state);
    const probe = probes.find((p) => p.trace.some((call) => call.state === state));
    if (calls === undefined || probe === undefined) {
      unreached.push(state);
      continue;
    }
    if (baseline !== undefined && signature(callsOf(baseline, state)) === signature(calls)) continue;
    const services = [...new Set(calls.map((call) => call.service))];
    for (const service of services) {
      const serviceCalls = calls.filter((call) => call.service === service);
      const changing = serviceCalls.some((call) => call.effectCall > 0);
      for (const fault of FAULT_KINDS) {
        const effects = changing && EFFECT_FAULTS.has(fault);
        for (const position of positionsOf(serviceCalls, effects)) {
          rows.push(row(settings, probe.path, state, service, fault, position, effects));
        }
      }
    }
  }
  return { settings, reference, probes, rows, unreached };
}

function row(
  settings: SettingsName,
  path: ProbePath,
  state: string,
  service: string,
  fault: FaultKind,
  position: Position,
  effects: boolean,
): FaultRow {
  return {
    id: `${state} × ${service} × ${fault} × ${position.label} × ${settings}`,
    settings,
    path,
    position,
    target: { state, service, fault, effects, invocation: position.invocation, call: position.call },
  };
}

/** An AMI that exists while a snapshot it needs is gone: the one loss worse than leaving one. */
export function strandedImages(account: Pick<SimulatedAccount, 'images' | 'snapshots'>): string[] {
  return [...account.images.values()]
    .filter((image) => image.blockDeviceMappings.some((d) => !account.snapshots.has(d.snapshotId)))
    .map((image) => `deleted snapshot(s) of existing AMI ${image.imageId}`);
}

export const UNFINISHED_RUN = new Set(['RUNNING', 'AWAITING_APPROVAL', 'DELETING']);
/** Endings that tell the person's approval was not taken. */
export const NOT_APPROVED_RUN = new Set(['EXPIRED', 'REJECTED']);

/** Deletion calls that succeeded since `from` (an index into the account's call log). */
export function deletionsSince(
  account: Pick<SimulatedAccount, 'calls'>,
  from: number,
): { images: string[]; snapshots: string[] } {
  const calls = account.calls.slice(from).filter((call) => call.error === undefined);
  return {
    images: calls.filter((c) => c.command === 'DeregisterImage').map((c) => String(c.input.ImageId)),
    snapshots: calls.filter((c) => c.command === 'DeleteSnapshot').map((c) => String(c.input.SnapshotId)),
  };
}

/**
 * The invariants after one run (and close-abandoned-run, where AWS would invoke it), as a list of
 * broken ones, each a short sentence: nothing unapproved or in use deleted, every item final, the
 * lock free, and what the person was told matches what the run did.
 */
export async function brokenInvariants(
  world: World,
  run: WorldRun,
  reference: Reference,
  callsBefore: number,
  options: { readonly ownApprovalRequired: boolean },
): Promise<string[]> {
  const broken: string[] = [];
  const deleted = deletionsSince(world.account, callsBefore);
  const unapprovedImages = deleted.images.filter(
    (id) => !reference.approvedImages.has(id) || reference.untouchable.has(id),
  );
  const unapprovedSnapshots = deleted.snapshots.filter((id) => !reference.approvedSnapshots.has(id));
  if (unapprovedImages.length > 0) broken.push(`deregistered unapproved or in-use AMIs ${unapprovedImages}`);
  if (unapprovedSnapshots.length > 0) broken.push(`deleted unapproved snapshots ${unapprovedSnapshots}`);
  broken.push(...strandedImages(world.account));

  const { ledger } = world.stack;
  const record = await ledger.getRun(run.runId);
  const items = await ledger.listItems(run.runId);
  const open = items.filter((item) => !FINAL_ITEM_STATUSES.includes(item.status));
  if (open.length > 0) {
    broken.push(`${open.length} item(s) not final: ${[...new Set(open.map((i) => i.status))].join(', ')}`);
  }
  if (record !== undefined && UNFINISHED_RUN.has(record.status)) broken.push(`run left ${record.status}`);
  const lock = await ledger.getLock(localLockKey(world.stack));
  if (lock !== undefined) broken.push(`lock still held by ${lock.owner}`);

  const didDelete = deleted.images.length + deleted.snapshots.length > 0;
  const approval = record?.approvalId ? await ledger.getApproval(record.approvalId) : undefined;
  if (options.ownApprovalRequired && didDelete && approval?.status !== 'APPROVED') {
    broken.push(`deleted without an APPROVED approval (approval ${approval?.status ?? 'missing'})`);
  }
  if (run.verdict === 'approved' && record !== undefined && NOT_APPROVED_RUN.has(record.status)) {
    broken.push(`page said approved, run ended ${record.status}`);
  }
  if ((run.verdict === 'refused' || run.verdict === 'gave-up') && didDelete) {
    broken.push(`page answered ${run.verdict === 'refused' ? 'a refusal' : 'errors only'}, run deleted`);
  }
  broken.push(...(run.result.closeErrors ?? []).map((e) => `close-abandoned-run failed: ${e}`));
  return broken;
}

/** After the fault-free re-run: same end state as the fault-free run, and its own invariants. */
export function divergence(world: World, reference: Reference): string[] {
  const images = [...world.account.images.values()].map((i) => i.imageId).sort();
  const snapshots = [...world.account.snapshots.values()].map((s) => s.snapshotId).sort();
  const broken: string[] = [];
  const missing = (want: readonly string[], have: readonly string[]) =>
    want.filter((id) => !have.includes(id));
  const leftImages = missing(images, reference.images);
  const leftSnapshots = missing(snapshots, reference.snapshots);
  const goneImages = missing(reference.images, images);
  const goneSnapshots = missing(reference.snapshots, snapshots);
  if (leftImages.length > 0) broken.push(`re-run left ${leftImages.length} approved AMI(s)`);
  if (leftSnapshots.length > 0)
    broken.push(`re-run left ${leftSnapshots.length} approved snapshot(s) stranded`);
  if (goneImages.length > 0) broken.push(`re-run end state lacks AMIs ${goneImages}`);
  if (goneSnapshots.length > 0) broken.push(`re-run end state lacks snapshots ${goneSnapshots}`);
  return broken;
}

/** One case: faulted run, its invariants, a fault-free re-run, and the re-run's invariants. */
export async function runCase(row: FaultRow, reference: Reference): Promise<string[]> {
  const world = await startWorld();
  try {
    world.injector.arm(row.target, row.path.rules);
    const faulted = await world.run('faulted', row.settings);
    if (!world.injector.fired) return [`the fault never fired (${row.position.detail})`];
    const broken = (await brokenInvariants(world, faulted, reference, 0, { ownApprovalRequired: true })).map(
      (b) => `after the fault: ${b}`,
    );
    world.injector.arm(undefined);
    const callsBefore = world.account.calls.length;
    const rerun = await world.run('rerun', row.settings);
    const afterRerun = await brokenInvariants(world, rerun, reference, callsBefore, {
      // A re-run may finish what an earlier approval covered (stranded snapshots).
      ownApprovalRequired: false,
    });
    broken.push(...afterRerun.map((b) => `after the re-run: ${b}`), ...divergence(world, reference));
    if (rerun.result.status !== 'SUCCEEDED')
      broken.push(`re-run ${rerun.result.status}: ${rerun.result.error?.error}`);
    return broken;
  } finally {
    await world.stop();
  }
}
