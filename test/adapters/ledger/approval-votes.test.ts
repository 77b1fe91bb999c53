import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { VoteStore } from '../../../functions/adapters/ledger/approval-votes.ts';
import { ApprovalStore } from '../../../functions/adapters/ledger/approvals.ts';
import type { LedgerOptions } from '../../../functions/adapters/ledger/table.ts';
import { onDynalite } from './on-dynalite.ts';

const T0 = new Date('2026-05-01T10:00:00.000Z');
const HASH = 'a'.repeat(64);
const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const CY = 'cy@example.com';
const APPROVAL_ID = '11111111-2222-4333-8444-555555555555';

const approval = {
  approvalId: APPROVAL_ID,
  runId: 'run-1',
  planHash: HASH,
  planKey: 'runs/run-1/plan.json',
  taskToken: 'SECRET-TASK-TOKEN',
  expiresAt: new Date(T0.getTime() + 3600_000),
  approvers: [ADA, BOB, CY],
  requiredApprovals: 2,
};
const origin = { sourceIp: '198.51.100.7', userAgent: 'Mozilla/5.0' };
const vote = (approver: string, decision: 'APPROVED' | 'REJECTED' = 'APPROVED') => ({
  approver,
  decision,
  planHash: HASH,
  comment: `name of ${approver}`,
  origin,
});

