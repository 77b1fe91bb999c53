import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ApprovalStore, TaskToken } from '../../../functions/adapters/ledger/approvals.ts';
import { PlanConflictError } from '../../../functions/adapters/ledger/errors.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');

describe('ApprovalStore on dynalite', () => {
  let approvals: ApprovalStore;
  let loseNextResponse: (command: string) => void;

  onDynalite(T0, ({ options }) => {
    approvals = new ApprovalStore(options);
    // After the call reached the table, its answer is lost: the SDK's retry sends it again.
    let lose: string | undefined;
    loseNextResponse = (command) => {
      lose = command;
    };
    options.doc.middlewareStack.add(
      (next, context) => async (args) => {
        const out = await next(args);
        if (context.commandName === lose) {
          lose = undefined;
          throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
        }
        return out;
      },
      { step: 'deserialize', name: 'loseResponse' },
    );
  });

  describe('approvals', () => {
    const approval = {
      approvalId: '11111111-2222-4333-8444-555555555555',
      runId: 'run-1',
      planHash: 'a'.repeat(64),
      planKey: 'runs/run-1/plan.json',
      taskToken: 'SECRET-TASK-TOKEN',
      expiresAt: new Date(T0.getTime() + 3600_000),
    };

    it('keeps the task token out of getApproval', async () => {
      // Prepare
      await approvals.putApproval(approval);

      // Act
      const record = await approvals.getApproval(approval.approvalId);

      // Assess
      expect(record).toMatchObject({
        status: 'PENDING',
        runId: 'run-1',
        expiresAt: approval.expiresAt.toISOString(),
      });
      expect(JSON.stringify(record)).not.toContain('SECRET-TASK-TOKEN');
    });

    it('treats its own put whose response was lost as written, not as a conflict', async () => {
      // Prepare
      loseNextResponse('PutItemCommand');

      // Act
      await approvals.putApproval(approval);

      // Assess
      expect(await approvals.getApproval(approval.approvalId)).toMatchObject({
        status: 'PENDING',
        hasTaskToken: true,
      });
    });

    it('hands the token to the use whose response was lost, and to no one else', async () => {
      // Prepare
      await approvals.putApproval(approval);
      const use = { decision: 'APPROVED' as const, approver: 'Ada', planHash: 'a'.repeat(64) };
      loseNextResponse('UpdateItemCommand');

      // Act
      const first = await approvals.useApproval(approval.approvalId, use, T0);
      const other = await approvals.useApproval(approval.approvalId, use, T0);

      // Assess
      expect(first.used && first.taskToken.reveal()).toBe('SECRET-TASK-TOKEN');
      expect(other.used).toBe(false);
      expect(await approvals.getApproval(approval.approvalId)).toMatchObject({
        status: 'APPROVED',
        approver: 'Ada',
      });
    });

    it('removes the token when the decision is settled or the approval expires', async () => {
      // Prepare
      const second = { ...approval, approvalId: '22222222-2222-4333-8444-555555555555' };
      await approvals.putApproval(approval);
      await approvals.putApproval(second);
      const use = await approvals.useApproval(
        approval.approvalId,
        { decision: 'APPROVED', approver: 'Ada', planHash: 'a'.repeat(64) },
        T0,
      );

      // Act
      await approvals.settleApproval(approval.approvalId, use.used ? use.useId : '');
      await approvals.expireApproval(second.approvalId);

      // Assess
      expect(await approvals.getApproval(approval.approvalId)).toMatchObject({
        status: 'APPROVED',
        hasTaskToken: false,
      });
      expect(await approvals.getApproval(second.approvalId)).toMatchObject({
        status: 'EXPIRED',
        hasTaskToken: false,
      });
    });

    it('forgets the token of a decided approval whose delivery was never settled, and only of a decided one', async () => {
      // Prepare: the page crashed between SendTaskSuccess and settleApproval, so the token stayed.
      const pending = { ...approval, approvalId: '33333333-3333-4333-8444-555555555555' };
      await approvals.putApproval(approval);
      await approvals.putApproval(pending);
      await approvals.useApproval(
        approval.approvalId,
        { decision: 'REJECTED', approver: 'Ada', planHash: 'a'.repeat(64) },
        T0,
      );

      // Act
      const decided = await approvals.forgetTaskToken(approval.approvalId);
      const again = await approvals.forgetTaskToken(approval.approvalId);
      const stillPending = await approvals.forgetTaskToken(pending.approvalId);

      // Assess
      expect([decided, again, stillPending]).toEqual([true, true, false]);
      expect(await approvals.getApproval(approval.approvalId)).toMatchObject({
        status: 'REJECTED',
        hasTaskToken: false,
      });
      expect(await approvals.getApproval(pending.approvalId)).toMatchObject({
        status: 'PENDING',
        hasTaskToken: true,
      });
    });

    it('refuses to overwrite an existing approval', async () => {
      // Prepare
      await approvals.putApproval(approval);

      // Act
      const attempt = approvals.putApproval({ ...approval, taskToken: 'OTHER' });

      // Assess
      await expect(attempt).rejects.toThrow(PlanConflictError);
    });

    it('is used once: the first use gets the token, the second gets nothing', async () => {
      // Prepare
      await approvals.putApproval(approval);
      const use = { decision: 'APPROVED' as const, approver: 'Ada', planHash: 'a'.repeat(64) };

      // Act
      const first = await approvals.useApproval(approval.approvalId, use, T0);
      const second = await approvals.useApproval(approval.approvalId, { ...use, decision: 'REJECTED' }, T0);

      // Assess
      expect(first.used).toBe(true);
      expect(first.used && first.taskToken.reveal()).toBe('SECRET-TASK-TOKEN');
      expect(second).toEqual({ used: false });
      expect(await approvals.getApproval(approval.approvalId)).toMatchObject({
        status: 'APPROVED',
        decision: 'APPROVED',
        approver: 'Ada',
      });
    });

    it('is not used with another plan hash, after expiry, or when unknown', async () => {
      // Prepare
      await approvals.putApproval(approval);
      const use = { decision: 'APPROVED' as const, approver: 'Ada', planHash: 'a'.repeat(64) };

      // Act
      const wrongHash = await approvals.useApproval(
        approval.approvalId,
        { ...use, planHash: 'b'.repeat(64) },
        T0,
      );
      const late = await approvals.useApproval(approval.approvalId, use, new Date(T0.getTime() + 3601_000));
      const unknown = await approvals.useApproval('unknown-id', use, T0);

      // Assess
      expect([wrongHash, late, unknown]).toEqual([{ used: false }, { used: false }, { used: false }]);
      expect((await approvals.getApproval(approval.approvalId))?.status).toBe('PENDING');
    });

    it('can be reopened after an undelivered decision, and expired', async () => {
      // Prepare
      await approvals.putApproval(approval);
      await approvals.useApproval(
        approval.approvalId,
        { decision: 'REJECTED', approver: 'Ada', planHash: 'a'.repeat(64) },
        T0,
      );

      // Act
      const reopened = await approvals.reopenApproval(approval.approvalId, 'REJECTED');
      const reopenedState = await approvals.getApproval(approval.approvalId);
      await approvals.expireApproval(approval.approvalId);

      // Assess
      expect(reopened).toBe(true);
      expect(reopenedState?.status).toBe('PENDING');
      expect(reopenedState).not.toHaveProperty('approver');
      expect((await approvals.getApproval(approval.approvalId))?.status).toBe('EXPIRED');
    });
  });
});

describe('TaskToken', () => {
  it('never prints its value', () => {
    // Prepare
    const token = new TaskToken('SECRET');

    // Act
    const printed = [JSON.stringify({ token }), String(token), `${token}`, inspect({ token })].join(' ');

    // Assess
    expect(printed).not.toContain('SECRET');
    expect(token.reveal()).toBe('SECRET');
  });
});
