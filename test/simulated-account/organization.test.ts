import { DeregisterImageCommand, DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListAccountsForParentCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import {
  arnLike,
  organizationScenario,
  SimulatedAccount,
  SimulatedOrganization,
} from '../../cli/simulated-account/index.ts';
import {
  AssumeRoleError,
  memberClients,
  OrganizationReadError,
  resolveOrganizationalUnits,
  resolveTargets,
} from '../../functions/adapters/organization.ts';
import { target } from '../../functions/core/target.ts';
import { rejectionOf } from './clients.ts';

// The SDK checks an assumed role's Expiration against the real clock, so the simulated clock is now.
const NOW = new Date();
const HUB_INVENTORY = 'arn:aws:iam::123456789012:role/AmiCleaner-Inventory';

function seeded() {
  const organization = new SimulatedOrganization({ seed: 'org-test', clock: () => NOW });
  const scenario = organizationScenario(organization, { now: NOW });
  const hub = organization.credentialsFor(HUB_INVENTORY);
  return { organization, scenario, hub };
}

/** What the hub's functions would build for one target, through the real adapter. */
function clientsIn(
  organization: SimulatedOrganization,
  accountId: string,
  region: string,
  as: ReturnType<SimulatedOrganization['credentialsFor']>,
) {
  const clients = memberClients(target(accountId, region), {
    roleName: 'AmiCleanerMemberRole',
    sessionName: 'amicleaner-run-1',
    sourceCredentials: as,
    stsPlugins: [organization.plugin()],
  });
  for (const client of Object.values(clients)) organization.attach(client);
  return clients;
}

describe('SimulatedOrganization: accounts and regions', () => {
  it('adopts an existing account as its management account, leaving the account API as it was', async () => {
    // Prepare
    const account = new SimulatedAccount({ seed: 'single' });
    const image = account.addImage({ name: 'app', creationDate: NOW });
    const organization = new SimulatedOrganization({ defaultAccount: account });

    // Act
    const direct = account.attach(new EC2Client({ region: 'eu-west-1' }));
    const { Images } = await direct.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(organization.defaultAccount).toBe(account);
    expect(organization.account('123456789012', 'eu-west-1')).toBe(account);
    expect(Images?.map((i) => i.ImageId)).toEqual([image.imageId]);
  });

  it('keeps each account and region apart, routed by the signing identity and region', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const [workloadA, workloadB] = scenario.workloads;
    if (!workloadA || !workloadB) throw new Error('scenario');

    // Act
    const inA = clientsIn(organization, workloadA.accountId, 'eu-west-1', hub);
    const inBelsewhere = clientsIn(organization, workloadB.accountId, 'eu-west-1', hub);
    const imagesA = await inA.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    const imagesB = await inBelsewhere.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(imagesA.Images?.map((i) => i.ImageId).sort()).toEqual([...workloadA.ownImageIds].sort());
    expect(imagesA.Images?.every((i) => i.OwnerId === workloadA.accountId)).toBe(true);
    expect(imagesB.Images).toEqual([]); // workload B bakes in us-east-1 only
    expect(organization.account(workloadA.accountId, 'eu-west-1').callsTo('DescribeImages')).toHaveLength(1);
  });

  it('gives every account and region its own token bucket', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    organization.useEc2RateLimits();
    const golden = scenario.golden.accountId;
    const [first] = scenario.golden.imageIds['eu-west-1'] ?? [];
    organization
      .account(golden, 'eu-west-1')
      .setRateLimit('DescribeImages', { capacity: 1, refillPerSecond: 0.001 });
    const inGolden = clientsIn(organization, golden, 'eu-west-1', hub);
    const inGoldenUs = clientsIn(organization, golden, 'us-east-1', hub);
    const oneAttempt = new EC2Client({
      region: 'eu-west-1',
      maxAttempts: 1,
      credentials: inGolden.ec2.config.credentials,
    });
    organization.attach(oneAttempt);

    // Act
    await oneAttempt.send(new DescribeImagesCommand({ ImageIds: [first as string] }));
    const throttled = await rejectionOf(
      oneAttempt.send(new DescribeImagesCommand({ ImageIds: [first as string] })),
    );
    const otherRegion = await inGoldenUs.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(throttled.name).toBe('RequestLimitExceeded');
    expect(otherRegion.Images).toHaveLength(12);
    // A region first touched after useEc2RateLimits gets MISSION.md's buckets too: 100, then throttled.
    const fresh = organization.account(scenario.workloads[0]?.accountId as string, 'ap-south-1');
    const codes: string[] = [];
    for (let i = 0; i < 101; i++) {
      codes.push(
        await fresh.handle('EC2', 'DeregisterImage', { ImageId: 'ami-0123456789abcdef0' }).then(
          () => 'ok',
          (e: Error) => e.name,
        ),
      );
    }
    expect(codes.slice(0, 100).every((code) => code === 'InvalidAMIID.NotFound')).toBe(true);
    expect(codes[100]).toBe('RequestLimitExceeded');
  });
});

