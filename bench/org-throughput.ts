/**
 * Throughput across targets (issue 9 §6): one organization run of `ORG_TARGETS` (default 10)
 * member accounts × `ORG_AMIS` (default 1,000) approved AMIs each, EC2's token buckets on in
 * every account (`useEc2RateLimits()` on the organization, each account and region its own
 * buckets), through the real organization workflow in the local runner: the parent plans every
 * target in a child, asks once, and deletes in every target at once (`TargetMaxConcurrency` 10).
 *
 * The buckets run in real time (performance.now()), so nothing is compressed: the ratio is
 * measured wall-clock. Each account's first 100 DeregisterImage calls are its bucket's burst, not
 * its refill, so the org-wide rate is counted from the moment the last target spent its burst to
 * the last deregistration: calls in that window ÷ its length ÷ (targets × 5/s). A target that
 * finished early, or started late, lowers that ratio, which is the point: it says whether every
 * target deletes at once at its account's rate.
 *
 * Each AMI has one snapshot (seeded here, not by `generatedScenario`, whose 1.3 snapshots per AMI
 * make DeleteSnapshot's 5/s the binding bucket, see deletion-throughput): DeregisterImage is then
 * the bucket the ratio is about.
 */

import { startLocalLedger } from '../cli/local-ledger.ts';
import { startApprovalServer } from '../cli/local-runner/approval-server.ts';
import { createLocalStack, type LocalStack } from '../cli/local-runner/local-stack.ts';
import { runWorkflowLocally } from '../cli/local-runner/run-workflow.ts';
import { answerApprovalLink } from '../cli/local-runner/scripted-approver.ts';
import { EC2_RATE_LIMITS } from '../cli/simulated-account/account.ts';
import { SimulatedOrganization } from '../cli/simulated-account/organization.ts';
import { SIMULATED_HUB_ROLE_NAME, simulatedHub } from '../cli/simulated-account/organization-hub.ts';
import type { AwsClients } from '../functions/adapters/clients.ts';
import { organizationHistoryBudget, targetPhaseExecutionName } from '../functions/core/organization-run.ts';
import { worstCaseTreeEvents } from '../functions/core/quotas.ts';
import { DEFAULT_PLAN_SETTINGS } from '../functions/core/settings.ts';
import { DEFAULT_MEMBER_ROLE_NAME, type Target, validateTargetSelection } from '../functions/core/target.ts';
import {
  definitionHistoryBudget,
  loadDefinitionTemplate,
  ORGANIZATION_DEFINITION_PATH,
} from '../infra/lib/definition.ts';
import { DEFAULT_DELETION_MAX_CONCURRENCY } from '../infra/lib/props.ts';
import {
  countBy,
  formatCounts,
  int,
  jsonBytes,
  kib,
  median,
  ms,
  perSecond,
  printTable,
  type SummaryRow,
  type TimedEvent,
} from './harness.ts';
import { awsHistoryEvents } from './payloads.ts';

const REGION = 'eu-west-1';
const DEREGISTER_REFILL = 5;
/** DeregisterImage's bucket capacity: each account's first 100 calls are the burst. */
const BURST = 100;
/** Each group keeps its 4 newest AMIs (keepPrevious) and its in-use middle one. */
const KEPT_PER_GROUP = 5;
const CANDIDATES_PER_GROUP = 20;

/** One member account seeded with `candidates` approvable AMIs of one snapshot each. */
function seedAccount(org: SimulatedOrganization, accountId: string, candidates: number, now: Date): void {
  org.addAccount({ accountId, name: `workload-${accountId.slice(-2)}` });
  org.addRole(accountId, DEFAULT_MEMBER_ROLE_NAME, {
    hubAccountId: org.managementAccountId,
    hubPrincipalArns: [`arn:aws:iam::${org.managementAccountId}:role/${SIMULATED_HUB_ROLE_NAME}`],
  });
  const account = org.account(accountId, REGION);
  const groups = Math.ceil(candidates / CANDIDATES_PER_GROUP);
  for (let g = 0; g < groups; g++) {
    const inGroup = Math.min(CANDIDATES_PER_GROUP, candidates - g * CANDIDATES_PER_GROUP) + KEPT_PER_GROUP;
    const tags = { environment: 'prod', role: `svc-${String(g).padStart(4, '0')}` };
    const ids = Array.from(
      { length: inGroup },
      (_, i) =>
        account.addImage({
          name: `${tags.role}-${i}`,
          creationDate: new Date(now.getTime() - (inGroup - i) * 3_600_000),
          tags,
          volumes: [8],
        }).imageId,
    );
    // The in-use one sits among the candidates' ages, as a pinned launch template would.
    account.addLaunchTemplate({
      name: `${tags.role}-lt`,
      createTime: now,
      versions: [{ imageId: ids[0] as string, instanceType: 't3.micro' }],
    });
  }
  account.images.page(undefined, 0, () => true);
}

