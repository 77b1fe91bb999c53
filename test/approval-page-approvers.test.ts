import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_USER_AGENT_LENGTH } from '../functions/core/approvers.ts';
import {
  ADA,
  APPROVAL_ID,
  type ApproverPage,
  BOB,
  CY,
  KEY,
  startApproverPage,
  TASK_TOKEN,
} from './helpers/approver-page.ts';

const sfnMock = mockClient(SFNClient);
const heading = (html: string) => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1];

describe('approval page with named approvers', () => {
  let page: ApproverPage;

  beforeEach(async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    page = await startApproverPage({ sfn: new SFNClient({}) });
  });

  afterEach(async () => {
    sfnMock.reset();
    await page.stop();
  });

  it('shows who has approved so far and who the viewer decides as', async () => {
    // Prepare
    await page.press(ADA, 'APPROVE');

    // Act
    const response = await page.get(page.query(BOB));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('<h2>Approvals so far</h2>');
    expect(response.body).toMatch(/<strong>ada@example\.com<\/strong> approved at 2026-05-01T12:00:00\.000Z/);
    expect(response.body).toContain('1 more approval needed.');
    expect(response.body).toContain('You are deciding as <strong>bob@example.com</strong>');
    expect(response.body).toContain('<input type="hidden" name="r" value="bob@example.com">');
  });

  it('records the first approval without resuming the workflow, and resumes it once with the quorum', async () => {
    // Act
    const first = await page.press(ADA, 'APPROVE', { name: 'Ada L.' });
    const second = await page.press(BOB, 'APPROVE', { name: 'Bob' });

    // Assess
    expect(first.statusCode).toBe(200);
    expect(heading(first.body)).toBe('Approval recorded');
    expect(first.body).toContain('1 of 2');
    expect(second.statusCode).toBe(200);
    expect(heading(second.body)).toBe('Approved');
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.taskToken).toBe(TASK_TOKEN);
    expect(JSON.parse(calls[0]?.args[0].input.output ?? '{}')).toEqual({
      decision: 'APPROVED',
      planHash: expect.any(String),
      approver: `${ADA}, ${BOB}`,
      approvers: [ADA, BOB],
    });
    const approval = await page.ledger.getApproval(APPROVAL_ID);
    // The typed names are comments; the approvers are the addresses the links were sent to.
    expect(approval).toMatchObject({ status: 'APPROVED', approver: `${ADA}, ${BOB}`, hasTaskToken: false });
    expect(approval?.votes?.[ADA]).toMatchObject({ comment: 'Ada L.', sourceIp: '198.51.100.7' });
  });

  it('ends the run with one rejection, and refuses approvals after it', async () => {
    // Prepare: Ada opened the page before Bob rejected.
    const adaForm = await page.formOf(ADA);

    // Act
    const rejected = await page.press(BOB, 'REJECT');
    const late = await page.post(ADA, adaForm, 'APPROVE');

    // Assess
    expect(heading(rejected.body)).toBe('Rejected');
    expect(late.statusCode).toBe(409);
    expect(heading(late.body)).toBe('Already rejected');
    const calls = sfnMock.commandCalls(SendTaskSuccessCommand);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]?.args[0].input.output ?? '{}')).toMatchObject({
      decision: 'REJECTED',
      approver: BOB,
    });
  });

  it('refuses the same approver twice, with no second count', async () => {
    // Prepare
    await page.press(ADA, 'APPROVE');

    // Act
    const again = await page.press(ADA, 'APPROVE', { name: 'Not Ada' });

    // Assess
    expect(again.statusCode).toBe(409);
    expect(heading(again.body)).toBe('Already decided');
    expect(sfnMock.commandCalls(SendTaskSuccessCommand)).toHaveLength(0);
    expect((await page.ledger.getApproval(APPROVAL_ID))?.votes?.[ADA]?.comment).toBe(`Name of ${ADA}`);
  });

  it('stores a hostile user agent cut to its cap, with control characters shown as escapes', async () => {
    // Act
    await page.press(CY, 'APPROVE', { userAgent: `\u001b[31mevil\u202e${'x'.repeat(5000)}` });

    // Assess
    const agent = (await page.ledger.getApproval(APPROVAL_ID))?.votes?.[CY]?.userAgent ?? '';
    expect(agent.length).toBe(MAX_USER_AGENT_LENGTH);
    expect(agent.startsWith('\\u001b[31mevil\\u202e')).toBe(true);
    expect(agent).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });

  it('refuses the shared link (no approver) for an approval decided by named approvers', async () => {
    // Act
    const response = await page.get(page.query(undefined));

    // Assess
    expect(response.statusCode).toBe(403);
    expect(response.body).toContain('personal link');
  });

  it('keeps the personal links and the key out of the logs', async () => {
    // Act
    await page.press(ADA, 'APPROVE');
    await page.press(BOB, 'APPROVE');

    // Assess
    const logs = page.logged.join('\n');
    expect(logs).not.toContain(TASK_TOKEN);
    expect(logs).not.toContain(KEY);
    expect(logs).not.toMatch(/[?&]s=/);
  });
});
