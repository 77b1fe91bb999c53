/**
 * Least privilege on the ledger, checked three ways:
 * 1. each ledger method, run on dynalite, sends only the requests LEDGER_METHOD_ACCESS declares;
 * 2. each handler's code calls exactly the ledger methods HANDLER_LEDGER_METHODS declares;
 * 3. each function's role in the synthesized template allows exactly those requests, bound to
 *    their key spaces with dynamodb:LeadingKeys.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ledger } from '../../functions/adapters/ledger/index.ts';
import { AmiCleaner, InlineCodeFunctionFactory } from '../../infra/ami-cleaner.ts';
import {
  APPROVAL_PAGE_HANDLER,
  CLOSE_ABANDONED_RUN_HANDLER,
  type HandlerSpec,
  ORGANIZATION_HANDLERS,
  START_EXECUTION_HANDLER,
  STATE_MACHINE_HANDLERS,
} from '../../infra/lib/handlers.ts';
import {
  HANDLER_LEDGER_METHODS,
  LEDGER_METHOD_ACCESS,
  type LedgerMethod,
  type LedgerUser,
  requestsOf,
} from '../../infra/lib/ledger-access.ts';
import { type LocalDynamo, startDynalite } from '../helpers/dynalite.ts';
import { runContext, smallPlan } from '../helpers/ledger-fixtures.ts';

// biome-ignore lint/suspicious/noExplicitAny: these tests walk parsed CloudFormation JSON.
type Json = Record<string, any>;

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HASH = 'a'.repeat(64);
const IMAGE = 'ami-0000000000000001';

const ALL_HANDLERS: readonly HandlerSpec[] = [
  ...STATE_MACHINE_HANDLERS,
  ...ORGANIZATION_HANDLERS,
  APPROVAL_PAGE_HANDLER,
  START_EXECUTION_HANDLER,
  CLOSE_ABANDONED_RUN_HANDLER,
];

const requestKey = (r: { action: string; keySpace?: string; index?: string }) =>
  `${r.action} ${r.index ?? r.keySpace}`;

// ----- 1. methods → requests -------------------------------------------------------------------

const ACTION_OF: Readonly<Record<string, string>> = {
  GetCommand: 'dynamodb:GetItem',
  PutCommand: 'dynamodb:PutItem',
  UpdateCommand: 'dynamodb:UpdateItem',
  DeleteCommand: 'dynamodb:DeleteItem',
  QueryCommand: 'dynamodb:Query',
  BatchWriteCommand: 'dynamodb:BatchWriteItem',
};

/** `RUN#`, `APPROVAL#`... of the partition keys a request names. */
function keySpacesOf(input: Json): string[] {
  const pks: unknown[] = [input.Key?.pk, input.Item?.pk, input.ExpressionAttributeValues?.[':pk']];
  for (const requests of Object.values((input.RequestItems ?? {}) as Json)) {
    for (const request of requests as Json[]) pks.push(request.PutRequest?.Item?.pk);
  }
  return [
    ...new Set(pks.filter((pk): pk is string => typeof pk === 'string').map((pk) => `${pk.split('#')[0]}#`)),
  ];
}

