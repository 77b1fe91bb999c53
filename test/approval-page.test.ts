import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formToken, signApprovalLink } from '../functions/adapters/approval-link.ts';
import { Ledger } from '../functions/adapters/ledger/index.ts';
import { MemoryWorkspace, runKey } from '../functions/adapters/workspace.ts';
import { type ApprovalPageResponse, createApprovalPageHandler } from '../functions/approval-page.ts';
import { deletionSetOf, hashDeletionSet } from '../functions/core/deletion-set.ts';
import type { Plan, PlanCandidate, PlannedSnapshot } from '../functions/core/model.ts';
import { planCandidates } from '../functions/core/plan.ts';
import { httpEvent } from './helpers/approval-page-harness.ts';
import { type LocalDynamo, startDynalite } from './helpers/dynalite.ts';
import { candidate, runContext, smallPlan } from './helpers/ledger-fixtures.ts';

const KEY = 'test-signing-key-0123456789abcdef';
const NOW = new Date('2026-05-01T12:00:00.000Z');
const EXPIRES = new Date('2026-05-02T12:00:00.000Z');
const APPROVAL_ID = '11111111-2222-4333-8444-555555555555';
const TASK_TOKEN = 'AQCEAAAAKgAAAA-very-secret-task-token-value';
const CAP = 2;
/** The fixture plan, bound (as Rotate binds it) to the hash of what it deletes under the cap. */
const PLAN = withDeletionHash(smallPlan({ maxDeletionsPerRun: CAP }));
const PLAN_HASH = PLAN.planHash;

function withDeletionHash(plan: Plan): Plan {
  const deletion = deletionSetOf(
    plan.region,
    planCandidates(plan),
    plan.orphanSnapshots,
    plan.maxDeletionsPerRun,
  );
  return { ...plan, planHash: hashDeletionSet(deletion) };
}
const BASE_URL = 'https://abc123.lambda-url.eu-west-1.on.aws/';

const sfnMock = mockClient(SFNClient);

function linkQuery(approvalId = APPROVAL_ID, expiresAt = EXPIRES, key = KEY): string {
  return new URL(signApprovalLink({ baseUrl: BASE_URL, approvalId, expiresAt, key })).search.slice(1);
}

/** The hidden fields of the rendered form, as a browser would send them. */
function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[match[1] ?? ''] = (match[2] ?? '').replaceAll('&amp;', '&');
  }
  return fields;
}

function formBody(fields: Record<string, string | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) params.set(name, value);
  return params.toString();
}

