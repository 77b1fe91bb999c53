import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyApprovalLink } from '../functions/adapters/approval-link.ts';
import { Ledger } from '../functions/adapters/ledger/index.ts';
import { MemoryWorkspace, runKey } from '../functions/adapters/workspace.ts';
import {
  ApprovalRequestError,
  createRequestApprovalHandler,
  type RequestApprovalEvent,
  renderApprovalEmail,
} from '../functions/request-approval.ts';
import { type LocalDynamo, startDynalite } from './helpers/dynalite.ts';
import { runContext, smallPlan } from './helpers/ledger-fixtures.ts';

const KEY = 'test-signing-key-0123456789abcdef';
const NOW = new Date('2026-05-01T12:00:00.000Z');
const TASK_TOKEN = 'AQCEAAAAKgAAAA-very-secret-task-token-value';
const PLAN_HASH = 'a'.repeat(64);
const BASE_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/';

const snsMock = mockClient(SNSClient);

describe('request approval', () => {
  let dynamo: LocalDynamo;
  let ledger: Ledger;
  let workspace: MemoryWorkspace;
  let event: RequestApprovalEvent;
  let handle: (event: RequestApprovalEvent) => Promise<{ approvalId: string; expiresAt: string }>;
  let logged: string[];

  beforeEach(async () => {
    dynamo = await startDynalite();
    ledger = new Ledger({ doc: dynamo.docClient, tableName: dynamo.tableName, now: () => NOW });
    workspace = new MemoryWorkspace();
    const run = runContext({ maxDeletionsPerRun: 3 });
    await ledger.putRun(run);
    await ledger.recordPlan(run, smallPlan());
    await workspace.putJson(runKey(run.runId, 'plan'), smallPlan());
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    event = { run, planKey: runKey(run.runId, 'plan'), planHash: PLAN_HASH, taskToken: TASK_TOKEN };
    logged = [];
    const record = (message: string, extra: Readonly<Record<string, string>>) => {
      logged.push(`${message} ${JSON.stringify(extra)}`);
    };
    handle = createRequestApprovalHandler({
      ledger,
      workspace,
      sns: new SNSClient({}),
      topicArn: 'arn:aws:sns:eu-west-1:123456789012:approvals',
      baseUrl: BASE_URL,
      signingKey: async () => KEY,
      timeoutSeconds: 86_400,
      now: () => NOW,
      logger: { info: record, warn: record, error: record },
    });
  });

  afterEach(async () => {
    snsMock.reset();
    await dynamo.stop();
  });

  function published(): { Subject?: string; Message?: string; TopicArn?: string } {
    return snsMock.commandCalls(PublishCommand)[0]?.args[0].input ?? {};
  }

  it('stores the approval with the token, marks the run waiting and emails a verifiable link', async () => {
    // Act
    const result = await handle(event);

    // Assess
    expect(result.approvalId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(result.expiresAt).toBe('2026-05-02T12:00:00.000Z');
    expect(await ledger.getApproval(result.approvalId)).toMatchObject({
      status: 'PENDING',
      runId: 'run-1',
      planHash: PLAN_HASH,
      planKey: 'runs/run-1/plan.json',
      expiresAt: '2026-05-02T12:00:00.000Z',
    });
    expect(await ledger.getRun('run-1')).toMatchObject({
      status: 'AWAITING_APPROVAL',
      approvalId: result.approvalId,
    });
    // The token is stored: only the winner of useApproval gets it back.
    const use = await ledger.useApproval(result.approvalId, {
      decision: 'APPROVED',
      approver: 'Ada',
      planHash: PLAN_HASH,
    });
    expect(use.used && use.taskToken.reveal()).toBe(TASK_TOKEN);

    expect(snsMock).toHaveReceivedCommandTimes(PublishCommand, 1);
    const { Message = '', Subject = '', TopicArn } = published();
    expect(TopicArn).toBe('arn:aws:sns:eu-west-1:123456789012:approvals');
    const url = Message.split('\n').find((line) => line.startsWith(BASE_URL)) ?? '';
    const q = new URL(url).searchParams;
    expect(verifyApprovalLink({ a: q.get('a'), e: q.get('e'), s: q.get('s') }, KEY, NOW)).toEqual({
      ok: true,
      approvalId: result.approvalId,
      expiresAt: new Date('2026-05-02T12:00:00.000Z'),
    });
    expect(`${Subject}\n${Message}\n${url}`).not.toContain(TASK_TOKEN);
    expect(JSON.stringify(result)).not.toContain(TASK_TOKEN);
    expect(logged.join('\n')).not.toContain(TASK_TOKEN);
  });

  it('summarises the plan by group, totals, deferrals, expiry and what the link does', async () => {
    // Act
    await handle(event);

    // Assess
    const { Message = '', Subject = '' } = published();
    // The run's cap of 3 admits the three AMIs; the orphan snapshot is left for a later run.
    expect(Subject).toBe('ami-cleaner: approve deleting 3 AMIs in eu-west-1');
    expect(Message).toMatch(/"front\.prod"\s+2\s+2\s+20\n/);
    expect(Message).toMatch(/"dev\.back"\s+1\s+0\s+10\n/);
    expect(Message).toMatch(/\nthis account\s+eu-west-1\s+3\s+6\s+30\s+1\.50\s+1\s+2\n/);
    expect(Message).toMatch(/\nAll\s+3\s+6\s+30\s+1\.50\s+1\s+2\n/);
    expect(Message).toContain(
      'Snapshots to delete: 6 (30 GiB): 6 of these AMIs and 0 orphan snapshots (0 GiB)',
    );
    expect(Message).toContain('1 item exceeds the per-run deletion limit');
    expect(Message).toContain('approves the whole plan: every target, every page');
    expect(Message).toContain('2026-05-02T12:00:00.000Z');
    expect(Message).toContain('Nothing is deleted until you press Approve');
    expect(Message).toContain(PLAN_HASH);
  });

  it('surfaces an SNS throttle as TransientAwsError, which the state retries', async () => {
    // Prepare
    snsMock
      .on(PublishCommand)
      .rejects(
        Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }),
      );

    // Act
    const attempt = handle(event);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'TransientAwsError' });
  });

  it('refuses a plan whose hash is not the one the event names, sending nothing', async () => {
    // Prepare
    await workspace.putJson('runs/run-1/plan.json', smallPlan({ planHash: 'b'.repeat(64) }));

    // Act
    const attempt = handle(event);

    // Assess
    await expect(attempt).rejects.toThrow(ApprovalRequestError);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
    expect((await ledger.getRun('run-1'))?.status).toBe('RUNNING');
  });

  it('refuses when the run recorded another plan', async () => {
    // Prepare
    await ledger.updateRun('run-1', { planHash: 'c'.repeat(64) });

    // Act
    const attempt = handle(event);

    // Assess
    await expect(attempt).rejects.toThrow(ApprovalRequestError);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it('refuses dry runs and malformed events without echoing the token', async () => {
    // Act
    const dry = handle({ ...event, run: { ...event.run, dryRun: true } });
    const malformed = handle({ ...event, planHash: '' });

    // Assess
    await expect(dry).rejects.toThrow(ApprovalRequestError);
    await expect(malformed).rejects.toThrow(ApprovalRequestError);
    await malformed.catch((error: Error) => expect(error.message).not.toContain(TASK_TOKEN));
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });

  it('refuses a run that is no longer running', async () => {
    // Prepare
    await ledger.updateRun('run-1', { status: 'FAILED' });

    // Act
    const attempt = handle(event);

    // Assess
    await expect(attempt).rejects.toThrow(/no longer running/);
    expect(snsMock).not.toHaveReceivedCommand(PublishCommand);
  });
});