describe('ledger methods send only the requests LEDGER_METHOD_ACCESS declares', () => {
  let dynamo: LocalDynamo;
  let recorded: string[] = [];
  let ledger: Ledger;

  beforeAll(async () => {
    dynamo = await startDynalite();
    const doc = new Proxy(dynamo.docClient, {
      get(target, key) {
        if (key !== 'send') return Reflect.get(target, key, target);
        return (command: { constructor: { name: string }; input: Json }) => {
          const action = ACTION_OF[command.constructor.name] ?? command.constructor.name;
          if (command.input.IndexName) recorded.push(`${action} ${command.input.IndexName}`);
          else for (const space of keySpacesOf(command.input)) recorded.push(`${action} ${space}`);
          return target.send(command as never);
        };
      },
    });
    ledger = new Ledger({ doc, tableName: dynamo.tableName });
  });

  afterAll(async () => {
    await dynamo.stop();
  });

  const run = runContext({ runId: 'run-1' });
  // Launch-template reads are keyed by target: the run's own, and a consumer's (shared AMIs).
  const OWN_KEY = '123456789012-eu-west-1';
  const CONSUMER_KEY = '333333333333-eu-west-1';
  /** Each method called the way a handler does, twice where a repeat takes another path. */
  const scenarios: Readonly<Record<LedgerMethod, () => Promise<unknown>>> = {
    acquireLock: () => ledger.acquireLock('eu-west-1', 'run-1', 60),
    getLock: () => ledger.getLock('eu-west-1'),
    releaseLock: () => ledger.releaseLock('eu-west-1', 'run-1'),
    putRun: () => ledger.putRun(run),
    updateRun: () => ledger.updateRun('run-1', { status: 'AWAITING_APPROVAL' }),
    getRun: () => ledger.getRun('run-1'),
    listRuns: () => ledger.listRuns(),
    recordPlan: () => ledger.recordPlan(run, smallPlan()),
    getItem: () => ledger.getItem('run-1', 'IMAGE', IMAGE),
    listItems: () => ledger.listItems('run-1'),
    itemsByImage: () => ledger.itemsByImage(IMAGE),
    markAllApproved: () => ledger.markAllApproved('run-1', HASH),
    // The second call fails its condition and reads the item back.
    transition: async () => {
      const move = { from: ['APPROVED' as const], to: 'DEREGISTERED' as const, planHash: HASH };
      await ledger.transition('run-1', 'IMAGE', IMAGE, move);
      await ledger.transition('run-1', 'IMAGE', IMAGE, move);
    },
    finalizeItems: () => ledger.finalizeItems('run-1', 'FAILED'),
    putApproval: () =>
      ledger.putApproval({
        approvalId: 'approval-1',
        runId: 'run-1',
        planHash: HASH,
        planKey: 'runs/run-1/plan.json',
        taskToken: 'token',
        expiresAt: new Date(Date.now() + 3600_000),
      }),
    getApproval: () => ledger.getApproval('approval-1'),
    useApproval: () =>
      ledger.useApproval('approval-1', { decision: 'APPROVED', approver: 'a', planHash: HASH }),
    // Whether or not its condition holds, it is one UpdateItem on the approval.
    settleApproval: () => ledger.settleApproval('approval-1', 'use-1'),
    reopenApproval: () => ledger.reopenApproval('approval-1', 'APPROVED'),
    castVote: async () => {
      await ledger.putApproval({
        approvalId: 'approval-2',
        runId: 'run-1',
        planHash: HASH,
        planKey: 'runs/run-1/plan.json',
        taskToken: 'token',
        expiresAt: new Date(Date.now() + 3600_000),
        approvers: ['a@example.com', 'b@example.com'],
        requiredApprovals: 2,
      });
      recorded = []; // the approval above is putApproval's request, not castVote's
      const vote = {
        decision: 'APPROVED' as const,
        planHash: HASH,
        comment: 'A',
        origin: { sourceIp: '192.0.2.1', userAgent: 'test' },
      };
      await ledger.castVote('approval-2', { ...vote, approver: 'a@example.com' });
      await ledger.castVote('approval-2', { ...vote, approver: 'b@example.com' });
    },
    reopenVote: () => ledger.reopenVote('approval-2', 'b@example.com', 'APPROVED', 'use-1'),
    expireApproval: () => ledger.expireApproval('approval-1'),
    forgetTaskToken: () => ledger.forgetTaskToken('approval-1'),
    recordDeregistrationIntent: () =>
      ledger.recordDeregistrationIntent('eu-west-1', { runId: 'run-1', imageId: IMAGE, snapshotIds: [] }),
    listDeregistrationIntents: () => ledger.listDeregistrationIntents('eu-west-1'),
    clearDeregistrationIntent: () => ledger.clearDeregistrationIntent('eu-west-1', 'run-1', IMAGE),
    // The second, older read fails its condition: still one PutItem. The third is a consumer
    // account's read, recorded by the owner's DeregisterImage under the consumer's target key.
    recordLaunchTemplateRead: async () => {
      const read = {
        startedAt: '2026-12-01T08:00:01.000Z',
        references: { [IMAGE]: ['launch-template lt-1 v1'] },
      };
      await ledger.recordLaunchTemplateRead(OWN_KEY, read);
      await ledger.recordLaunchTemplateRead(OWN_KEY, { ...read, startedAt: '2026-12-01T08:00:00.000Z' });
      await ledger.recordLaunchTemplateRead(CONSUMER_KEY, read);
    },
    getLaunchTemplateRead: async () => {
      await ledger.getLaunchTemplateRead(OWN_KEY);
      await ledger.getLaunchTemplateRead(CONSUMER_KEY);
    },
  };

  // In this order, each scenario finds what the earlier ones left (a run, its plan, an approval).
  it.each(Object.keys(scenarios) as LedgerMethod[])('%s', async (method) => {
    // Prepare
    recorded = [];

    // Act
    await scenarios[method]();

    // Assess
    const declared = LEDGER_METHOD_ACCESS[method].map(requestKey);
    expect(recorded.length, method).toBeGreaterThan(0);
    for (const request of recorded) expect(declared, method).toContain(request);
  });

  it('has a scenario for every method the facade has', () => {
    // Act
    const facade = Object.getOwnPropertyNames(Ledger.prototype).filter((name) => name !== 'constructor');

    // Assess
    expect(facade.sort()).toEqual(Object.keys(LEDGER_METHOD_ACCESS).sort());
    expect(Object.keys(scenarios).sort()).toEqual(Object.keys(LEDGER_METHOD_ACCESS).sort());
  });
});

// ----- 2. handlers → methods -------------------------------------------------------------------

