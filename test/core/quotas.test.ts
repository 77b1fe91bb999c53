import { describe, expect, it } from 'vitest';
import {
  type AslStates,
  historyBudget,
  historyBudgetProblem,
  maxAttempts,
  maxItemsWithinHistory,
  payloadBudgetProblem,
  UnboundedDefinitionError,
  worstCaseHistoryEvents,
  worstCaseStateBytes,
} from '../../functions/core/quotas.ts';
import { definitionHistoryBudget } from '../../infra/lib/definition.ts';
import { DEFAULT_MAX_DELETIONS_PER_RUN } from '../../infra/lib/props.ts';

const task = (extra: object = {}) => ({ Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', ...extra });

/** Start → (Map: A retried twice, catch → Record) → End; plus a Choice that can skip the Map. */
const SMALL: AslStates = {
  StartAt: 'Start',
  States: {
    Start: task({ Retry: [{ MaxAttempts: 1 }], Next: 'Skip?' }),
    'Skip?': { Type: 'Choice', Choices: [{ Next: 'Done' }], Default: 'Work' },
    Work: {
      Type: 'Map',
      Next: 'Done',
      ItemProcessor: {
        StartAt: 'A',
        States: {
          A: task({ Retry: [{ MaxAttempts: 2 }], Catch: [{ Next: 'Record' }], End: true }),
          Record: task({ End: true }),
        },
      },
    },
    Done: { Type: 'Succeed' },
  },
};

describe('history budget', () => {
  it('counts the longest path: attempts from every retrier, Map iterations per item', () => {
    // Act
    const budget = historyBudget(SMALL);

    // Assess: execution 2; Start 2 + 3×2; Choice 2; Map 4; Done 2.
    expect(budget.fixed).toBe(2 + 8 + 2 + 4 + 2);
    // Iteration 2; A 2 + 3×3; Record 2 + 3×1.
    expect(budget.perItem).toBe(2 + 11 + 5);
    expect(worstCaseHistoryEvents(budget, 10)).toBe(18 + 18 * 10);
    expect(maxItemsWithinHistory(budget, 200)).toBe(10);
    expect(maxAttempts({ Retry: [{ MaxAttempts: 3 }, {}] })).toBe(1 + 3 + 3);
  });

  it('refuses a definition it cannot bound', () => {
    // Prepare
    const loop: AslStates = { StartAt: 'A', States: { A: task({ Next: 'B' }), B: task({ Next: 'A' }) } };

    // Act / Assess
    expect(() => historyBudget(loop)).toThrow(UnboundedDefinitionError);
  });

  it('fits the shipped definition at the default cap, and not at the issue figures of 1,500 items', () => {
    // Act
    const budget = definitionHistoryBudget();

    // Assess
    expect(historyBudgetProblem(budget, DEFAULT_MAX_DELETIONS_PER_RUN)).toBeNull();
    expect(historyBudgetProblem(budget, 1500)).toMatch(/could take [\d,]+ history events/);
  });
});

describe('payload budget', () => {
  it('counts the run context, the errors, the results and one work entry per deletion', () => {
    // Act
    const dry = worstCaseStateBytes(140 * 1024, 0);
    const approved = worstCaseStateBytes(140 * 1024, 500);

    // Assess
    expect(payloadBudgetProblem(dry)).toBeNull();
    expect(payloadBudgetProblem(approved)).toMatch(/past Step Functions' 256 KiB/);
    expect(approved.worstCaseBytes - dry.worstCaseBytes).toBe(500 * 200);
  });
});
