import {
  type Account,
  ListAccountsForParentCommand,
  type ListAccountsForParentCommandInput,
  ListOrganizationalUnitsForParentCommand,
  type ListOrganizationalUnitsForParentCommandInput,
  OrganizationsClient,
  OrganizationsServiceException,
} from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  memberRoleArn,
  OrganizationReadError,
  resolveOrganizationalUnits,
  resolveTargets,
  roleSessionName,
} from '../../functions/adapters/organization.ts';
import { target } from '../../functions/core/target.ts';

const organizationsMock = mockClient(OrganizationsClient);
// One attempt: a denied page must surface at once, and a throttled one is the SDK's business.
const client = new OrganizationsClient({ region: 'us-east-1', maxAttempts: 1 });

afterEach(() => {
  organizationsMock.reset();
});

function account(id: string, state: Account['State'] = 'ACTIVE'): Account {
  return { Id: id, Name: `account ${id}`, State: state };
}

/** A fake organization answering both list calls, page by page, at the page size asked. */
function serve(tree: Record<string, { accounts?: Account[]; children?: string[] }>): void {
  const page = <T>(items: T[], input: { NextToken?: string; MaxResults?: number }) => {
    const start = Number(input.NextToken ?? 0);
    const size = input.MaxResults ?? 20;
    const next = start + size < items.length ? String(start + size) : undefined;
    return { items: items.slice(start, start + size), next };
  };
  organizationsMock.on(ListAccountsForParentCommand).callsFake((input: ListAccountsForParentCommandInput) => {
    const { items, next } = page(tree[input.ParentId ?? '']?.accounts ?? [], input);
    return { Accounts: items, NextToken: next };
  });
  organizationsMock
    .on(ListOrganizationalUnitsForParentCommand)
    .callsFake((input: ListOrganizationalUnitsForParentCommandInput) => {
      const children = (tree[input.ParentId ?? '']?.children ?? []).map((Id) => ({ Id, Name: Id }));
      const { items, next } = page(children, input);
      return { OrganizationalUnits: items, NextToken: next };
    });
}

const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => String(from + i));