describe('SimulatedOrganization: STS AssumeRole against the member role trust', () => {
  it('lets a trusted hub principal in, as the assumed role', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const sts = organization.attach(new STSClient({ region: 'eu-west-1' }), hub);

    // Act
    const { Credentials, AssumedRoleUser } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${scenario.golden.accountId}:role/AmiCleanerMemberRole`,
        RoleSessionName: 'amicleaner-run-1',
      }),
    );
    const asRole = organization.attach(new STSClient({ region: 'eu-west-1' }), {
      accessKeyId: Credentials?.AccessKeyId as string,
      secretAccessKey: Credentials?.SecretAccessKey as string,
      sessionToken: Credentials?.SessionToken as string,
    });
    const identity = await asRole.send(new GetCallerIdentityCommand({}));

    // Assess
    expect(AssumedRoleUser?.Arn).toBe(
      `arn:aws:sts::${scenario.golden.accountId}:assumed-role/AmiCleanerMemberRole/amicleaner-run-1`,
    );
    expect(Credentials?.Expiration?.getTime()).toBe(NOW.getTime() + 3600_000);
    expect(identity.Account).toBe(scenario.golden.accountId);
  });

  it.each([
    ['a hub role the trust does not name', 'arn:aws:iam::123456789012:role/ApprovalPage'],
    ['a role of another account with a matching name', `arn:aws:iam::333333333333:role/AmiCleaner-Inventory`],
  ])('denies %s', async (_what, principal) => {
    // Prepare
    const { organization, scenario } = seeded();
    const sts = organization.attach(
      new STSClient({ region: 'eu-west-1', maxAttempts: 1 }),
      organization.credentialsFor(principal),
    );

    // Act
    const error = await rejectionOf(
      sts.send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${scenario.golden.accountId}:role/AmiCleanerMemberRole`,
          RoleSessionName: 'amicleaner-run-1',
        }),
      ),
    );

    // Assess
    expect(error.name).toBe('AccessDenied');
    expect(error.message).toContain(
      `is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${scenario.golden.accountId}:role/AmiCleanerMemberRole`,
    );
  });

  it('surfaces a denial through the adapter as AssumeRoleError naming target and role, with no key in it', async () => {
    // Prepare
    const { organization, scenario } = seeded();
    const outsider = organization.credentialsFor('arn:aws:iam::123456789012:role/Someone');
    const clients = clientsIn(organization, scenario.golden.accountId, 'eu-west-1', outsider);

    // Act
    const error = await rejectionOf(clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'] })));

    // Assess
    expect(error).toBeInstanceOf(AssumeRoleError);
    expect(error).toMatchObject({
      targetKey: `${scenario.golden.accountId}-eu-west-1`,
      code: 'AccessDenied',
      retryable: false,
    });
    expect(error.message).not.toContain(outsider.accessKeyId);
    expect(organization.account(scenario.golden.accountId, 'eu-west-1').calls).toEqual([]);
  });

  it('closes an account: the open session ends, the role cannot be assumed again, OUs no longer resolve it', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const gone = scenario.workloads[0]?.accountId as string;
    const open = clientsIn(organization, gone, 'eu-west-1', hub);
    await open.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    const orgs = organization.attach(new OrganizationsClient({ region: 'us-east-1' }), hub);

    // Act
    organization.closeAccount(gone);
    const expired = await rejectionOf(open.ec2.send(new DescribeImagesCommand({ Owners: ['self'] })));
    const fresh = clientsIn(organization, gone, 'eu-west-1', hub);
    const denied = await rejectionOf(fresh.ec2.send(new DescribeImagesCommand({ Owners: ['self'] })));
    const resolved = await resolveOrganizationalUnits(orgs, [scenario.ous.workloads]);

    // Assess
    expect(expired).toMatchObject({ name: 'ExpiredToken' });
    expect(denied).toBeInstanceOf(AssumeRoleError);
    expect(denied).toMatchObject({ code: 'AccessDenied' });
    expect(resolved.map((a) => a.accountId)).not.toContain(gone);
  });

  it('moves an account: OUs resolve it under its new parent only', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const moved = scenario.workloads[0]?.accountId as string;
    const orgs = organization.attach(new OrganizationsClient({ region: 'us-east-1' }), hub);

    // Act
    organization.moveAccount(moved, scenario.ous.platform);

    // Assess
    const ids = async (ou: string) => (await resolveOrganizationalUnits(orgs, [ou])).map((a) => a.accountId);
    expect(await ids(scenario.ous.workloads)).not.toContain(moved);
    expect(await ids(scenario.ous.platform)).toContain(moved);
    expect(() => organization.moveAccount(moved, 'ou-nowhere')).toThrow(/No OU/);
  });

  it('assumes once per target for all of its clients, and acts only on the member account\u2019s own resources', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const golden = scenario.golden.imageIds['us-east-1'] ?? [];
    const workloadB = scenario.workloads[1];
    if (!workloadB) throw new Error('scenario');
    const inB = clientsIn(organization, workloadB.accountId, 'us-east-1', hub);

    // Act
    await inB.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    await inB.ssm.send(new (await import('@aws-sdk/client-ssm')).GetParametersByPathCommand({ Path: '/' }));
    const foreign = await rejectionOf(inB.ec2.send(new DeregisterImageCommand({ ImageId: golden[0] })));

    // Assess
    expect(organization.calls.filter((call) => call.command === 'AssumeRole')).toHaveLength(1);
    expect(foreign.name).toBe('InvalidAMIID.NotFound'); // another account's image is not the member's to deregister
    expect(organization.account(scenario.golden.accountId, 'us-east-1').images.has(golden[0] as string)).toBe(
      true,
    );
    expect(inB.ssm).toBeInstanceOf(SSMClient);
  });

  it('calls STS in the region the hub names, else in the target\u2019s', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const options = {
      roleName: 'AmiCleanerMemberRole',
      sessionName: 'run',
      sourceCredentials: hub,
      stsPlugins: [organization.plugin()],
    };
    const viaHub = memberClients(target(scenario.golden.accountId, 'us-east-1'), {
      ...options,
      stsRegion: 'eu-west-1',
    });
    const viaTarget = memberClients(target(scenario.golden.accountId, 'us-east-1'), options);
    for (const client of [viaHub.ec2, viaTarget.ec2]) organization.attach(client);

    // Act
    await viaHub.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    await viaTarget.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(
      organization.calls.filter((call) => call.command === 'AssumeRole').map((call) => call.region),
    ).toEqual(['eu-west-1', 'us-east-1']);
  });

  it('refuses an unknown or expired key', async () => {
    // Prepare
    let now = NOW;
    const organization = new SimulatedOrganization({ clock: () => now });
    organization.addAccount({ accountId: '210987654321', name: 'golden' });
    organization.addRole('210987654321', 'AmiCleanerMemberRole', {
      hubAccountId: '123456789012',
      hubPrincipalArns: [HUB_INVENTORY],
    });
    const clients = clientsIn(
      organization,
      '210987654321',
      'eu-west-1',
      organization.credentialsFor(HUB_INVENTORY),
    );
    await clients.ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));
    const stolen = organization.attach(new EC2Client({ region: 'eu-west-1', maxAttempts: 1 }), {
      accessKeyId: 'AKIAUNKNOWN',
      secretAccessKey: 'x',
    });

    // Act
    now = new Date(NOW.getTime() + 2 * 3600_000);
    const expired = await rejectionOf(
      organization
        .attach(
          new EC2Client({
            region: 'eu-west-1',
            maxAttempts: 1,
            credentials: await clients.ec2.config.credentials(),
          }),
        )
        .send(new DescribeImagesCommand({})),
    );
    const unknown = await rejectionOf(stolen.send(new DescribeImagesCommand({})));

    // Assess
    expect(expired.name).toBe('ExpiredToken');
    expect(unknown.name).toBe('AuthFailure');
  });
});

