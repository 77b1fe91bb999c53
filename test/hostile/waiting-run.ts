/**
 * A real run that waits for approval: the workflow harness executes the real ASL up to the
 * approval wait and leaves the emailed link unanswered. Hostile inputs are thrown at it; `end()`
 * withdraws the approval and returns the finished execution, which must have deleted nothing.
 */
import type { ApprovalRequest } from '../../cli/local-runner/approval-wait.ts';
import { localLockKey } from '../../cli/local-runner/run-workflow.ts';
import { type Execution, startWorkflowHarness, type WorkflowHarness } from '../workflow/harness.ts';

export interface WaitingRun {
  readonly h: WorkflowHarness;
  readonly runId: string;
  readonly request: ApprovalRequest;
  /** The hidden fields of the genuine page, as a browser would submit them. */
  readonly form: Readonly<Record<string, string>>;
  /** The approval is still PENDING, the run still waits, nothing was resumed or deleted. */
  untouched(): Promise<{
    run?: string;
    approval?: string;
    resumed: number;
    mutations: string[];
    lock?: string;
  }>;
  end(): Promise<Execution>;
}

export async function startWaitingRun(runId: string): Promise<WaitingRun> {
  const h = await startWorkflowHarness({ approvalTimeoutSeconds: 600 });
  let announce: (r: ApprovalRequest) => void = () => {};
  const announced = new Promise<ApprovalRequest>((resolve) => {
    announce = resolve;
  });
  const running = h.run({ decision: 'NONE', executionName: runId, beforeAnswer: (r) => announce(r) });
  const request = await announced;
  const form: Record<string, string> = {};
  const page = await fetch(request.link);
  for (const match of (await page.text()).matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form[match[1] as string] = (match[2] as string).replaceAll('&amp;', '&');
  }
  return {
    h,
    runId,
    request,
    form,
    async untouched() {
      const run = await h.runRecord(runId);
      const approval = await h.ledger.getApproval(run?.approvalId ?? '');
      const lock = await h.ledger.getLock(localLockKey(h.stack));
      return {
        ...(run ? { run: run.status } : {}),
        ...(approval ? { approval: approval.status } : {}),
        ...(lock ? { lock: lock.owner } : {}),
        resumed: h.account.callsTo('SendTaskSuccess').filter((c) => c.error === undefined).length,
        mutations: h.ec2Mutations(),
      };
    },
    async end() {
      request.withdraw();
      const execution = await running;
      await h.stop();
      return execution;
    },
  };
}

/** What `untouched()` answers while nothing happened to the waiting run. */
export function stillWaiting(runId: string) {
  return { run: 'AWAITING_APPROVAL', approval: 'PENDING', lock: runId, resumed: 0, mutations: [] };
}
