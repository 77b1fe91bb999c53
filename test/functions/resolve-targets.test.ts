import { describe, expect, it } from 'vitest';
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import { MemoryWorkspace } from '../../functions/adapters/workspace.ts';
import { organizationStateBytes } from '../../functions/core/organization-run.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';
import { crossTargets, validateTargetSelection } from '../../functions/core/target.ts';
import { createResolveTargetsHandler } from '../../functions/resolve-targets.ts';

const A = '111111111111';
const B = '222222222222';
const EU = 'eu-west-1';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:ami-cleaner-organization:org-run';

function world(options: { accounts?: string[]; regions?: string[]; perTarget?: number } = {}) {
  const writes: string[] = [];
  const ledger = {
    putRun: async (run: { runId: string }) => void writes.push(`putRun ${run.runId}`),
    updateRun: async (runId: string) => {
      writes.push(`updateRun ${runId}`);
      return true;
    },
  } as unknown as Ledger;
  const workspace = new MemoryWorkspace();
  const selection = validateTargetSelection({
    accounts: options.accounts ?? [A, B],
    regions: options.regions ?? [EU],
  });
  const handler = createResolveTargetsHandler({
    ledger,
    workspace,
    selection,
    resolve: async (s) => crossTargets(s.accounts, s.regions),
    defaultSettings: DEFAULT_PLAN_SETTINGS,
    maxDeletionsPerRun: 500,
    historyBudget: { parent: { fixed: 200, perItem: 22 }, child: { fixed: 10, perItem: 40 } },
    organizationBudget: { fixed: 90, perTarget: options.perTarget ?? 84 },
  });
  const start = (input: unknown) =>
    handler({ input, execution: { id: ARN, name: 'org-run', startTime: '2026-12-01T12:00:00.000Z' } });
  return { start, writes, workspace };
}

describe('ResolveTargets', () => {
  it('records the run, its target keys and its reference targets, and names every child', async () => {
    // Prepare
    const w = world();

    // Act
    const result = await w.start({ trigger: 'schedule' });

    // Assess
    expect(result.targets).toEqual([
      { accountId: A, region: EU, runId: `${A}-${EU}-org-run` },
      { accountId: B, region: EU, runId: `${B}-${EU}-org-run` },
    ]);
    expect(result.referenceTargets).toEqual([
      { accountId: A, region: EU },
      { accountId: B, region: EU },
    ]);
    expect(result.childInput).toMatchObject({ trigger: 'schedule', dryRun: false, maxDeletionsPerRun: 500 });
    expect(w.writes).toEqual(['putRun org-run', 'updateRun org-run']);
    expect(await w.workspace.getJson('runs/org-run/reference-targets.json')).toEqual({
      targets: [
        { accountId: A, region: EU },
        { accountId: B, region: EU },
      ],
    });
  });

  it("refuses a selection past the organization run's history budget, never cutting it", async () => {
    // Prepare: 2 targets at 20,000 events each cannot fit 25,000.
    const w = world({ perTarget: 20_000 });

    // Act
    const started = w.start({});

    // Assess
    await expect(started).rejects.toThrow(
      /2 targets could take 40,090 history events in the organization run/,
    );
  });

  it('plans 100 accounts × 5 regions in one run, its Maps adding nothing per target to the history', async () => {
    // Prepare
    const w = world({ accounts: accounts(100), regions: REGIONS, perTarget: 0 });

    // Act
    const result = await w.start({});

    // Assess
    expect(result.targets).toHaveLength(500);
    expect(organizationStateBytes(result)).toBeLessThanOrEqual(256 * 1024);
  });

  it("refuses a selection whose targets would not fit the organization run's state, writing nothing", async () => {
    // Prepare: 1,000 accounts × 1 region, listed twice in the state, past 256 KiB.
    const w = world({ accounts: accounts(1_000), regions: [EU], perTarget: 0 });

    // Act
    const started = w.start({});

    // Assess
    await expect(started).rejects.toThrow(
      /^1000 targets could make the organization run's state \d+ KiB, past Step Functions' 256 KiB; select fewer/,
    );
    expect(w.writes).toEqual(['putRun org-run']);
    await expect(w.workspace.getJson('runs/org-run/reference-targets.json')).rejects.toThrow();
  });
});

const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-southeast-2'];

function accounts(count: number): string[] {
  return Array.from({ length: count }, (_, i) => String(100_000_000_000 + i));
}
