/**
 * Hostile requests against a real run waiting for two of three named approvers (the real ASL, the
 * real handlers, the page on a loopback port). Ada has approved with her personal link; every row
 * below then tries to reach, fake or skip the second approval. Each must be refused with a heading
 * that says why, leave the approval PENDING with Ada's vote only, resume nothing, delete nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRequest } from '../../cli/local-runner/approval-wait.ts';
import { answerApprovalLink } from '../../cli/local-runner/scripted-approver.ts';
import { formToken, signApprovalLink } from '../../functions/adapters/approval-link.ts';
import {
  type Execution,
  expectNothingDeleted,
  startWorkflowHarness,
  type WorkflowHarness,
} from '../workflow/harness.ts';
import { hostile } from './count.ts';

const SIGNING_SECRET_ID = 'ami-cleaner/approval-signing-key';
const ADA = 'ada@example.com';
const BOB = 'bob@example.com';
const CY = 'cy@example.com';
const FORM = 'application/x-www-form-urlencoded';

interface WaitingForApprovers {
  readonly h: WorkflowHarness;
  readonly request: ApprovalRequest;
  readonly running: Promise<Execution>;
}

async function waitForApprovers(runId: string): Promise<WaitingForApprovers> {
  const h = await startWorkflowHarness({
    approvalTimeoutSeconds: 600,
    approvers: [ADA, BOB, CY],
    requiredApprovals: 2,
  });
  let announce: (r: ApprovalRequest) => void = () => {};
  const announced = new Promise<ApprovalRequest>((resolve) => {
    announce = resolve;
  });
  const running = h.run({ decision: 'NONE', executionName: runId, beforeAnswer: (r) => announce(r) });
  return { h, request: await announced, running };
}

async function formOf(link: string): Promise<Record<string, string>> {
  const form: Record<string, string> = {};
  for (const match of (await (await fetch(link)).text()).matchAll(
    /<input type="hidden" name="([^"]+)" value="([^"]*)">/g,
  )) {
    form[match[1] as string] = (match[2] as string).replaceAll('&amp;', '&');
  }
  return form;
}

const linkOf = (request: ApprovalRequest, approver: string) =>
  request.links.find((l) => l.approver === approver)?.link ?? '';

describe('hostile approvals against a run waiting for two of three named approvers', () => {
  const RUN_ID = 'hostile-approvers';
  let waiting: WaitingForApprovers;
  let ada = '';
  let bob = '';
  let adaForm: Record<string, string> = {};
  let bobForm: Record<string, string> = {};
  const key = () => waiting.h.stack.control.secrets.get(SIGNING_SECRET_ID)?.value ?? '';
  const param = (link: string, name: string) => new URL(link).searchParams.get(name) ?? '';
  const withParams = (link: string, changes: Record<string, string | null>) => {
    const url = new URL(link);
    for (const [name, value] of Object.entries(changes))
      value === null ? url.searchParams.delete(name) : url.searchParams.set(name, value);
    return url.toString();
  };
  const signed = (approver: string | undefined, expiresAt?: Date) =>
    signApprovalLink({
      baseUrl: `${new URL(ada).origin}/`,
      approvalId: param(ada, 'a'),
      expiresAt: expiresAt ?? new Date(Number(param(ada, 'e')) * 1000),
      key: key(),
      ...(approver ? { approver } : {}),
    });

  beforeAll(async () => {
    waiting = await waitForApprovers(RUN_ID);
    ada = linkOf(waiting.request, ADA);
    bob = linkOf(waiting.request, BOB);
    adaForm = await formOf(ada);
    bobForm = await formOf(bob);
    // Ada approves genuinely: one of the two approvals.
    await answerApprovalLink(ada, 'APPROVE', 'Ada');
  });

  afterAll(async () => {
    waiting.request.withdraw();
    const execution = await waiting.running;
    expect(execution.result.output).toMatchObject({ status: 'WITHDRAWN', deregistered: 0 });
    expectNothingDeleted(waiting.h);
    await waiting.h.stop();
  });

  const post = (link: string, form: Record<string, string>, changes: Record<string, string> = {}) =>
    fetch(link, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams({ ...form, approver: 'Mallory', decision: 'APPROVE', ...changes }).toString(),
    });

  const rows: readonly [string, () => Promise<Response>, number][] = [
    ['the same approver twice (her page posted again)', () => post(ada, adaForm), 409],
    [
      'a second link of the same approver (re-signed with another expiry)',
      async () => {
        const second = signed(ADA, new Date(Number(param(ada, 'e')) * 1000 - 60_000));
        return post(second, await formOf(second));
      },
      409,
    ],
    [
      'a link for an address not in approvers (genuinely signed)',
      () => fetch(signed('mallory@example.com')),
      403,
    ],
    [
      'a POST for an address not in approvers (genuinely signed link and form token)',
      () => {
        const link = signed('mallory@example.com');
        return post(link, {
          ...adaForm,
          r: 'mallory@example.com',
          formToken: formToken(key(), param(ada, 'a'), adaForm.planHash ?? '', 'mallory@example.com'),
        });
      },
      403,
    ],
    ['Ada’s link with the approver changed to Bob', () => fetch(withParams(ada, { r: BOB })), 403],
    ['Ada’s link posted as Bob (r changed in the form)', () => post(ada, { ...adaForm, r: BOB }), 403],
    ['Ada’s link with the approver removed', () => fetch(withParams(ada, { r: null })), 403],
    ['the shared link (genuinely signed, no approver)', () => fetch(signed(undefined)), 403],
    ['Bob’s link with Ada’s form (form token bound to Ada)', () => post(bob, { ...adaForm, r: BOB }), 403],
    [
      'a quorum with a stale plan hash (Bob approves another plan, genuinely signed form token)',
      () =>
        post(bob, {
          ...bobForm,
          planHash: 'f'.repeat(64),
          formToken: formToken(key(), param(bob, 'a'), 'f'.repeat(64), BOB),
        }),
      409,
    ],
  ];

  it.each(rows)(hostile('named approvers', '%s'), async (_what, attack, status) => {
    // Act
    const response = await attack();
    const html = await response.text();

    // Assess: refused with a heading that says why.
    expect(response.status).toBe(status);
    expect(html).toMatch(/<h1[^>]*>[^<]{3,}<\/h1>/);
    // Assess: Ada's vote is the only one, the run still waits, nothing resumed or deleted.
    const run = await waiting.h.runRecord(RUN_ID);
    const approval = await waiting.h.ledger.getApproval(run?.approvalId ?? '');
    expect(run?.status).toBe('AWAITING_APPROVAL');
    expect(approval?.status).toBe('PENDING');
    expect(Object.keys(approval?.votes ?? {})).toEqual([ADA]);
    expect(waiting.h.account.callsTo('SendTaskSuccess')).toEqual([]);
    expect(waiting.h.ec2Mutations()).toEqual([]);
  });
});

describe('hostile approval after another approver rejected', () => {
  let waiting: WaitingForApprovers;
  let execution: Execution;
  let late: Response;

  beforeAll(async () => {
    waiting = await waitForApprovers('hostile-after-rejection');
    const ada = linkOf(waiting.request, ADA);
    const adaForm = await formOf(ada);
    await answerApprovalLink(linkOf(waiting.request, BOB), 'REJECT', 'Bob');
    execution = await waiting.running;
    late = await fetch(ada, {
      method: 'POST',
      headers: { 'content-type': FORM },
      body: new URLSearchParams({ ...adaForm, approver: 'Ada', decision: 'APPROVE' }).toString(),
    });
  });

  afterAll(async () => {
    await waiting.h.stop();
  });

  it(hostile('named approvers', 'an approval after another approver rejected'), async () => {
    // Assess: one rejection ended the run; the late approval is refused and resumes nothing.
    expect(execution.result.output).toMatchObject({ status: 'REJECTED', deregistered: 0 });
    expect(late.status).toBe(409);
    expect(await late.text()).toMatch(/<h1[^>]*>[^<]{3,}<\/h1>/);
    expect(waiting.h.account.callsTo('SendTaskSuccess').filter((c) => c.error === undefined)).toHaveLength(1);
    expectNothingDeleted(waiting.h);
  });
});