/** Wraps the hub's way into members so every target's successful DeregisterImage calls are timed. */
function clockDeregistrations(
  memberClientsFor: (each: Target, runId: string) => AwsClients,
  times: Map<string, number[]>,
): (each: Target, runId: string) => AwsClients {
  const clocked = new WeakSet<object>();
  return (each, runId) => {
    const clients = memberClientsFor(each, runId);
    if (clocked.has(clients.ec2)) return clients;
    clocked.add(clients.ec2);
    clients.ec2.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        if (context.commandName === 'DeregisterImageCommand') {
          const list = times.get(each.key) ?? [];
          list.push(performance.now());
          times.set(each.key, list);
        }
        return output;
      },
      { step: 'initialize', name: 'benchDeregisterClock' },
    );
    return clients;
  };
}

/**
 * The stack with every handler timed; `settled()` waits for calls still running (the runner does
 * not cancel a handler whose task it gave up on), so the ledger is not stopped under them.
 */
function timeHandlers(stack: LocalStack) {
  const inFlight = new Set<Promise<unknown>>();
  const durations = new Map<string, number[]>();
  const handlers = Object.fromEntries(
    Object.entries(stack.handlers).map(([id, handler]) => [
      id,
      (event: never) => {
        const started = performance.now();
        const call = (handler as (event: never) => Promise<unknown>)(event).finally(() => {
          const list = durations.get(id) ?? [];
          list.push(performance.now() - started);
          durations.set(id, list);
          inFlight.delete(call);
        });
        inFlight.add(call);
        return call;
      },
    ]),
  ) as LocalStack['handlers'];
  const settled = async () => {
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  return { stack: { ...stack, handlers }, durations, settled };
}

type ExecutionKind = 'organization' | 'target plan' | 'target delete' | 'DeleteBatch';

export async function runOrgThroughput(): Promise<SummaryRow[]> {
  const targetCount = Number(process.env.ORG_TARGETS ?? 10);
  const amis = Number(process.env.ORG_AMIS ?? 1_000);
  const deletionConcurrency = Number(
    process.env.ORG_DELETION_CONCURRENCY ?? DEFAULT_DELETION_MAX_CONCURRENCY,
  );
  const timeScale = Number(process.env.ORG_TIME_SCALE ?? 1);
  if (!(timeScale > 0 && timeScale <= 1)) throw new Error('ORG_TIME_SCALE must be in (0, 1]');
  const runId = 'org-throughput';
  // The SDK checks an assumed role's Expiration against the real clock: the simulated one is real.
  const now = new Date();
  const org = new SimulatedOrganization({ seed: 'org-throughput' });
  org.usageReports.readyAfterMs = 0;
  const accountIds = Array.from(
    { length: targetCount },
    (_, i) => `2000000000${String(i + 1).padStart(2, '0')}`,
  );
  for (const accountId of accountIds) seedAccount(org, accountId, amis, now);
  org.useEc2RateLimits();
  // Time dilation (ORG_TIME_SCALE < 1): every refill of the target accounts slowed by the same
  // factor, so the bench process's own CPU (SDK, dynalite, the runner) stops being the bottleneck.
  for (const accountId of accountIds) {
    const account = org.account(accountId, REGION);
    for (const [command, limit] of Object.entries(EC2_RATE_LIMITS))
      account.setRateLimit(command, { ...limit, refillPerSecond: limit.refillPerSecond * timeScale });
  }
  const selection = validateTargetSelection({ accounts: accountIds, regions: [REGION] });
  const hub = simulatedHub(org, { region: REGION, selection, roleName: DEFAULT_MEMBER_ROLE_NAME });
  const deregistered = new Map<string, number[]>();
  const organization = {
    ...hub.organization,
    memberClientsFor: clockDeregistrations(hub.organization.memberClientsFor, deregistered),
  };

  const local = await startLocalLedger();
  let stack: LocalStack | undefined;
  let timed: ReturnType<typeof timeHandlers> | undefined;
  const server = await startApprovalServer(() => (stack as LocalStack).approvalPage);
  const events: TimedEvent[] = [];
  let approvedAt: number | undefined;
  const callsAtApproval = new Map<string, number>();
  let cpuAtApproval: NodeJS.CpuUsage | undefined;
  let cpuAtEnd: NodeJS.CpuUsage | undefined;
  let approval: Promise<void> = Promise.resolve();
  const startedAt = performance.now();
  let endedAt = startedAt;
  let status = '';
  try {
    timed = timeHandlers(
      createLocalStack({
        clients: hub.clients,
        region: REGION,
        ledger: local.ledger,
        simulated: org.account(org.managementAccountId, REGION),
        defaultSettings: DEFAULT_PLAN_SETTINGS,
        maxDeletionsPerRun: amis,
        approvalTimeoutSeconds: 3_600,
        approvalBaseUrl: server.baseUrl,
        organization,
      }),
    );
    stack = timed.stack;
    const result = await runWorkflowLocally(stack, {
      input: {},
      executionName: runId,
      deletionMaxConcurrency: deletionConcurrency,
      onEvent: (event) => events.push({ ...event, at: performance.now() } as TimedEvent),
      onApprovalRequested: (request) => {
        approval = answerApprovalLink(request.link, 'APPROVE', 'bench').then(() => {
          approvedAt = performance.now();
          cpuAtApproval = process.cpuUsage();
          for (const id of accountIds) callsAtApproval.set(id, org.account(id, REGION).calls.length);
        });
      },
    });
    endedAt = performance.now();
    await approval;
    cpuAtEnd = cpuAtApproval && process.cpuUsage(cpuAtApproval);
    await timed.settled();
    status = result.status;

    const targets = accountIds.map((id) => ({ id, key: `${id}-${REGION}` }));
    const items = (
      await Promise.all(targets.map(({ key }) => local.ledger.listItems(`${key}-${runId}`)))
    ).flat();
    const failed = items.filter((item) => item.status === 'FAILED').length;
    const imagesDone = items.filter((item) => item.kind === 'IMAGE' && item.status === 'DONE').length;
    // EC2 attempts of the deletion phase, every account together, and how many a bucket refused.
    const deletionCalls = accountIds.flatMap((id) =>
      org.account(id, REGION).calls.slice(callsAtApproval.get(id) ?? 0),
    );
    return report({
      status,
      targetCount,
      amis,
      deletionConcurrency,
      deregistered,
      events,
      startedAt,
      approvedAt: approvedAt ?? Number.NaN,
      endedAt,
      failed,
      imagesDone,
      statuses: formatCounts(countBy(items, (item) => `${item.kind}:${item.status}`)),
      failures: countBy(
        items.filter((item) => item.status === 'FAILED'),
        (item) => String(item.lastError ?? item.reason ?? '?').slice(0, 200),
      ),
      cpuMs:
        cpuAtEnd === undefined || cpuAtApproval === undefined
          ? Number.NaN
          : (cpuAtEnd.user + cpuAtEnd.system) / 1000,
      attempts: countBy(deletionCalls, (call) => call.command),
      throttled: countBy(
        deletionCalls.filter((call) => call.error === 'RequestLimitExceeded'),
        (call) => call.command,
      ),
      handlerDurations: timed.durations,
      timeScale,
      runId,
      keys: targets.map((t) => t.key),
    });
  } finally {
    await timed?.settled();
    await server.close();
    await local.stop();
  }
}

interface Measured {
  readonly status: string;
  readonly targetCount: number;
  readonly amis: number;
  readonly deletionConcurrency: number;
  readonly deregistered: ReadonlyMap<string, readonly number[]>;
  readonly events: readonly TimedEvent[];
  readonly startedAt: number;
  readonly approvedAt: number;
  readonly endedAt: number;
  readonly failed: number;
  readonly imagesDone: number;
  readonly statuses: string;
  /** FAILED items by reason and detail. */
  readonly failures: Record<string, number>;
  /** CPU time of this process from the approval to the end of the run. */
  readonly cpuMs: number;
  readonly timeScale: number;
  readonly attempts: Record<string, number>;
  readonly throttled: Record<string, number>;
  readonly handlerDurations: ReadonlyMap<string, readonly number[]>;
  readonly runId: string;
  readonly keys: readonly string[];
}

function report(m: Measured): SummaryRow[] {
  // 1. The org-wide rate past every account's burst.
  const all = [...m.deregistered.values()].flat().sort((a, b) => a - b);
  const burstsSpent = Math.max(...m.keys.map((key) => m.deregistered.get(key)?.[BURST] ?? Number.NaN));
  const last = all.at(-1) ?? Number.NaN;
  const inWindow = all.filter((t) => t > burstsSpent).length;
  const rate = inWindow / ((last - burstsSpent) / 1000);
  // The last third of every target's calls: once a bucket really ran dry, even when the calls drained
  // it slower than the burst assumes (a slow process lets tokens pile up past the 100th call).
  const lastThirdFrom = Math.max(
    ...m.keys.map((key) => {
      const times = m.deregistered.get(key) ?? [];
      return times[Math.floor((2 * times.length) / 3)] ?? Number.NaN;
    }),
  );
  const lastThird = all.filter((t) => t > lastThirdFrom).length / ((last - lastThirdFrom) / 1000);
  const limit = m.targetCount * DEREGISTER_REFILL * m.timeScale;
  const overall = all.length / ((last - m.approvedAt) / 1000);
  const perTarget = m.keys.map((key) => {
    const times = m.deregistered.get(key) ?? [];
    const from = times[BURST];
    const to = times.at(-1);
    const past =
      from === undefined || to === undefined ? Number.NaN : (times.length - 1 - BURST) / ((to - from) / 1000);
    return {
      target: key,
      deregistered: times.length,
      'first (s after approval)': (((times[0] ?? Number.NaN) - m.approvedAt) / 1000).toFixed(1),
      'last (s after approval)': (((to ?? Number.NaN) - m.approvedAt) / 1000).toFixed(1),
      'past its burst': perSecond(past),
    };
  });

  // 2. History events and the largest payload of each execution of the tree.
  const kindOf = new Map<string | undefined, ExecutionKind>([[undefined, 'organization']]);
  for (const key of m.keys) {
    const [accountId, ...region] = key.split('-');
    const each = { accountId, region: region.join('-'), key } as Target;
    kindOf.set(targetPhaseExecutionName(each, m.runId, 'plan'), 'target plan');
    kindOf.set(targetPhaseExecutionName(each, m.runId, 'delete'), 'target delete');
  }
  const executions = new Map<string | undefined, { events: TimedEvent[]; payload: number }>();
  for (const event of m.events) {
    const figures = executions.get(event.execution) ?? { events: [], payload: 0 };
    figures.events.push(event);
    for (const value of [event.state?.input, event.state?.output]) {
      if (value !== undefined) figures.payload = Math.max(figures.payload, jsonBytes(value));
    }
    executions.set(event.execution, figures);
  }
  const byKind = new Map<ExecutionKind, { count: number; events: number; payload: number }>();
  for (const [name, figures] of executions) {
    const kind = kindOf.get(name) ?? 'DeleteBatch';
    const row = byKind.get(kind) ?? { count: 0, events: 0, payload: 0 };
    byKind.set(kind, {
      count: row.count + 1,
      events: Math.max(row.events, awsHistoryEvents(figures.events)),
      payload: Math.max(row.payload, figures.payload),
    });
  }
  const parentBudget = organizationHistoryBudget(
    JSON.parse(loadDefinitionTemplate(ORGANIZATION_DEFINITION_PATH)),
  );
  const tree = worstCaseTreeEvents(definitionHistoryBudget(), m.amis);
  const derived: Record<ExecutionKind, string> = {
    organization: `${int(parentBudget.fixed + parentBudget.perTarget * m.targetCount)} (${parentBudget.fixed} + ${parentBudget.perTarget} × ${m.targetCount})`,
    // The target workflow's own bound covers either phase: planning, or the DeleteBatch children's starts.
    'target plan': `${int(tree.parent)} (target workflow, ${tree.batches} children)`,
    'target delete': `${int(tree.parent)} (target workflow, ${tree.batches} children)`,
    DeleteBatch: `${int(tree.child)} (${tree.itemsPerBatch} items)`,
  };
  const historyRows = [...byKind].map(([kind, row]) => ({
    execution: kind,
    executions: row.count,
    'largest history (AWS-equivalent)': int(row.events),
    'derived worst case': derived[kind],
    'largest payload': kib(row.payload),
  }));
  const largestEvents = Math.max(...[...byKind.values()].map((r) => r.events));
  const largestPayload = Math.max(...[...byKind.values()].map((r) => r.payload));
  const wall = (m.endedAt - m.startedAt) / 1000;
  const deleting = (m.endedAt - m.approvedAt) / 1000;

  if (m.failed > 0)
    printTable(
      'Org throughput: FAILED items by reason',
      Object.entries(m.failures).map(([reason, n]) => ({ reason, items: n })),
    );
  printTable(
    'Org throughput: handler invocations (Lambda calls) of the whole run',
    [...m.handlerDurations]
      .sort(([, a], [, b]) => b.reduce((x, y) => x + y, 0) - a.reduce((x, y) => x + y, 0))
      .map(([handler, times]) => ({
        handler,
        calls: int(times.length),
        median: ms(median(times)),
        max: ms(Math.max(...times)),
      })),
  );
  printTable(
    'Org throughput: EC2 attempts after the approval (all targets)',
    Object.entries(m.attempts)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([command, n]) => ({ command, attempts: int(n), throttled: int(m.throttled[command] ?? 0) })),
  );
  printTable(`Org throughput: per target (${REGION}, DeregisterImage 100 burst, 5/s refill each)`, perTarget);
  printTable('Org throughput: executions of the tree', historyRows);
  printTable(
    `Org throughput: ${m.targetCount} targets × ${int(m.amis)} approved AMIs, EC2 buckets on, ` +
      `TargetMaxConcurrency 10, deletion Map concurrency ${m.deletionConcurrency}` +
      (m.timeScale === 1
        ? ''
        : `, refills × ${m.timeScale} (DeregisterImage ${perSecond(DEREGISTER_REFILL * m.timeScale)} per account)`),
    [
      {
        status: m.status,
        'dereg/s past every burst (of limit)': `${perSecond(rate)} of ${perSecond(limit)}`,
        ratio: (rate / limit).toFixed(2),
        'last third (ratio)': `${perSecond(lastThird)} (${(lastThird / limit).toFixed(2)})`,
        'dereg/s from approval': perSecond(overall),
        'AMIs DONE': int(m.imagesDone),
        items: m.statuses,
        FAILED: m.failed,
        wall: `${wall.toFixed(1)} s (planning ${((m.approvedAt - m.startedAt) / 1000).toFixed(1)} s, deleting ${deleting.toFixed(1)} s)`,
        'CPU per AMI (deleting)': ms(m.cpuMs / Math.max(1, all.length)),
        'largest history': int(largestEvents),
        'largest payload': kib(largestPayload),
      },
    ],
  );
  return [
    {
      bench: 'org-throughput',
      case: `${m.targetCount} targets × ${int(m.amis)} AMIs, buckets on${m.timeScale === 1 ? '' : ` × ${m.timeScale}`}`,
      figure:
        `${perSecond(rate)} past every burst = ${(rate / limit).toFixed(2)} of ${m.targetCount} × ${perSecond(DEREGISTER_REFILL * m.timeScale)}; ` +
        `${int(m.imagesDone)} DONE, ${m.failed} FAILED; wall ${wall.toFixed(0)} s; largest history ${int(largestEvents)}; ` +
        `largest payload ${kib(largestPayload)}`,
    },
  ];
}