describe('SimulatedOrganization: Organizations', () => {
  it('resolves OUs through the real adapter: nested, every page, ACTIVE accounts only', async () => {
    // Prepare
    const { organization, scenario } = seeded();
    for (let i = 0; i < 45; i++) {
      organization.addAccount({
        accountId: String(600000000000 + i),
        name: `bulk-${i}`,
        parentId: scenario.ous.production,
      });
    }
    const client = organization.attach(
      new OrganizationsClient({ region: 'us-east-1' }),
      organization.credentialsFor(HUB_INVENTORY),
    );

    // Act
    const accounts = await resolveOrganizationalUnits(client, [scenario.ous.workloads]);

    // Assess
    expect(accounts.map((a) => a.accountId)).toEqual([
      '333333333333',
      '444444444444',
      ...Array.from({ length: 45 }, (_, i) => String(600000000000 + i)),
    ]);
    expect(accounts.map((a) => a.accountId)).not.toContain(scenario.suspendedAccountId);
    const pages = organization.calls.filter(
      (call) => call.command === 'ListAccountsForParent' && call.input.ParentId === scenario.ous.production,
    );
    expect(pages).toHaveLength(3); // 46 accounts at 20 a page
  });

  it('fails closed, naming the OU, when one OU cannot be listed', async () => {
    // Prepare
    const { organization, scenario } = seeded();
    organization.deniedParents.add(scenario.ous.production);
    const client = organization.attach(
      new OrganizationsClient({ region: 'us-east-1' }),
      organization.credentialsFor(HUB_INVENTORY),
    );

    // Act
    const error = await rejectionOf(
      resolveTargets(client, {
        accounts: [],
        organizationalUnits: [scenario.ous.workloads],
        regions: ['eu-west-1'],
      }),
    );

    // Assess
    expect(error).toBeInstanceOf(OrganizationReadError);
    expect(error).toMatchObject({ parentId: scenario.ous.production, code: 'AccessDeniedException' });
  });

  it('answers only the management account', async () => {
    // Prepare
    const { organization, scenario } = seeded();
    const fromWorkload = organization.attach(
      new OrganizationsClient({ region: 'us-east-1', maxAttempts: 1 }),
      organization.credentialsFor('arn:aws:iam::333333333333:role/Admin'),
    );

    // Act
    const error = await rejectionOf(
      fromWorkload.send(new ListAccountsForParentCommand({ ParentId: scenario.ous.workloads })),
    );

    // Assess
    expect(error.name).toBe('AccessDeniedException');
  });
});