function expectSafeHeaders(response: ApprovalPageResponse): void {
  expect(response.headers).toMatchObject({
    'Content-Type': 'text/html; charset=utf-8',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
}

function expectNoToken(response: ApprovalPageResponse): void {
  expect(response.body).not.toContain(TASK_TOKEN);
  expect(JSON.stringify(response.headers)).not.toContain(TASK_TOKEN);
  expect(response.body).not.toContain(KEY);
}

describe('approval page', () => {
  let dynamo: LocalDynamo;
  let ledger: Ledger;
  let workspace: MemoryWorkspace;
  let handle: (event: APIGatewayProxyEventV2) => Promise<ApprovalPageResponse>;
  let logged: string[];

  beforeEach(async () => {
    dynamo = await startDynalite();
    ledger = new Ledger({ doc: dynamo.docClient, tableName: dynamo.tableName, now: () => NOW });
    workspace = new MemoryWorkspace();
    const run = runContext({ maxDeletionsPerRun: CAP });
    const plan = PLAN;
    await ledger.putRun(run);
    await ledger.recordPlan(run, plan);
    await workspace.putJson(runKey(run.runId, 'plan'), plan);
    await ledger.putApproval({
      approvalId: APPROVAL_ID,
      runId: run.runId,
      planHash: PLAN_HASH,
      planKey: runKey(run.runId, 'plan'),
      taskToken: TASK_TOKEN,
      expiresAt: EXPIRES,
    });
    // What request-approval leaves: the run waits, for this approval.
    await ledger.updateRun(run.runId, { status: 'AWAITING_APPROVAL', approvalId: APPROVAL_ID });
    sfnMock.on(SendTaskSuccessCommand).resolves({});
    logged = [];
    const record = (message: string, extra: Readonly<Record<string, string>>) => {
      logged.push(`${message} ${JSON.stringify(extra)}`);
    };
    handle = createApprovalPageHandler({
      ledger,
      workspace,
      sfn: new SFNClient({}),
      signingKey: async () => KEY,
      now: () => NOW,
      sleep: async () => undefined,
      logger: { info: record, warn: record, error: record },
    });
  });

  afterEach(async () => {
    sfnMock.reset();
    await dynamo.stop();
  });

  /** Stores `plan` as the run's plan and binds the run and the approval to its hash. */
  async function bindTo(plan: Plan): Promise<void> {
    await workspace.putJson(runKey('run-1', 'plan'), plan);
    await dynamo.docClient.send(
      new UpdateCommand({
        TableName: dynamo.tableName,
        Key: { pk: 'RUN#run-1', sk: 'RUN' },
        UpdateExpression: 'SET planHash = :h',
        ExpressionAttributeValues: { ':h': plan.planHash },
      }),
    );
    await dynamo.docClient.send(
      new UpdateCommand({
        TableName: dynamo.tableName,
        Key: { pk: `APPROVAL#${APPROVAL_ID}`, sk: 'APPROVAL' },
        UpdateExpression: 'SET planHash = :h',
        ExpressionAttributeValues: { ':h': plan.planHash },
      }),
    );
  }

  async function renderedForm(): Promise<Record<string, string>> {
    const page = await handle(httpEvent('GET', { query: linkQuery() }));
    return hiddenFields(page.body);
  }

  function post(
    fields: Record<string, string | undefined>,
    options: { base64?: boolean; query?: string } = {},
  ) {
    return handle(
      httpEvent('POST', {
        body: formBody(fields),
        contentType: 'application/x-www-form-urlencoded',
        query: options.query ?? linkQuery(),
        ...(options.base64 ? { base64: true } : {}),
      }),
    );
  }

  describe('GET', () => {
    it('renders groups, AMIs, kept reasons, orphans and the form, and changes nothing', async () => {
      // Act
      const response = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(response.statusCode).toBe(200);
      expectSafeHeaders(response);
      expectNoToken(response);
      const html = response.body;
      expect(html).toContain('Group front.prod');
      expect(html).toContain('Group dev.back');
      expect(html).toContain('ami-0000000000000001');
      expect(html).toContain('ami-0000000000000002');
      expect(html).toContain(PLAN_HASH);
      expect(html).toContain('eu-west-1');
      // Kept AMIs are counted by reason, per group and in all, not listed one by one.
      expect(html).toContain('kept: 2 (In use: 1, Among the newest kept: 1)');
      expect(html).toMatch(/<td>In use<\/td><td class="num">1<\/td>/);
      expect(html).not.toContain('ami-0000000000000008');
      expect(html).toContain('snap-00000000000000ff');
      // Cap 2: the newest AMI and the orphan snapshot are deferred, and the page says so.
      expect(html).toMatch(/ami-0000000000000003<\/code>.*Deferred to a later run/);
      expect(html).toMatch(/ami-0000000000000001<\/code>.*<td>Delete<\/td>/);
      expect(html).toMatch(/snap-00000000000000ff<\/code>.*Deferred to a later run/);
      expect(html).toContain('2 more exceed the per-run deletion limit');
      // Exactly what approving deletes under the cap of 2: the two oldest AMIs, 4 snapshots of 10 GiB each pair.
      expect(html).toContain('<li>2 AMIs to deregister</li>');
      expect(html).toContain('<li>4 snapshots to delete (20 GiB)');
      expect(html).toContain('0 orphan snapshots (0 GiB)');
      expect(html).toContain('at most $1.00 a month (an upper bound');
      expect(html).toMatch(/<input type="text" id="approver" name="approver" required/);
      expect(html).toContain('name="decision" value="APPROVE"');
      expect(html).toContain('name="decision" value="REJECT"');
      // A long plan still puts the decision one jump away.
      expect(html).toContain('<a href="#decision">');
      expect(html).toMatch(/<form id="decision" method="post"/);
      expect(html).not.toMatch(/<script/i);
      expect(hiddenFields(html)).toEqual({
        a: APPROVAL_ID,
        e: String(EXPIRES.getTime() / 1000),
        s: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        planHash: PLAN_HASH,
        formToken: formToken(KEY, APPROVAL_ID, PLAN_HASH),
      });
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('escapes values from the plan', async () => {
      // Prepare: names are not part of the hash, so the plan stays the approved one.
      const [front, ...rest] = PLAN.groups;
      if (!front) throw new Error('fixture has no group');
      await bindTo({
        ...PLAN,
        groups: [
          {
            ...front,
            name: 'front<i>',
            candidates: front.candidates.map((c) => ({ ...c, name: `${c.name} <b>` })),
          },
          ...rest,
        ],
      });

      // Act
      const response = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('front.prod-ami-0000000000000001 &lt;b&gt;');
      expect(response.body).toContain('Group front&lt;i&gt;');
      expect(response.body).not.toMatch(/<b>|<i>/);
    });

    it('refuses a bad signature with 403', async () => {
      // Prepare
      const query = linkQuery().replace(/s=[^&]+/, `s=${'A'.repeat(43)}`);

      // Act
      const response = await handle(httpEvent('GET', { query }));

      // Assess
      expect(response.statusCode).toBe(403);
      expectSafeHeaders(response);
      expect(response.body).not.toContain('ami-0000000000000001');
    });

    it('refuses an expired link with 410', async () => {
      // Act
      const response = await handle(
        httpEvent('GET', { query: linkQuery(APPROVAL_ID, new Date(NOW.getTime() - 1000)) }),
      );

      // Assess
      expect(response.statusCode).toBe(410);
    });

    it('refuses an unknown approval id with 404', async () => {
      // Act
      const response = await handle(
        httpEvent('GET', { query: linkQuery('99999999-2222-4333-8444-555555555555') }),
      );

      // Assess
      expect(response.statusCode).toBe(404);
    });

    it('reports a malformed link with 400', async () => {
      // Act
      const response = await handle(httpEvent('GET', { query: 'a=x' }));

      // Assess
      expect(response.statusCode).toBe(400);
      expectSafeHeaders(response);
    });
  });

  describe('POST', () => {
    it('approves once: SendTaskSuccess with the ApprovalResult, approval used', async () => {
      // Prepare
      const fields = await renderedForm();

      // Act
      const response = await post({ ...fields, approver: 'Ada Lovelace', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(200);
      expectSafeHeaders(response);
      expectNoToken(response);
      expect(response.body).toContain('Approved');
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
      const input = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
      expect(input?.taskToken).toBe(TASK_TOKEN);
      expect(JSON.parse(input?.output ?? '')).toEqual({
        decision: 'APPROVED',
        planHash: PLAN_HASH,
        approver: 'Ada Lovelace',
      });
      expect(await ledger.getApproval(APPROVAL_ID)).toMatchObject({
        status: 'APPROVED',
        approver: 'Ada Lovelace',
        // Where the decision's POST came from (the Function URL's requestContext.http).
        sourceIp: '198.51.100.7',
        userAgent: 'test',
      });
      expect(logged.join('\n')).not.toContain(TASK_TOKEN);
      expect(logged.some((line) => line.includes(APPROVAL_ID) && line.includes('APPROVED'))).toBe(true);
    });

    it('rejects with decision REJECTED (base64 body, as Function URLs may send it)', async () => {
      // Prepare
      const fields = await renderedForm();

      // Act
      const response = await post({ ...fields, approver: 'Grace', decision: 'REJECT' }, { base64: true });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('nothing will be deleted');
      const input = sfnMock.commandCalls(SendTaskSuccessCommand)[0]?.args[0].input;
      expect(JSON.parse(input?.output ?? '')).toEqual({
        decision: 'REJECTED',
        planHash: PLAN_HASH,
        approver: 'Grace',
      });
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('REJECTED');
    });

    it('refuses a replay with 409 and does not resume the workflow again', async () => {
      // Prepare
      const fields = await renderedForm();
      await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Act
      const replay = await post({ ...fields, approver: 'Mallory', decision: 'REJECT' });

      // Assess
      expect(replay.statusCode).toBe(409);
      expect(replay.body).toContain('already been used');
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
      expect((await ledger.getApproval(APPROVAL_ID))?.approver).toBe('Ada');
    });

    it('refuses a bad link signature with 403', async () => {
      // Prepare
      const fields = await renderedForm();

      // Act
      const response = await post({
        ...fields,
        s: `${'B'.repeat(43)}`,
        approver: 'Ada',
        decision: 'APPROVE',
      });

      // Assess
      expect(response.statusCode).toBe(403);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
    });

    it('says when the saving starts when Recycle Bin retention is on, and nothing of it when off', async () => {
      // Prepare
      const retained = createApprovalPageHandler({
        ledger,
        workspace,
        sfn: new SFNClient({}),
        signingKey: async () => KEY,
        now: () => NOW,
        recycleBin: { imageDays: 7, snapshotDays: 30 },
      });

      // Act
      const on = await retained(httpEvent('GET', { query: linkQuery() }));
      const off = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(on.statusCode).toBe(200);
      expect(on.body).toContain('restorable and billed for 30 days');
      expect(on.body).toContain('the saving starts when the retention ends');
      expect(off.body).not.toContain('Recycle Bin');
    });

    it('refuses an expired approval with 410', async () => {
      // Prepare
      const fields = await renderedForm();
      const late = createApprovalPageHandler({
        ledger,
        workspace,
        sfn: new SFNClient({}),
        signingKey: async () => KEY,
        now: () => new Date(EXPIRES.getTime() + 1000),
      });

      // Act
      const response = await late(
        httpEvent('POST', {
          body: formBody({ ...fields, approver: 'Ada', decision: 'APPROVE' }),
          contentType: 'application/x-www-form-urlencoded',
        }),
      );

      // Assess
      expect(response.statusCode).toBe(410);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('refuses an unknown approval id with 404', async () => {
      // Prepare
      const otherId = '99999999-2222-4333-8444-555555555555';
      const q = new URLSearchParams(linkQuery(otherId));
      const fields = {
        a: otherId,
        e: q.get('e') ?? '',
        s: q.get('s') ?? '',
        planHash: PLAN_HASH,
        formToken: formToken(KEY, otherId, PLAN_HASH),
      };

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' }, { query: '' });

      // Assess
      expect(response.statusCode).toBe(404);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('shows a snapshot another AMI maps as kept, outside the totals and the saving', async () => {
      // Prepare: the oldest AMI's second snapshot is also mapped by a kept AMI
      const [front, back] = PLAN.groups as [Plan['groups'][number], Plan['groups'][number]];
      const [newer, oldest] = front.candidates as [PlanCandidate, PlanCandidate];
      const shared: PlanCandidate = {
        ...oldest,
        snapshots: [
          oldest.snapshots[0] as PlannedSnapshot,
          { ...(oldest.snapshots[1] as PlannedSnapshot), sharedWith: ['ami-0000000000000009'] },
        ],
      };
      const plan = withDeletionHash({ ...PLAN, groups: [{ ...front, candidates: [newer, shared] }, back] });
      await bindTo(plan);

      // Act
      const response = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('<li>3 snapshots to delete (18 GiB)');
      expect(response.body).toContain('<li>1 snapshot of these AMIs kept because another AMI uses it</li>');
      expect(response.body).toMatch(
        /snap-0000000000000001b<\/code> \(kept: also used by <code>ami-0000000000000009<\/code>\)/,
      );
      expect(response.body).toContain('at most $0.90 a month');
    });

    it('refuses (409) a workspace plan rewritten to delete more, though it keeps the approved hash', async () => {
      // Prepare: a third AMI admitted by raising the cap in the stored plan, planHash field untouched
      await workspace.putJson(runKey('run-1', 'plan'), { ...PLAN, maxDeletionsPerRun: 3 });

      // Act
      const get = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(get.statusCode).toBe(409);
      expect(get.body).toContain('plan has changed');
    });

    it('refuses a POST when the workspace plan changed after the page was shown, and approves nothing', async () => {
      // Prepare
      const fields = await renderedForm();
      const [front, back] = PLAN.groups as [Plan['groups'][number], Plan['groups'][number]];
      const extra = candidate('ami-0000000000000004', '2026-01-01T00:00:00.000Z');
      await workspace.putJson(runKey('run-1', 'plan'), {
        ...PLAN,
        groups: [{ ...front, candidates: [...front.candidates, extra] }, back],
      });

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(409);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
    });

    it('refuses with 409 when the run now records another plan', async () => {
      // Prepare: a correctly signed form for a plan hash that is not the approval's.
      const fields = await renderedForm();
      const otherHash = 'b'.repeat(64);

      // Act
      const response = await post({
        ...fields,
        planHash: otherHash,
        formToken: formToken(KEY, APPROVAL_ID, otherHash),
        approver: 'Ada',
        decision: 'APPROVE',
      });

      // Assess
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain('plan has changed');
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
    });

    it('refuses with 409 when the run record no longer matches the approval', async () => {
      // Prepare
      const fields = await renderedForm();
      await ledger.updateRun('run-1', { planHash: 'c'.repeat(64) });

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(409);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it.each([
      ['missing', undefined],
      ['wrong', formToken('another-key', APPROVAL_ID, PLAN_HASH)],
    ])('refuses a %s form token with 403', async (_what, token) => {
      // Prepare
      const fields = await renderedForm();

      // Act
      const response = await post({ ...fields, formToken: token, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(403);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
    });

    it.each([
      ['no name', { approver: '  ', decision: 'APPROVE' }],
      ['an unknown decision', { approver: 'Ada', decision: 'MAYBE' }],
    ])('refuses a form with %s with 400', async (_what, extra) => {
      // Prepare
      const fields = await renderedForm();

      // Act
      const response = await post({ ...fields, ...extra });

      // Assess
      expect(response.statusCode).toBe(400);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('refuses a body that is not a form with 415', async () => {
      // Act
      const response = await handle(
        httpEvent('POST', {
          query: linkQuery(),
          body: '{"decision":"APPROVE"}',
          contentType: 'application/json',
        }),
      );

      // Assess
      expect(response.statusCode).toBe(415);
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
    });

    it('answers 410 and marks the approval expired when the task has timed out', async () => {
      // Prepare
      const fields = await renderedForm();
      sfnMock.on(SendTaskSuccessCommand).callsFake(async () => {
        // The wait timed out: the workflow has recorded the run EXPIRED.
        await ledger.updateRun('run-1', { status: 'EXPIRED' });
        throw Object.assign(new Error(`Task Timed Out: '${TASK_TOKEN}'`), { name: 'TaskTimedOut' });
      });

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(410);
      expect((await ledger.getApproval(APPROVAL_ID))?.hasTaskToken).toBe(false);
      expect(response.body).toContain('This approval has expired');
      expectNoToken(response);
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('EXPIRED');
      expect(logged.join('\n')).not.toContain(TASK_TOKEN);
    });

    it('says the decision was sent, not that it expired, when the spent token is not yet explained by the run', async () => {
      // Prepare: SendTaskSuccess delivered, its answer lost; the run has not recorded its move yet
      const fields = await renderedForm();
      sfnMock
        .on(SendTaskSuccessCommand)
        .rejects(Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' }));

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(202);
      expect(response.body).toContain('Decision sent');
      expect(response.body).not.toContain('Nothing will be deleted');
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('APPROVED');
    });

    it('removes the task token from the ledger once SendTaskSuccess answered', async () => {
      // Prepare
      const fields = await renderedForm();

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(await ledger.getApproval(APPROVAL_ID)).toMatchObject({
        status: 'APPROVED',
        hasTaskToken: false,
      });
    });

    it('answers Approved, and keeps the approval, when an earlier attempt already delivered it', async () => {
      // Prepare: the first SendTaskSuccess reached Step Functions but its answer was lost; the
      // SDK's retry finds the token spent, and the run has already acted on the decision.
      const fields = await renderedForm();
      sfnMock.on(SendTaskSuccessCommand).callsFake(async () => {
        await ledger.updateRun('run-1', { status: 'DELETING' });
        throw Object.assign(new Error('Task Timed Out'), { name: 'TaskTimedOut' });
      });

      // Act
      const response = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(response.statusCode).toBe(200);
      expect(response.body).toContain('Approved');
      expect(await ledger.getApproval(APPROVAL_ID)).toMatchObject({ status: 'APPROVED', approver: 'Ada' });
    });

    it('refuses a link whose approval a newer request replaced, on GET and POST, resuming nothing', async () => {
      // Prepare: a retried RequestApproval recorded another approval for the run.
      const fields = await renderedForm();
      await ledger.updateRun('run-1', { approvalId: 'a-newer-approval' });

      // Act
      const page = await handle(httpEvent('GET', { query: linkQuery() }));
      const answer = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(page.statusCode).toBe(409);
      expect(answer.statusCode).toBe(409);
      expect(answer.body).toContain('No longer waiting');
      expect(sfnMock).not.toHaveReceivedCommand(SendTaskSuccessCommand);
      expect((await ledger.getApproval(APPROVAL_ID))?.status).toBe('PENDING');
    });

    it('reopens the approval when the decision could not be delivered', async () => {
      // Prepare
      const fields = await renderedForm();
      sfnMock
        .on(SendTaskSuccessCommand)
        .rejectsOnce(Object.assign(new Error('boom'), { name: 'ServiceUnavailable' }));

      // Act
      const first = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });
      const retry = await post({ ...fields, approver: 'Ada', decision: 'APPROVE' });

      // Assess
      expect(first.statusCode).toBe(503);
      expect(retry.statusCode).toBe(200);
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 2);
    });
  });

  describe('during a signing-key rotation', () => {
    const ROTATED = 'r'.repeat(48);

    function rotatedHandler(previous: () => Promise<string | undefined>) {
      return createApprovalPageHandler({
        ledger,
        workspace,
        sfn: new SFNClient({}),
        signingKey: async () => ROTATED,
        previousSigningKey: previous,
        now: () => NOW,
        sleep: async () => undefined,
      });
    }

    it('approves from a page rendered and a link mailed before the rotation (AWSPREVIOUS)', async () => {
      // Prepare: the approver opened the page under the old key; then the key rotated.
      const fields = await renderedForm();
      const afterRotation = rotatedHandler(async () => KEY);

      // Act
      const shown = await afterRotation(httpEvent('GET', { query: linkQuery() }));
      const response = await afterRotation(
        httpEvent('POST', {
          body: formBody({ ...fields, approver: 'Ada Lovelace', decision: 'APPROVE' }),
          contentType: 'application/x-www-form-urlencoded',
          query: linkQuery(),
        }),
      );

      // Assess
      expect(shown.statusCode).toBe(200);
      expect(shown.body).not.toContain(ROTATED);
      expect(response.statusCode).toBe(200);
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 1);
    });

    it('refuses a link signed with neither version, and asks for AWSPREVIOUS only then', async () => {
      // Prepare
      let previousAsked = 0;
      const afterRotation = rotatedHandler(async () => {
        previousAsked += 1;
        return KEY;
      });

      // Act
      const current = await afterRotation(
        httpEvent('GET', { query: linkQuery(APPROVAL_ID, EXPIRES, ROTATED) }),
      );
      const askedForCurrent = previousAsked;
      const forged = await afterRotation(
        httpEvent('GET', { query: linkQuery(APPROVAL_ID, EXPIRES, 'f'.repeat(48)) }),
      );

      // Assess
      expect(current.statusCode).toBe(200);
      expect(askedForCurrent).toBe(0);
      expect(forged.statusCode).toBe(403);
      expect(previousAsked).toBe(1);
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    });

    it('refuses the old key once there is no AWSPREVIOUS any more', async () => {
      // Act
      const response = await rotatedHandler(async () => undefined)(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(response.statusCode).toBe(403);
    });
  });

  describe('a link re-opened after its decision', () => {
    /** The page took the decision, and then crashed before it recorded the delivery. */
    async function decidedWithoutSettling(decision: 'APPROVED' | 'REJECTED'): Promise<void> {
      const use = await ledger.useApproval(APPROVAL_ID, { decision, approver: 'Ada', planHash: PLAN_HASH });
      expect(use.used).toBe(true);
    }

    it('answers "already approved by Ada at <time>" once the run acted on it, on GET and POST, resuming nothing', async () => {
      // Prepare: SendTaskSuccess took effect, the page crashed before settling; the run deletes.
      const fields = await renderedForm();
      await decidedWithoutSettling('APPROVED');
      await ledger.updateRun('run-1', { status: 'DELETING' });

      // Act
      const reopened = await handle(httpEvent('GET', { query: linkQuery() }));
      const repressed = await post({ ...fields, approver: 'Mallory', decision: 'REJECT' });

      // Assess
      for (const response of [reopened, repressed]) {
        expect(response.statusCode).toBe(409);
        expectSafeHeaders(response);
        expectNoToken(response);
        expect(response.body).toContain('<h1>Already approved</h1>');
        expect(response.body).toContain(`approved by Ada at ${NOW.toISOString()}`);
        expect(response.body).not.toContain('<form');
      }
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
      expect((await ledger.getApproval(APPROVAL_ID))?.approver).toBe('Ada');
    });

    it('answers the delivered decision, not "expired", once the link has run out', async () => {
      // Prepare
      const fields = await renderedForm();
      await post({ ...fields, approver: 'Ada', decision: 'REJECT' });
      await ledger.updateRun('run-1', { status: 'REJECTED' });
      const expiredLink = linkQuery(APPROVAL_ID, new Date(NOW.getTime() - 1000));

      // Act
      const response = await handle(httpEvent('GET', { query: expiredLink }));

      // Assess
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain('<h1>Already rejected</h1>');
      expect(response.body).toContain('nothing will be deleted');
    });

    it('says the decision is not confirmed (202) while the run still waits, and re-sends nothing on GET', async () => {
      // Prepare: the page crashed right after its own write, before SendTaskSuccess.
      await decidedWithoutSettling('APPROVED');

      // Act
      const response = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(response.statusCode).toBe(202);
      expect(response.body).toContain('approved by Ada');
      expect(response.body).toContain(`If it does not by ${EXPIRES.toISOString()}`);
      expect(sfnMock).toHaveReceivedCommandTimes(SendTaskSuccessCommand, 0);
    });

    it('says the run no longer waits when it ended without acting on the decision', async () => {
      // Prepare
      await decidedWithoutSettling('APPROVED');
      await ledger.updateRun('run-1', { status: 'FAILED' });

      // Act
      const response = await handle(httpEvent('GET', { query: linkQuery() }));

      // Assess
      expect(response.statusCode).toBe(409);
      expect(response.body).toContain('No longer waiting');
      expect(response.body).not.toContain('Already approved');
    });
  });

  it('answers other methods with 405 and the security headers', async () => {
    // Act
    const response = await handle(httpEvent('PUT', { query: linkQuery() }));

    // Assess
    expect(response.statusCode).toBe(405);
    expectSafeHeaders(response);
    expect(response.headers.Allow).toBe('GET, POST');
  });

  it('answers an unexpected failure with an HTML page, not a stack trace', async () => {
    // Prepare
    const broken = createApprovalPageHandler({
      ledger,
      workspace,
      sfn: new SFNClient({}),
      signingKey: async () => {
        throw new Error('secrets manager down');
      },
      now: () => NOW,
    });

    // Act
    const response = await broken(httpEvent('GET', { query: linkQuery() }));

    // Assess
    expect(response.statusCode).toBe(500);
    expectSafeHeaders(response);
    expect(response.body).not.toContain('secrets manager down');
  });
});