describe('VoteStore on dynalite', () => {
  let approvals: ApprovalStore;
  let votes: VoteStore;
  let options: LedgerOptions;
  let loseNextResponse: (command: string) => void;

  onDynalite(T0, (table) => {
    options = table.options;
    approvals = new ApprovalStore(options);
    votes = new VoteStore(options);
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

  it('records a first approval without deciding, and hands the token to the approval that makes the quorum', async () => {
    // Prepare
    await approvals.putApproval(approval);

    // Act
    const first = await votes.castVote(APPROVAL_ID, vote(ADA), T0);
    const afterFirst = await approvals.getApproval(APPROVAL_ID);
    const second = await votes.castVote(APPROVAL_ID, vote(BOB), new Date(T0.getTime() + 1000));

    // Assess
    expect(first).toMatchObject({ outcome: 'recorded', tally: { approvedBy: [ADA], reached: false } });
    expect(afterFirst).toMatchObject({ status: 'PENDING', hasTaskToken: true });
    expect(second.outcome).toBe('decided');
    expect(second.outcome === 'decided' && second.taskToken.reveal()).toBe('SECRET-TASK-TOKEN');
    const record = await approvals.getApproval(APPROVAL_ID);
    expect(record).toMatchObject({ status: 'APPROVED', decision: 'APPROVED', approver: `${ADA}, ${BOB}` });
    // Every decision: the address as approver, the time, where the POST came from, the typed name as a comment.
    expect(record?.votes?.[ADA]).toEqual({
      decision: 'APPROVED',
      planHash: HASH,
      decidedAt: T0.toISOString(),
      comment: `name of ${ADA}`,
      sourceIp: '198.51.100.7',
      userAgent: 'Mozilla/5.0',
    });
    expect(JSON.stringify(record)).not.toContain('SECRET-TASK-TOKEN');
  });

  it('counts the same approver once: a second vote of the same address is refused and decides nothing', async () => {
    // Prepare
    await approvals.putApproval(approval);
    await votes.castVote(APPROVAL_ID, vote(ADA), T0);

    // Act
    const again = await votes.castVote(APPROVAL_ID, { ...vote(ADA), comment: 'someone else' }, T0);

    // Assess
    expect(again).toMatchObject({ outcome: 'refused', reason: 'already-voted' });
    expect(await approvals.getApproval(APPROVAL_ID)).toMatchObject({ status: 'PENDING', hasTaskToken: true });
  });

  it('ends with one rejection: it gets the token, and no approval counts after it', async () => {
    // Prepare
    await approvals.putApproval(approval);
    await votes.castVote(APPROVAL_ID, vote(ADA), T0);

    // Act
    const rejected = await votes.castVote(APPROVAL_ID, vote(BOB, 'REJECTED'), T0);
    const late = await votes.castVote(APPROVAL_ID, vote(CY), T0);

    // Assess
    expect(rejected.outcome).toBe('decided');
    expect(late).toMatchObject({ outcome: 'refused', reason: 'not-pending' });
    expect(await approvals.getApproval(APPROVAL_ID)).toMatchObject({ status: 'REJECTED', approver: BOB });
  });

  it('refuses an address that is not an approver, another plan hash, and an expired approval', async () => {
    // Prepare
    await approvals.putApproval(approval);

    // Act
    const stranger = await votes.castVote(APPROVAL_ID, vote('mallory@example.com'), T0);
    const stale = await votes.castVote(APPROVAL_ID, { ...vote(ADA), planHash: 'b'.repeat(64) }, T0);
    const late = await votes.castVote(APPROVAL_ID, vote(ADA), new Date(T0.getTime() + 3601_000));

    // Assess
    expect([stranger, stale, late].map((r) => r.outcome === 'refused' && r.reason)).toEqual([
      'not-an-approver',
      'plan-changed',
      'expired',
    ]);
    expect((await approvals.getApproval(APPROVAL_ID))?.votes).toEqual({});
  });

  it('does not reach a quorum with a vote recorded for a stale plan hash', async () => {
    // Prepare: the ledger holds Ada's approval of another plan (a tampered or stale record).
    await approvals.putApproval(approval);
    await options.doc.send(
      new UpdateCommand({
        TableName: options.tableName,
        Key: { pk: `APPROVAL#${APPROVAL_ID}`, sk: 'APPROVAL' },
        UpdateExpression: 'SET votes.#ada = :vote, approvalsCounted = :one',
        ExpressionAttributeNames: { '#ada': ADA },
        ExpressionAttributeValues: {
          ':vote': { ...vote(ADA), planHash: 'b'.repeat(64), decidedAt: T0.toISOString() },
          ':one': 1,
        },
      }),
    );

    // Act
    const bob = await votes.castVote(APPROVAL_ID, vote(BOB), T0);

    // Assess
    expect(bob).toMatchObject({ outcome: 'recorded', tally: { approvedBy: [BOB], reached: false } });
    expect(await approvals.getApproval(APPROVAL_ID)).toMatchObject({ status: 'PENDING', hasTaskToken: true });
  });

  it('decides exactly once when two approvers press at the same moment', async () => {
    // Prepare
    await approvals.putApproval({ ...approval, approvers: [ADA, BOB], requiredApprovals: 2 });

    // Act: both read "no approval yet" before either writes; only one write can count.
    const [a, b] = await Promise.all([
      votes.castVote(APPROVAL_ID, vote(ADA), T0),
      votes.castVote(APPROVAL_ID, vote(BOB), T0),
    ]);

    // Assess
    expect([a.outcome, b.outcome].sort()).toEqual(['decided', 'recorded']);
    expect(await approvals.getApproval(APPROVAL_ID)).toMatchObject({ status: 'APPROVED' });
  });

  it('decides exactly once among three approvers racing for a quorum of two', async () => {
    // Prepare
    await approvals.putApproval(approval);

    // Act
    const results = await Promise.all(
      [ADA, BOB, CY].map((who) => votes.castVote(APPROVAL_ID, vote(who), T0)),
    );

    // Assess: one decides, one is recorded, the third finds the approval decided.
    expect(results.filter((r) => r.outcome === 'decided')).toHaveLength(1);
    const record = await approvals.getApproval(APPROVAL_ID);
    expect(record?.status).toBe('APPROVED');
    expect(record?.approver?.split(', ')).toHaveLength(2);
  });

  it('a lost response: a partial-quorum vote whose response was lost is recorded once, and the next approver decides', async () => {
    // Prepare
    await approvals.putApproval(approval);
    loseNextResponse('UpdateItemCommand');

    // Act
    const first = await votes.castVote(APPROVAL_ID, vote(ADA), T0);
    const second = await votes.castVote(APPROVAL_ID, vote(BOB), T0);

    // Assess: the retry failed its condition, the re-read found its own vote: recorded, not refused.
    expect(first).toMatchObject({ outcome: 'recorded', tally: { approvedBy: [ADA] } });
    expect(second.outcome).toBe('decided');
    expect(await approvals.getApproval(APPROVAL_ID)).toMatchObject({
      status: 'APPROVED',
      approver: `${ADA}, ${BOB}`,
    });
  });

  it('a lost response: the deciding vote whose response was lost still gets the token, and no one else does', async () => {
    // Prepare
    await approvals.putApproval(approval);
    await votes.castVote(APPROVAL_ID, vote(ADA), T0);
    loseNextResponse('UpdateItemCommand');

    // Act
    const deciding = await votes.castVote(APPROVAL_ID, vote(BOB), T0);
    const third = await votes.castVote(APPROVAL_ID, vote(CY), T0);

    // Assess
    expect(deciding.outcome === 'decided' && deciding.taskToken.reveal()).toBe('SECRET-TASK-TOKEN');
    expect(third).toMatchObject({ outcome: 'refused', reason: 'not-pending' });
  });

  it('a lost response: a lost vote response followed by a racing approver still decides exactly once', async () => {
    // Prepare
    await approvals.putApproval(approval);
    loseNextResponse('UpdateItemCommand');

    // Act
    const [a, b] = await Promise.all([
      votes.castVote(APPROVAL_ID, vote(ADA), T0),
      votes.castVote(APPROVAL_ID, vote(BOB), T0),
    ]);

    // Assess
    expect([a.outcome, b.outcome].sort()).toEqual(['decided', 'recorded']);
    const record = await approvals.getApproval(APPROVAL_ID);
    expect(Object.keys(record?.votes ?? {}).sort()).toEqual([ADA, BOB]);
    expect(record?.status).toBe('APPROVED');
  });

  it('takes back an undelivered deciding vote, so the approver can press again', async () => {
    // Prepare
    await approvals.putApproval(approval);
    await votes.castVote(APPROVAL_ID, vote(ADA), T0);
    const deciding = await votes.castVote(APPROVAL_ID, vote(BOB), T0);
    if (deciding.outcome !== 'decided') throw new Error('expected a deciding vote');

    // Act
    const reopened = await votes.reopenVote(APPROVAL_ID, BOB, 'APPROVED', deciding.useId);
    const reopenedState = await approvals.getApproval(APPROVAL_ID);
    const again = await votes.castVote(APPROVAL_ID, vote(BOB), T0);

    // Assess
    expect(reopened).toBe(true);
    expect(reopenedState).toMatchObject({ status: 'PENDING', hasTaskToken: true });
    expect(Object.keys(reopenedState?.votes ?? {})).toEqual([ADA]);
    expect(again.outcome).toBe('decided');
  });

  it('keeps a settled decision as an audit record (no TTL) and its shared-link use refused', async () => {
    // Prepare
    await approvals.putApproval(approval);
    await votes.castVote(APPROVAL_ID, vote(ADA), T0);
    const deciding = await votes.castVote(APPROVAL_ID, vote(BOB), T0);
    if (deciding.outcome !== 'decided') throw new Error('expected a deciding vote');

    // Act
    await approvals.settleApproval(APPROVAL_ID, deciding.useId);
    const shared = await approvals.useApproval(
      APPROVAL_ID,
      { decision: 'APPROVED', approver: 'x', planHash: HASH },
      T0,
    );

    // Assess
    const raw = await options.doc.send(
      new UpdateCommand({
        TableName: options.tableName,
        Key: { pk: `APPROVAL#${APPROVAL_ID}`, sk: 'APPROVAL' },
        UpdateExpression: 'SET probe = :p',
        ExpressionAttributeValues: { ':p': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    expect(raw.Attributes).not.toHaveProperty('ttl');
    expect(raw.Attributes).not.toHaveProperty('taskToken');
    expect(shared).toEqual({ used: false });
  });

  it('refuses a shared-link use of an approval that has named approvers', async () => {
    // Prepare
    await approvals.putApproval(approval);

    // Act
    const use = await approvals.useApproval(
      APPROVAL_ID,
      { decision: 'APPROVED', approver: 'x', planHash: HASH },
      T0,
    );

    // Assess
    expect(use).toEqual({ used: false });
    expect((await approvals.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
  });
});