describe('SimulatedOrganization: shared AMIs', () => {
  it('honours launch permissions to an account, an OU (at any depth) and the organization', () => {
    // Prepare
    const { organization, scenario } = seeded();
    const golden = organization.account(scenario.golden.accountId, 'eu-west-1');
    const toOu = golden.images.get(scenario.golden.imageIds['eu-west-1']?.[0] as string);
    const outsider = organization.addAccount({
      accountId: '777777777777',
      name: 'sandbox',
      parentId: scenario.ous.platform,
    });
    const toAccount = golden.addImage({
      name: 'direct',
      creationDate: NOW,
      launchPermissions: [{ userId: outsider.accountId }],
    });
    const toOrg = golden.addImage({
      name: 'org',
      creationDate: NOW,
      launchPermissions: [{ organizationArn: organization.arn }],
    });
    const unshared = golden.addImage({ name: 'private', creationDate: NOW });
    if (!toOu) throw new Error('scenario');

    // Act / Assess
    expect(organization.canLaunch(toOu, '333333333333')).toBe(true); // Production is under Workloads
    expect(organization.canLaunch(toOu, outsider.accountId)).toBe(false); // Platform is not
    expect(organization.canLaunch(toAccount, outsider.accountId)).toBe(true);
    expect(organization.canLaunch(toAccount, '333333333333')).toBe(false);
    expect(organization.canLaunch(toOrg, outsider.accountId)).toBe(true);
    expect(organization.canLaunch(unshared, '333333333333')).toBe(false);
    expect(() => organization.launchInstance('333333333333', 'eu-west-1', unshared.imageId, NOW)).toThrow(
      /does not exist/,
    );
    expect(organization.imagesLaunchableBy(outsider.accountId, 'eu-west-1').map((i) => i.imageId)).toEqual(
      expect.arrayContaining([toAccount.imageId, toOrg.imageId]),
    );
  });

  it('reports OU and organization launch permissions in DescribeImageAttribute', async () => {
    // Prepare
    const { organization, scenario, hub } = seeded();
    const inGolden = clientsIn(organization, scenario.golden.accountId, 'eu-west-1', hub);
    const [first] = scenario.golden.imageIds['eu-west-1'] ?? [];

    // Act
    const { LaunchPermissions } = await inGolden.ec2.send(
      new (await import('@aws-sdk/client-ec2')).DescribeImageAttributeCommand({
        ImageId: first,
        Attribute: 'launchPermission',
      }),
    );

    // Assess
    const workloads = organization.organizationalUnits.get(scenario.ous.workloads);
    expect(LaunchPermissions).toEqual([{ OrganizationalUnitArn: workloads?.arn }]);
  });
});

