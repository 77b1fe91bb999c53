/**
 * How many targets one organization run holds (`npm run bench -- org-state`). The parent's Maps
 * are DISTRIBUTED, so its history does not grow with the targets; its state does. This runs the
 * real ResolveTargets handler (in-memory ledger and workspace) for growing selections and prints
 * what it returns, the worst-case state that follows from it (`organizationStateBytes`: every
 * target again in `$.plan.awaiting`, the caught error twice, the small results) against 256 KiB, and the
 * parent's worst-case history. Then the largest selection it accepts, found by bisection.
 */
import type { Ledger } from '../functions/adapters/ledger/index.ts';
import { MemoryWorkspace } from '../functions/adapters/workspace.ts';
import { organizationStateBytes, TargetScopeError } from '../functions/core/organization-run.ts';
import { PAYLOAD_LIMIT_BYTES } from '../functions/core/quotas.ts';
import { DEFAULT_PLAN_SETTINGS } from '../functions/core/settings.ts';
import { crossTargets, validateTargetSelection } from '../functions/core/target.ts';
import { createResolveTargetsHandler, type ResolveTargetsResult } from '../functions/resolve-targets.ts';
import { definitionHistoryBudget, organizationDefinitionBudget } from '../infra/lib/definition.ts';
import { DEFAULT_MAX_DELETIONS_PER_RUN } from '../infra/lib/props.ts';
import { printTable, type SummaryRow } from './harness.ts';

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-2'];
/** A run id as long as Step Functions allows (80), so the target run ids are their longest. */
const LONGEST_RUN_ID = `scheduled-${'x'.repeat(70)}`;

const accounts = (count: number) => Array.from({ length: count }, (_, i) => String(100_000_000_000 + i));
const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

async function resolve(accountIds: string[], regions: string[]): Promise<ResolveTargetsResult> {
  const ledger = { putRun: async () => {}, updateRun: async () => true } as unknown as Ledger;
  const handler = createResolveTargetsHandler({
    ledger,
    workspace: new MemoryWorkspace(),
    selection: validateTargetSelection({ accounts: accountIds, regions }),
    resolve: async (s) => crossTargets(s.accounts, s.regions),
    defaultSettings: DEFAULT_PLAN_SETTINGS,
    maxDeletionsPerRun: DEFAULT_MAX_DELETIONS_PER_RUN,
    historyBudget: definitionHistoryBudget(),
    organizationBudget: organizationDefinitionBudget(),
  });
  return handler({
    input: { trigger: 'schedule' },
    execution: {
      id: `arn:aws:states:eu-west-1:123456789012:execution:org:${LONGEST_RUN_ID}`,
      name: LONGEST_RUN_ID,
      startTime: '2026-12-02T03:00:00.000Z',
    },
  });
}

async function accepts(accountCount: number, regions: string[]): Promise<boolean> {
  try {
    await resolve(accounts(accountCount), regions);
    return true;
  } catch (error) {
    // Only the refusal counts as "does not fit": any other error is a broken bench.
    if (error instanceof TargetScopeError) return false;
    throw error;
  }
}

export async function runOrgState(): Promise<SummaryRow[]> {
  const budget = organizationDefinitionBudget();
  const rows: Record<string, string>[] = [];
  // Bytes a target: the growth over 10 targets, so the fixed part (run, input, reserve) cancels.
  const base = organizationStateBytes(await resolve(accounts(10), REGIONS.slice(0, 1)));
  for (const [accountCount, regionCount] of [
    [10, 1],
    [100, 1],
    [100, 3],
    [100, 5],
  ] as const) {
    const result = await resolve(accounts(accountCount), REGIONS.slice(0, regionCount));
    const resolved = Buffer.byteLength(JSON.stringify(result));
    const worst = organizationStateBytes(result);
    const targets = result.targets.length;
    rows.push({
      targets: `${accountCount} accounts × ${regionCount} regions = ${targets}`,
      'ResolveTargets output': kib(resolved),
      'worst-case state': kib(worst),
      'of 256 KiB': (worst / PAYLOAD_LIMIT_BYTES).toFixed(2),
      'bytes a target': targets > 10 ? ((worst - base) / (targets - 10)).toFixed(0) : '',
      'worst-case history': `${budget.fixed + budget.perTarget * targets} (${budget.fixed} + ${budget.perTarget} a target)`,
    });
  }
  // The largest selection accepted, one region (the longest-named of the five: the worst case).
  let fits = 1;
  let over = 2_000;
  while (over - fits > 1) {
    const mid = Math.floor((fits + over) / 2);
    if (await accepts(mid, ['ap-southeast-2'])) fits = mid;
    else over = mid;
  }
  printTable(
    `Organization run state (run id of ${LONGEST_RUN_ID.length} characters, real run context)`,
    rows,
  );
  console.log(`  largest selection ResolveTargets accepts in ap-southeast-2: ${fits} accounts`);
  const last = rows.at(-1) as Record<string, string>;
  return [
    {
      bench: 'org-state',
      case: '100 accounts × 5 regions',
      figure: `worst-case state ${last['worst-case state']} (${last['of 256 KiB']} of 256 KiB), history ${last['worst-case history']}; at most ${fits} targets`,
    },
  ];
}
