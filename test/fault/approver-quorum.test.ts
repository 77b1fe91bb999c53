/**
 * Faults around the named approvers' quorum, through the real page handler on a dynalite ledger:
 * a vote's write lands but its answer is lost (the SDK retries it), SendTaskSuccess is unreachable,
 * approvers press at the same moment. Each case must end with every vote counted once and the
 * workflow resumed at most once, and only once the quorum is reached.
 */
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADA, APPROVAL_ID, type ApproverPage, BOB, CY, startApproverPage } from '../helpers/approver-page.ts';

const sfnMock = mockClient(SFNClient);
const heading = (html: string) => /<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1];
const delivered = () => sfnMock.commandCalls(SendTaskSuccessCommand).length;

describe('named approvers under faults', () => {
  let page: ApproverPage;
  /** The next UpdateItem reaches the table, then its answer is lost. */
  let loseNextUpdate: () => void;

  beforeEach(async () => {
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    let lose = false;
    loseNextUpdate = () => {
      lose = true;
    };
    page = await startApproverPage({
      sfn: new SFNClient({}),
      ledgerOptions: (options) => {
        options.doc.middlewareStack.add(
          (next, context) => async (args) => {
            const out = await next(args);
            if (lose && context.commandName === 'UpdateItemCommand') {
              lose = false;
              throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', $metadata: {} });
            }
            return out;
          },
          { step: 'deserialize', name: 'loseResponse' },
        );
        return options;
      },
    });
  });

  afterEach(async () => {
    sfnMock.reset();
    await page.stop();
  });

  it('fault: the page write of a partial quorum loses its answer: recorded once, nothing resumed', async () => {
    // Prepare
    const form = await page.formOf(ADA);
    loseNextUpdate();

    // Act
    const response = await page.post(ADA, form, 'APPROVE');

    // Assess
    expect(response.statusCode).toBe(200);
    expect(heading(response.body)).toBe('Approval recorded');
    expect(delivered()).toBe(0);
    const approval = await page.ledger.getApproval(APPROVAL_ID);
    expect(approval).toMatchObject({ status: 'PENDING', hasTaskToken: true });
    expect(Object.keys(approval?.votes ?? {})).toEqual([ADA]);
  });

  it('fault: after a lost partial write, the next approver completes the quorum and resumes once', async () => {
    // Prepare
    const form = await page.formOf(ADA);
    loseNextUpdate();
    await page.post(ADA, form, 'APPROVE');
    const cyForm = await page.formOf(CY);

    // Act
    const second = await page.press(BOB, 'APPROVE');
    const third = await page.post(CY, cyForm, 'APPROVE');

    // Assess
    expect(heading(second.body)).toBe('Approved');
    expect(third.statusCode).toBe(409);
    expect(delivered()).toBe(1);
    expect(await page.ledger.getApproval(APPROVAL_ID)).toMatchObject({ approver: `${ADA}, ${BOB}` });
  });

  it('fault: the deciding write loses its answer: the page still resumes the workflow, once', async () => {
    // Prepare
    await page.press(ADA, 'APPROVE');
    const form = await page.formOf(BOB);
    loseNextUpdate();

    // Act
    const response = await page.post(BOB, form, 'APPROVE');

    // Assess
    expect(heading(response.body)).toBe('Approved');
    expect(delivered()).toBe(1);
    expect(await page.ledger.getApproval(APPROVAL_ID)).toMatchObject({
      status: 'APPROVED',
      hasTaskToken: false,
    });
  });

  it('fault: SendTaskSuccess unreachable at the quorum: 503, the vote is taken back, pressing again delivers once', async () => {
    // Prepare
    await page.press(ADA, 'APPROVE');
    sfnMock
      .on(SendTaskSuccessCommand)
      .rejectsOnce(Object.assign(new Error('unreachable'), { name: 'ServiceUnavailable', $metadata: {} }))
      .resolves({});

    // Act
    const failed = await page.press(BOB, 'APPROVE');
    const pending = await page.ledger.getApproval(APPROVAL_ID);
    const retried = await page.press(BOB, 'APPROVE');

    // Assess
    expect(failed.statusCode).toBe(503);
    expect(pending).toMatchObject({ status: 'PENDING', hasTaskToken: true });
    expect(Object.keys(pending?.votes ?? {})).toEqual([ADA]);
    expect(heading(retried.body)).toBe('Approved');
    expect(delivered()).toBe(2);
    expect(await page.ledger.getApproval(APPROVAL_ID)).toMatchObject({
      status: 'APPROVED',
      hasTaskToken: false,
    });
  });

  it('fault: two approvers press at once for the last approval, one answer lost: resumed exactly once', async () => {
    // Prepare
    await page.press(ADA, 'APPROVE');
    const [bobForm, cyForm] = await Promise.all([page.formOf(BOB), page.formOf(CY)]);
    loseNextUpdate();

    // Act
    const answers = await Promise.all([page.post(BOB, bobForm, 'APPROVE'), page.post(CY, cyForm, 'APPROVE')]);

    // Assess
    expect(answers.map((a) => heading(a.body)).sort()).toEqual(['Already used', 'Approved']);
    expect(delivered()).toBe(1);
    expect(await page.ledger.getApproval(APPROVAL_ID)).toMatchObject({ status: 'APPROVED' });
  });
});