/** `ledger.<method>(` calls in a handler file and the handler code it imports (not adapters/core). */
function ledgerCallsOf(file: string, seen = new Set<string>()): Set<string> {
  const calls = new Set<string>();
  if (seen.has(file)) return calls;
  seen.add(file);
  const source = readFileSync(file, 'utf8');
  for (const match of source.matchAll(/ledger\??\.(\w+)\(/g)) calls.add(match[1] as string);
  for (const match of source.matchAll(/^import (?!type )[^;]*? from '(\.{1,2}\/[^']+\.ts)';/gms)) {
    const target = normalize(join(dirname(file), match[1] as string));
    if (/functions\/(adapters|core)\//.test(target)) continue;
    for (const call of ledgerCallsOf(target, seen)) calls.add(call);
  }
  return calls;
}

describe('handlers call exactly the ledger methods HANDLER_LEDGER_METHODS declares', () => {
  it.each(ALL_HANDLERS.map((h) => [h.id, h.file] as const))('%s', (id, file) => {
    // Act
    const calls = ledgerCallsOf(join(ROOT, 'functions', `${file}.ts`));

    // Assess
    expect([...calls].sort()).toEqual([...HANDLER_LEDGER_METHODS[id as LedgerUser]].sort());
  });
});

// ----- 3. the synthesized roles ----------------------------------------------------------------

describe('each role allows exactly its handler ledger requests, on its key spaces only', () => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
  // With targets, so the organization run's functions are there too.
  const cleaner = new AmiCleaner(stack, 'Cleaner', {
    approvalEmail: 'ops@example.com',
    functionFactory: new InlineCodeFunctionFactory(),
    targets: { accounts: ['210987654321'], regions: ['eu-west-1'] },
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Json;
  const tableId = stack.resolve(cleaner.ledgerTable.tableArn)['Fn::GetAtt'][0] as string;
  const fnOf = (id: string) =>
    id === 'ApprovalPage'
      ? cleaner.approvalPageFunction
      : id === 'StartExecution'
        ? cleaner.startExecutionFunction
        : id === 'CloseAbandonedRun'
          ? cleaner.closeAbandonedRunFunction
          : (cleaner.functions[id as keyof AmiCleaner['functions']] ??
            cleaner.organizationFunctions?.[id as keyof NonNullable<AmiCleaner['organizationFunctions']>]);

  /** The DynamoDB requests a role's policies allow, as `action keySpace|index`. */
  function allowedRequests(role: string): string[] {
    const allowed: string[] = [];
    for (const resource of Object.values(resources) as Json[]) {
      if (
        resource.Type !== 'AWS::IAM::Policy' ||
        !resource.Properties.Roles.some((r: Json) => r.Ref === role)
      )
        continue;
      for (const statement of resource.Properties.PolicyDocument.Statement as Json[]) {
        const actions = [statement.Action].flat() as string[];
        const dynamo = actions.filter((a) => a.startsWith('dynamodb:'));
        if (dynamo.length === 0) continue;
        const targets = JSON.stringify(statement.Resource);
        expect(targets, role).toContain(tableId);
        const leading = statement.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] as
          | string[]
          | undefined;
        if (leading) {
          for (const action of dynamo)
            for (const prefix of leading) allowed.push(`${action} ${prefix.replace(/\*$/, '')}`);
          continue;
        }
        // Unconditioned only for the indexes, named one by one.
        expect(dynamo, role).toEqual(['dynamodb:Query']);
        for (const arn of [statement.Resource].flat() as Json[]) {
          const parts = arn['Fn::Join'][1] as unknown[];
          const index = String(parts.at(-1)).replace(/^\/index\//, '');
          expect(index, role).not.toContain('*');
          allowed.push(`dynamodb:Query ${index}`);
        }
      }
    }
    return allowed.sort();
  }

  it.each(ALL_HANDLERS.map((h) => h.id))('%s', (id) => {
    // Prepare
    const role = stack.resolve(fnOf(id).role?.roleName).Ref as string;

    // Act
    const allowed = allowedRequests(role);

    // Assess
    const expected = requestsOf(HANDLER_LEDGER_METHODS[id as LedgerUser])
      .map(requestKey)
      .sort();
    expect(allowed).toEqual(expected);
  });

  it('lets the public approval page read the run and change approvals only (it renders the verified workspace plan)', () => {
    // Act
    const allowed = allowedRequests(stack.resolve(cleaner.approvalPageFunction.role?.roleName).Ref);

    // Assess
    expect(allowed.sort()).toEqual([
      'dynamodb:GetItem APPROVAL#',
      'dynamodb:GetItem RUN#',
      'dynamodb:UpdateItem APPROVAL#',
    ]);
  });

  it('reserves concurrency for the public approval page, so a flood cannot take the account pool', () => {
    // Act
    const id = stack.resolve(cleaner.approvalPageFunction.functionArn)['Fn::GetAtt'][0] as string;

    // Assess
    expect(resources[id].Properties.ReservedConcurrentExecutions).toBe(10);
  });
});