describe('organizationScenario', () => {
  it('seeds a golden account sharing with Workloads, and two workloads in two regions running its images', () => {
    // Act
    const { organization, scenario } = seeded();

    // Assess
    expect(scenario.regions).toEqual(['eu-west-1', 'us-east-1']);
    for (const region of scenario.regions) {
      const images = [...organization.account(scenario.golden.accountId, region).images.values()];
      expect(images).toHaveLength(12);
      expect(images.every((image) => image.launchPermissions.length === 1)).toBe(true);
    }
    const [a, b] = scenario.usedByOtherAccounts;
    expect(a?.usedBy).toBe('333333333333');
    expect(
      [...organization.account('333333333333', 'eu-west-1').instances.values()].map((i) => i.imageId),
    ).toEqual([a?.imageId]);
    expect(
      [...organization.account('444444444444', 'us-east-1').launchTemplates.values()][0]?.versions[0]
        ?.imageId,
    ).toBe(b?.imageId);
    for (const { imageId, region, usedBy } of scenario.usedByOtherAccounts) {
      const image = organization.account(scenario.golden.accountId, region).images.get(imageId);
      expect(image && organization.canLaunch(image, usedBy)).toBe(true);
    }
    expect(organization.accounts.get(scenario.suspendedAccountId)?.state).toBe('SUSPENDED');
    expect(organization.roles.size).toBe(5);
  });

  it('is deterministic for a seed', () => {
    expect(seeded().scenario).toEqual(seeded().scenario);
  });
});

describe('arnLike', () => {
  it('matches wildcards within components, never across the account', () => {
    expect(
      arnLike(
        'arn:aws:iam::123456789012:role/AmiCleaner*',
        'arn:aws:iam::123456789012:role/AmiCleaner-Inventory',
      ),
    ).toBe(true);
    expect(
      arnLike(
        'arn:aws:iam::123456789012:role/AmiCleaner*',
        'arn:aws:iam::999999999999:role/AmiCleaner-Inventory',
      ),
    ).toBe(false);
    expect(
      arnLike('arn:aws:iam::123456789012:role/AmiCleaner*', 'arn:aws:iam::123456789012:role/Other'),
    ).toBe(false);
    expect(arnLike('arn:aws:iam::12345678901?:role/a', 'arn:aws:iam::123456789012:role/a')).toBe(true);
    expect(arnLike('arn:aws:iam::123456789012:role/a.b', 'arn:aws:iam::123456789012:role/aXb')).toBe(false);
  });
});