describe('resolveOrganizationalUnits', () => {
  it('reads every page of every OU, at any depth, at the largest page size', async () => {
    // Prepare
    serve({
      'r-root': { accounts: [account('100000000001')], children: ['ou-root-aaaaaaaa'] },
      'ou-root-aaaaaaaa': {
        accounts: ids(200000000000, 45).map((id) => account(id)),
        children: ['ou-root-bbbbbbbb'],
      },
      'ou-root-bbbbbbbb': { children: ['ou-root-cccccccc'] },
      'ou-root-cccccccc': { accounts: [account('300000000001')] },
    });

    // Act
    const accounts = await resolveOrganizationalUnits(client, ['r-root']);

    // Assess
    expect(accounts.map((a) => a.accountId)).toEqual([
      '100000000001',
      ...ids(200000000000, 45),
      '300000000001',
    ]);
    expect(accounts.find((a) => a.accountId === '300000000001')?.parentId).toBe('ou-root-cccccccc');
    const pagesOfBigOu = organizationsMock
      .commandCalls(ListAccountsForParentCommand)
      .filter((call) => call.args[0].input.ParentId === 'ou-root-aaaaaaaa');
    expect(pagesOfBigOu.map((call) => call.args[0].input.MaxResults)).toEqual([20, 20, 20]);
  });

  it('keeps only ACTIVE accounts (State, or the deprecated Status when State is absent)', async () => {
    // Prepare
    serve({
      'ou-root-aaaaaaaa': {
        accounts: [
          account('100000000001'),
          account('100000000002', 'SUSPENDED'),
          account('100000000003', 'PENDING_CLOSURE'),
          account('100000000004', 'CLOSED'),
          { Id: '100000000005', Name: 'legacy', Status: 'ACTIVE' },
          { Id: '100000000006', Name: 'legacy suspended', Status: 'SUSPENDED' },
        ],
      },
    });

    // Act
    const accounts = await resolveOrganizationalUnits(client, ['ou-root-aaaaaaaa']);

    // Assess
    expect(accounts.map((a) => a.accountId)).toEqual(['100000000001', '100000000005']);
  });

  it('fails closed, naming the OU, when one OU cannot be listed', async () => {
    // Prepare
    serve({
      'r-root': { accounts: [account('100000000001')], children: ['ou-root-aaaaaaaa', 'ou-root-bbbbbbbb'] },
      'ou-root-aaaaaaaa': { accounts: [account('200000000001')] },
    });
    organizationsMock.on(ListAccountsForParentCommand, { ParentId: 'ou-root-bbbbbbbb' }).rejects(
      new OrganizationsServiceException({
        name: 'AccessDeniedException',
        message: 'You don\u2019t have permissions to access this resource.',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    // Act
    const attempt = resolveOrganizationalUnits(client, ['r-root']);

    // Assess
    await expect(attempt).rejects.toThrow(OrganizationReadError);
    await expect(attempt).rejects.toMatchObject({
      parentId: 'ou-root-bbbbbbbb',
      code: 'AccessDeniedException',
      retryable: false,
      message: expect.stringContaining(
        'cannot list ou-root-bbbbbbbb (ListAccountsForParent): AccessDeniedException',
      ),
    });
  });

  it('fails closed when a later page of an OU fails', async () => {
    // Prepare
    serve({ 'ou-root-aaaaaaaa': { accounts: ids(200000000000, 30).map((id) => account(id)) } });
    organizationsMock
      .on(ListAccountsForParentCommand, { ParentId: 'ou-root-aaaaaaaa', NextToken: '20' })
      .rejects(new Error('socket hang up'));

    // Act / Assess
    await expect(resolveOrganizationalUnits(client, ['ou-root-aaaaaaaa'])).rejects.toMatchObject({
      name: 'OrganizationReadError',
      parentId: 'ou-root-aaaaaaaa',
    });
  });

  it('fails closed on a repeated page token instead of looping or truncating', async () => {
    // Prepare
    organizationsMock.on(ListOrganizationalUnitsForParentCommand).resolves({ OrganizationalUnits: [] });
    organizationsMock
      .on(ListAccountsForParentCommand)
      .resolves({ Accounts: [account('100000000001')], NextToken: 'same' });

    // Act / Assess
    await expect(resolveOrganizationalUnits(client, ['ou-root-aaaaaaaa'])).rejects.toMatchObject({
      code: 'RepeatedPageToken',
    });
  });

  it('fails closed on a malformed account id rather than dropping it', async () => {
    // Prepare
    serve({ 'ou-root-aaaaaaaa': { accounts: [account('100000000001'), account('../etc')] } });

    // Act / Assess
    await expect(resolveOrganizationalUnits(client, ['ou-root-aaaaaaaa'])).rejects.toThrow(
      /malformed account id/,
    );
  });

  it('reads an OU listed twice, or reached through a cycle, once, and counts each account once', async () => {
    // Prepare
    serve({
      'ou-root-aaaaaaaa': { accounts: [account('100000000001')], children: ['ou-root-bbbbbbbb'] },
      'ou-root-bbbbbbbb': {
        accounts: [account('100000000001'), account('100000000002')],
        children: ['ou-root-aaaaaaaa'],
      },
    });

    // Act
    const accounts = await resolveOrganizationalUnits(client, [
      'ou-root-aaaaaaaa',
      'ou-root-bbbbbbbb',
      'ou-root-aaaaaaaa',
    ]);

    // Assess
    expect(accounts.map((a) => a.accountId)).toEqual(['100000000001', '100000000002']);
    expect(organizationsMock.commandCalls(ListAccountsForParentCommand)).toHaveLength(2);
  });

  it('refuses a hostile OU id before calling anything', async () => {
    await expect(resolveOrganizationalUnits(client, ['ou-root-aaaaaaaa', '../r-root'])).rejects.toThrow(
      /Not an organizational unit id/,
    );
    expect(organizationsMock.calls()).toHaveLength(0);
  });
});

describe('resolveTargets', () => {
  it('is the named accounts plus the OUs\u2019 accounts, in every region, once each', async () => {
    // Prepare
    serve({ 'ou-root-aaaaaaaa': { accounts: [account('200000000001'), account('100000000001')] } });

    // Act
    const targets = await resolveTargets(client, {
      accounts: ['100000000001'],
      organizationalUnits: ['ou-root-aaaaaaaa'],
      regions: ['eu-west-1', 'us-east-1'],
    });

    // Assess
    expect(targets.map((t) => t.key)).toEqual([
      '100000000001-eu-west-1',
      '100000000001-us-east-1',
      '200000000001-eu-west-1',
      '200000000001-us-east-1',
    ]);
  });

  it('calls Organizations not at all for a list of accounts', async () => {
    // Act
    const targets = await resolveTargets(client, {
      accounts: ['100000000001'],
      organizationalUnits: [],
      regions: ['eu-west-1'],
    });

    // Assess
    expect(targets.map((t) => t.key)).toEqual(['100000000001-eu-west-1']);
    expect(organizationsMock.calls()).toHaveLength(0);
  });
});

describe('member role naming', () => {
  it('builds the role ARN in the target partition', () => {
    expect(memberRoleArn(target('123456789012', 'eu-west-1'), 'AmiCleanerMemberRole')).toBe(
      'arn:aws:iam::123456789012:role/AmiCleanerMemberRole',
    );
    expect(memberRoleArn(target('123456789012', 'cn-north-1'), 'Cleaner')).toBe(
      'arn:aws-cn:iam::123456789012:role/Cleaner',
    );
    expect(() => memberRoleArn(target('123456789012', 'eu-west-1'), '../admin')).toThrow(
      /Not an IAM role name/,
    );
  });

  it('makes a session name STS accepts from any run id', () => {
    expect(roleSessionName('amicleaner-run/2026:12:01 #1')).toBe('amicleaner-run-2026-12-01--1');
    expect(roleSessionName('x'.repeat(100))).toHaveLength(64);
    expect(roleSessionName('x')).toMatch(/^[\w+=,.@-]{2}$/);
  });
});
