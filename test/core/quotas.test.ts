import { describe, expect, it } from 'vitest';
import {
  type AslStates,
  deletionTreeProblem,
  HISTORY_EVENT_LIMIT,
  historyBudget,
  itemsPerBatch,
  maxAttempts,
  maxItemsWithinHistory,
  maxItemsWithinTree,
  payloadBudgetProblem,
  ROTATE_PASS_CHOICE,
  UnboundedDefinitionError,
  worstCaseHistoryEvents,
  worstCaseStateBytes,
  worstCaseTreeEvents,
} from '../../functions/core/quotas.ts';
import { rotatePasses } from '../../functions/core/rotate-passes.ts';
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

  it("prices Rotate's pass loop once in the longest path and once more per further pass", () => {
    // Prepare: Rotate → RotateDone? → (RotateNextPass → RotateDone?)* → End
    const passes: AslStates = {
      StartAt: 'Rotate',
      States: {
        Rotate: task({ Retry: [{ MaxAttempts: 1 }], Next: ROTATE_PASS_CHOICE }),
        [ROTATE_PASS_CHOICE]: { Type: 'Choice', Choices: [{ Next: 'Done' }], Default: 'RotateNextPass' },
        RotateNextPass: task({
          Retry: [{ MaxAttempts: 2 }],
          Catch: [{ Next: 'Done' }],
          Next: ROTATE_PASS_CHOICE,
        }),
        Done: { Type: 'Succeed' },
      },
    };
    const elsewhere: AslStates = {
      StartAt: 'A',
      States: {
        A: task({ Next: 'Again?' }),
        'Again?': { Type: 'Choice', Choices: [{ Next: 'A' }], Default: 'Done' },
        Done: { Type: 'Succeed' },
      },
    };

    // Act
    const budget = historyBudget(passes);

    // Assess: execution 2; Rotate 2 + 3×2; Choice 2; RotateNextPass 2 + 3×3 (its Catch to Done); Done 2.
    expect(budget.fixed).toBe(2 + 8 + 2 + 11 + 2);
    expect(budget.perPass).toBe(2 + 11);
    expect(() => historyBudget(elsewhere)).toThrow(/part of a loop/);
  });

  it('adds the further Rotate passes of the cap to the parent, within the limit the cap is checked against', () => {
    // Prepare
    const tree = { parent: { fixed: 100, perItem: 20, perPass: 1_000 }, child: { fixed: 20, perItem: 20 } };

    // Act
    const at20k = worstCaseTreeEvents(tree, 20_000);

    // Assess: 22,000 calls at 8,000 a pass are 3 passes, 2 more than the longest path counts.
    expect(at20k.rotatePasses).toBe(rotatePasses(20_000));
    expect(at20k.rotatePasses).toBe(3);
    expect(at20k.parent).toBe(100 + 20 * at20k.batches + 2 * 1_000);
    const most = maxItemsWithinTree(tree);
    expect(worstCaseTreeEvents(tree, most).parent).toBeLessThanOrEqual(HISTORY_EVENT_LIMIT);
    expect(worstCaseTreeEvents(tree, most + 1).parent).toBeGreaterThan(HISTORY_EVENT_LIMIT);
    expect(deletionTreeProblem(tree, most + 1)).toMatch(/per further Rotate pass/);
  });

  it('fits the shipped definitions at the default cap and at a 20,000 backlog, every execution under 20,000 events', () => {
    // Act
    const tree = definitionHistoryBudget();
    const backlog = worstCaseTreeEvents(tree, 20_000);

    // Assess
    expect(deletionTreeProblem(tree, DEFAULT_MAX_DELETIONS_PER_RUN)).toBeNull();
    expect(deletionTreeProblem(tree, 20_000)).toBeNull();
    expect(backlog.batches).toBe(Math.ceil(20_000 / itemsPerBatch(tree)));
    // RotateNextPass (2 + 3 × 4 attempts) and RotateDone? (2), twice more at 20,000.
    expect(tree.parent.perPass).toBe(16);
    expect(backlog.rotatePasses).toBe(3);
    expect(backlog.parent).toBeLessThanOrEqual(20_000);
    expect(backlog.child).toBeLessThanOrEqual(20_000);
    expect(deletionTreeProblem(tree, maxItemsWithinTree(tree) + 1)).toMatch(/at most \d+ fit/);
  });

  it('sizes a batch by the child history target and by its bytes, whichever is smaller', () => {
    // Prepare: a child whose history allows 1,000 items (20 + 20 per item).
    const roomy = { parent: { fixed: 100, perItem: 20 }, child: { fixed: 20, perItem: 20 } };
    const tight = { parent: { fixed: 100, perItem: 20 }, child: { fixed: 20, perItem: 1000 } };

    // Act / Assess: 24 KiB at 200 B an entry is 122; 20,000 events at 1,000 an item is 19.
    expect(itemsPerBatch(roomy)).toBe(122);
    expect(itemsPerBatch(tight)).toBe(19);
    expect(worstCaseTreeEvents(tight, 100)).toEqual({
      itemsPerBatch: 19,
      batches: 6,
      rotatePasses: 1,
      parent: 220,
      child: 19_020,
    });
  });
});

describe('payload budget', () => {
  it('counts the run context, the errors, the results and one descriptor per deletion batch', () => {
    // Act
    const dry = worstCaseStateBytes(160 * 1024, 0);
    const approved = worstCaseStateBytes(160 * 1024, 60);

    // Assess
    expect(payloadBudgetProblem(dry)).toBeNull();
    expect(payloadBudgetProblem(approved)).toMatch(/past Step Functions' 256 KiB/);
    expect(approved.worstCaseBytes - dry.worstCaseBytes).toBe(60 * 200);
  });
});