describe('renderApprovalEmail', () => {
  it('keeps the subject within 100 ASCII characters on one line', () => {
    // Prepare
    const plan = smallPlan({ region: `eu-west-1\n${'x'.repeat(200)}é` });

    // Act
    const { subject } = renderApprovalEmail(plan, `${BASE_URL}?a=1`, NOW);

    // Assess
    expect(subject.length).toBeLessThanOrEqual(100);
    expect(subject).toMatch(/^[\x20-\x7e]+$/);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('speaks in the singular and omits orphans when there are none', () => {
    // Prepare
    const base = smallPlan();
    const plan = smallPlan({ orphanSnapshots: [], groups: base.groups.filter((g) => g.name === 'dev.back') });

    // Act
    const { subject, message } = renderApprovalEmail(plan, `${BASE_URL}?a=1`, NOW);

    // Assess
    expect(subject).toBe('ami-cleaner: approve deleting 1 AMI in eu-west-1');
    expect(message).toContain(`${BASE_URL}?a=1`);
    expect(message).not.toContain('per-run deletion limit');
  });
});

describe('tag-derived text in the email is inert data', () => {
  const LINK = `${BASE_URL}?a=1`;
  it.each([
    [
      'a line break forging an instruction',
      'web\nAPPROVE NOW at the link below',
      /^"web APPROVE NOW at the link below"/,
    ],
    ['a link', 'see https://evil.example/approve', /hxxps\[:\]\/\/evil\.example/],
    ['a bare www host', 'www.evil.example', /www\[\.\]evil\.example/],
    ['an address', 'mail admin@evil.example', /admin\[at\]evil\.example/],
    ['bidi and zero-width controls', 'ab\u202Ec\u200Bd\u0007', /^"ab c d"/],
    ['a quote closing the value early', 'x" approved by security', /^"x' approved by security"/],
    ['a very long name', 'g'.repeat(500), /^"g{57}\.\.\."/],
  ])('%s', (_what, name, expected) => {
    // Prepare
    const base = smallPlan();
    const [first, ...rest] = base.groups;
    const plan = { ...base, groups: [{ ...(first as (typeof base.groups)[number]), name }, ...rest] };

    // Act
    const { message } = renderApprovalEmail(plan, LINK, NOW);

    // Assess
    const row =
      message.split('\n').find((line) => line.startsWith('"') && !line.startsWith('"dev.back"')) ?? '';
    expect(row).toMatch(expected);
    // The only link in the email is the approval link, on its own line.
    expect(message.match(/https?:\/\//g)).toEqual(['https://']);
    expect(message.split('\n').filter((line) => line.includes('https://'))).toEqual([LINK]);
    const controls = [...message].filter((c) => c !== '\n' && /[\p{Cc}\p{Cf}]/u.test(c));
    expect(controls).toEqual([]);
  });
});
