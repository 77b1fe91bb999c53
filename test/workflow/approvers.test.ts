/**
 * Named approvers through the real workflow: one email per approver, each with a personal link
 * only its subscription accepts; the run deletes only once two of them approved the same plan.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Execution, startWorkflowHarness, type WorkflowHarness } from './harness.ts';

const APPROVERS = ['ada@example.com', 'bob@example.com', 'cy@example.com'];

describe('a run with named approvers', () => {
  let h: WorkflowHarness;

  beforeEach(async () => {
    h = await startWorkflowHarness({ approvers: APPROVERS, requiredApprovals: 2 });
  });

  afterEach(async () => {
    await h.stop();
  });

  it('emails each approver only their own link, with the attribute their subscription filters on', async () => {
    // Act
    const execution: Execution = await h.run({ executionName: 'approvers-emails' });

    // Assess
    const emails = h.account.published.filter((m) => m.messageAttributes.approver !== undefined);
    expect(emails.map((m) => m.messageAttributes.approver)).toEqual(APPROVERS);
    for (const email of emails) {
      const links = [...email.message.matchAll(/https?:\/\/\S+/g)].map((m) => new URL(m[0]));
      expect(links).toHaveLength(1);
      expect(links[0]?.searchParams.get('r')).toBe(email.messageAttributes.approver);
      for (const other of APPROVERS.filter((a) => a !== email.messageAttributes.approver))
        expect(email.message).not.toContain(encodeURIComponent(other));
    }
    expect(h.account.published.filter((m) => m.messageAttributes.approver === undefined)).toEqual([]);
    expect(execution.approvals[0]?.links.map((l) => l.approver)).toEqual(APPROVERS);
  });

  it('deletes after two approvers approved, and records both addresses as the approvers', async () => {
    // Act
    const execution = await h.run({ executionName: 'approvers-quorum' });

    // Assess
    expect(execution.result.output).toMatchObject({ status: 'COMPLETED' });
    expect(h.calledIds('DeregisterImage').length).toBeGreaterThan(0);
    const run = await h.runRecord('approvers-quorum');
    expect(run?.approver).toBe('ada@example.com, bob@example.com');
    const approval = await h.ledger.getApproval(run?.approvalId ?? '');
    expect(Object.keys(approval?.votes ?? {}).sort()).toEqual(['ada@example.com', 'bob@example.com']);
    expect(approval?.votes?.['ada@example.com']).toMatchObject({
      sourceIp: '127.0.0.1',
      decision: 'APPROVED',
    });
    expect(h.account.callsTo('SendTaskSuccess').filter((c) => c.error === undefined)).toHaveLength(1);
  });
});
