import {
  DeleteSnapshotCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  DescribeInstancesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  paginateDescribeImages,
  paginateDescribeInstances,
  paginateDescribeLaunchTemplateVersions,
  paginateDescribeSnapshots,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../cli/simulated-account/index.ts';
import { clientsFor, rejectionOf } from './clients.ts';

const day = (n: number) => new Date(Date.UTC(2021, 0, n));

describe('DescribeImages', () => {
  it('pages through every image with the SDK paginator, each image exactly once', async () => {
    // Prepare
    const account = new SimulatedAccount();
    for (let i = 0; i < 23; i++) account.addImage({ name: `img-${i}`, creationDate: day(i + 1) });
    const { ec2 } = clientsFor(account);

    // Act
    const pages: number[] = [];
    const ids: string[] = [];
    for await (const page of paginateDescribeImages({ client: ec2, pageSize: 10 }, { Owners: ['self'] })) {
      pages.push(page.Images?.length ?? 0);
      ids.push(...(page.Images ?? []).map((image) => image.ImageId as string));
    }

    // Assess
    expect(pages).toEqual([10, 10, 3]);
    expect(new Set(ids).size).toBe(23);
    expect(ids.every((id) => /^ami-[0-9a-f]{17}$/.test(id))).toBe(true);
  });

  it('renders the image as EC2 does: snapshots with sizes, tags, public flag and protection', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({
      name: 'web-1',
      creationDate: '2021-03-04T05:06:07Z',
      tags: { role: 'web' },
      volumes: [8, 50],
      launchPermissions: [{ group: 'all' }],
      deregistrationProtection: 'enabled-with-cooldown',
    });
    const { ec2 } = clientsFor(account);

    // Act
    const { Images } = await ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId] }));

    // Assess
    expect(Images).toEqual([
      expect.objectContaining({
        ImageId: image.imageId,
        Name: 'web-1',
        CreationDate: '2021-03-04T05:06:07.000Z',
        State: 'available',
        OwnerId: '123456789012',
        Public: true,
        Tags: [{ Key: 'role', Value: 'web' }],
        DeregistrationProtection: 'enabled-with-cooldown',
        BlockDeviceMappings: [
          expect.objectContaining({
            DeviceName: '/dev/xvda',
            Ebs: expect.objectContaining({ VolumeSize: 8 }),
          }),
          expect.objectContaining({
            DeviceName: '/dev/xvdb',
            Ebs: expect.objectContaining({ VolumeSize: 50 }),
          }),
        ],
      }),
    ]);
  });

  it('applies filters: tag, name wildcard, state, snapshot id, and hides disabled images unless asked', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const front = account.addImage({ name: 'front-1', creationDate: day(1), tags: { role: 'front' } });
    const back = account.addImage({ name: 'back-1', creationDate: day(2), tags: { role: 'back' } });
    const disabled = account.addImage({ name: 'front-2', creationDate: day(3), state: 'disabled' });
    const pending = account.addImage({ name: 'front-3', creationDate: day(4), state: 'pending' });
    const { ec2 } = clientsFor(account);
    const ids = async (input: DescribeImagesCommandInput) =>
      ((await ec2.send(new DescribeImagesCommand(input))).Images ?? []).map((i) => i.ImageId).sort();

    // Act
    const byTag = await ids({ Filters: [{ Name: 'tag:role', Values: ['front'] }] });
    const byName = await ids({ Filters: [{ Name: 'name', Values: ['front-*'] }] });
    const byNameWithDisabled = await ids({
      Filters: [{ Name: 'name', Values: ['front-*'] }],
      IncludeDisabled: true,
    });
    const byState = await ids({ Filters: [{ Name: 'state', Values: ['available'] }] });
    const bySnapshot = await ids({
      Filters: [
        { Name: 'block-device-mapping.snapshot-id', Values: [back.blockDeviceMappings[0]?.snapshotId ?? ''] },
      ],
    });
    const byTwo = await ids({
      Filters: [
        { Name: 'name', Values: ['front-1', 'back-1'] },
        { Name: 'tag-key', Values: ['role'] },
      ],
    });
    const otherOwner = await ids({ Owners: ['amazon'] });

    // Assess
    expect(byTag).toEqual([front.imageId]);
    expect(byName).toEqual([front.imageId, pending.imageId].sort());
    expect(byNameWithDisabled).toEqual([front.imageId, disabled.imageId, pending.imageId].sort());
    expect(byState).toEqual([front.imageId, back.imageId].sort());
    expect(bySnapshot).toEqual([back.imageId]);
    expect(byTwo).toEqual([front.imageId, back.imageId].sort());
    expect(otherOwner).toEqual([]);
  });

  it('rejects unknown image ids, bad filters, tokens of other APIs and ImageIds with MaxResults, like AWS', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({ name: 'a', creationDate: day(1) });
    for (let i = 0; i < 5; i++) account.addSnapshot({ sizeGiB: 1, startTime: day(1) });
    const { ec2 } = clientsFor(account);
    const snapshotPage = await ec2.send(new DescribeSnapshotsCommand({ MaxResults: 5 }));

    // Act
    const notFound = await rejectionOf(
      ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId, 'ami-0123456789abcdef0'] })),
    );
    const malformed = await rejectionOf(ec2.send(new DescribeImagesCommand({ ImageIds: ['ami-xyz'] })));
    const badFilter = await rejectionOf(
      ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'tags:role', Values: ['x'] }] })),
    );
    const foreignToken = await rejectionOf(
      ec2.send(new DescribeImagesCommand({ MaxResults: 5, NextToken: snapshotPage.NextToken })),
    );
    const combination = await rejectionOf(
      ec2.send(new DescribeImagesCommand({ ImageIds: [image.imageId], MaxResults: 5 })),
    );

    // Assess
    expect(notFound.name).toBe('InvalidAMIID.NotFound');
    expect(notFound.message).toBe("The image id '[ami-0123456789abcdef0]' does not exist");
    expect(notFound.$metadata).toMatchObject({ httpStatusCode: 400 });
    expect(malformed.name).toBe('InvalidAMIID.Malformed');
    expect(badFilter.name).toBe('InvalidParameterValue');
    expect(snapshotPage.NextToken).toBeDefined();
    expect(foreignToken.name).toBe('InvalidPaginationToken');
    expect(combination.name).toBe('InvalidParameterCombination');
  });
});

describe('DescribeImageAttribute', () => {
  it('lists launch permissions as UserId and Group entries', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({
      name: 'shared',
      creationDate: day(1),
      launchPermissions: [{ userId: '210987654321' }, { group: 'all' }],
    });
    const { ec2 } = clientsFor(account);

    // Act
    const output = await ec2.send(
      new DescribeImageAttributeCommand({ ImageId: image.imageId, Attribute: 'launchPermission' }),
    );
    const missing = await rejectionOf(
      ec2.send(
        new DescribeImageAttributeCommand({
          ImageId: 'ami-0123456789abcdef0',
          Attribute: 'launchPermission',
        }),
      ),
    );

    // Assess
    expect(output.ImageId).toBe(image.imageId);
    expect(output.LaunchPermissions).toEqual([{ UserId: '210987654321' }, { Group: 'all' }]);
    expect(missing.name).toBe('InvalidAMIID.NotFound');
  });
});

describe('DescribeSnapshots', () => {
  it('finds CreateImage snapshots by status and a wildcard description, over several pages', async () => {
    // Prepare
    const account = new SimulatedAccount();
    for (let i = 0; i < 7; i++) account.addImage({ name: `img-${i}`, creationDate: day(i + 1) });
    account.addSnapshot({ sizeGiB: 5, startTime: day(1), description: 'manual backup' });
    account.addSnapshot({
      sizeGiB: 5,
      startTime: day(1),
      description: 'Created by CreateImage(i-1) for ami-1 from vol-1',
      state: 'pending',
    });
    const { ec2 } = clientsFor(account);

    // Act
    const pages: string[][] = [];
    for await (const page of paginateDescribeSnapshots(
      { client: ec2, pageSize: 5 },
      {
        OwnerIds: ['self'],
        Filters: [
          { Name: 'status', Values: ['completed'] },
          { Name: 'description', Values: ['Created by CreateImage(*) for ami-* from vol-*'] },
        ],
      },
    )) {
      pages.push((page.Snapshots ?? []).map((snapshot) => snapshot.Description as string));
    }

    // Assess
    expect(pages.map((page) => page.length)).toEqual([5, 2]);
    const image = [...account.images.values()][0];
    expect(pages.flat()).toContain(
      `Created by CreateImage(${image?.sourceInstanceId}) for ${image?.imageId} from ${account.snapshots.get(image?.blockDeviceMappings[0]?.snapshotId ?? '')?.volumeId}`,
    );
  });

  it('reports unknown snapshot ids as InvalidSnapshot.NotFound', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { ec2 } = clientsFor(account);

    // Act
    const error = await rejectionOf(
      ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-0123456789abcdef0'] })),
    );

    // Assess
    expect(error.name).toBe('InvalidSnapshot.NotFound');
    expect(error.message).toBe("The snapshot 'snap-0123456789abcdef0' does not exist.");
  });
});

describe('DescribeInstances', () => {
  it('filters by state and image, and pages reservations', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({ name: 'a', creationDate: day(1) });
    for (let i = 0; i < 6; i++)
      account.addInstance({ imageId: image.imageId, launchTime: day(2), state: 'running' });
    const stopped = account.addInstance({ imageId: image.imageId, launchTime: day(2), state: 'stopped' });
    account.addInstance({ imageId: image.imageId, launchTime: day(2), state: 'terminated' });
    account.addInstance({ imageId: 'ami-0123456789abcdef0', launchTime: day(2), state: 'running' });
    const { ec2 } = clientsFor(account);

    // Act
    const pages: { id: string; state: string }[][] = [];
    for await (const page of paginateDescribeInstances(
      { client: ec2, pageSize: 5 },
      {
        Filters: [
          {
            Name: 'instance-state-name',
            Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'],
          },
          { Name: 'image-id', Values: [image.imageId] },
        ],
      },
    )) {
      pages.push(
        (page.Reservations ?? []).flatMap((r) =>
          (r.Instances ?? []).map((i) => ({ id: i.InstanceId as string, state: i.State?.Name as string })),
        ),
      );
    }
    const tooSmall = await rejectionOf(ec2.send(new DescribeInstancesCommand({ MaxResults: 2 })));

    // Assess
    expect(pages.map((page) => page.length)).toEqual([5, 2]);
    expect(pages.flat()).toContainEqual({ id: stopped.instanceId, state: 'stopped' });
    expect(pages.flat().some((instance) => instance.state === 'terminated')).toBe(false);
    expect(tooSmall.name).toBe('InvalidParameterValue');
  });
});

describe('launch templates', () => {
  function accountWithTemplates() {
    const account = new SimulatedAccount();
    const images = [1, 2, 3, 4].map((n) => account.addImage({ name: `img-${n}`, creationDate: day(n) }));
    const id = (n: number) => images[n - 1]?.imageId as string;
    const web = account.addLaunchTemplate({
      name: 'web',
      createTime: day(5),
      versions: [{ imageId: id(1) }, { imageId: id(2) }, { imageId: id(3) }],
      defaultVersion: 2,
    });
    const api = account.addLaunchTemplate({
      name: 'api',
      createTime: day(5),
      versions: [{ imageId: 'resolve:ssm:/amicleaner/api-ami' }],
    });
    account.putParameter('/amicleaner/api-ami', id(4));
    return { account, web, api, id };
  }

  it('describes templates with their default and latest version numbers', async () => {
    // Prepare
    const { account, web } = accountWithTemplates();
    const { ec2 } = clientsFor(account);

    // Act
    const { LaunchTemplates } = await ec2.send(
      new DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ['web'] }),
    );
    const missing = await rejectionOf(
      ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: ['lt-0123456789abcdef0'] })),
    );

    // Assess
    expect(LaunchTemplates).toEqual([
      expect.objectContaining({
        LaunchTemplateId: web.launchTemplateId,
        LaunchTemplateName: 'web',
        DefaultVersionNumber: 2,
        LatestVersionNumber: 3,
      }),
    ]);
    expect(missing.name).toBe('InvalidLaunchTemplateId.NotFound');
  });

  it('resolves $Default, $Latest and numbers for one template', async () => {
    // Prepare
    const { account, web, id } = accountWithTemplates();
    const { ec2 } = clientsFor(account);

    // Act
    const output = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: web.launchTemplateId,
        Versions: ['$Default', '$Latest', '1', '2'],
      }),
    );
    const missing = await rejectionOf(
      ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'web', Versions: ['9'] })),
    );

    // Assess
    expect(
      output.LaunchTemplateVersions?.map((v) => [
        v.VersionNumber,
        v.DefaultVersion,
        v.LaunchTemplateData?.ImageId,
      ]),
    ).toEqual([
      [1, false, id(1)],
      [2, true, id(2)],
      [3, false, id(3)],
    ]);
    expect(missing.name).toBe('InvalidLaunchTemplateId.VersionNotFound');
  });

  it('describes $Default and $Latest of all templates without a template id, across pages, resolving aliases', async () => {
    // Prepare
    const { account, id } = accountWithTemplates();
    const { ec2 } = clientsFor(account);

    // Act
    const resolved: (string | undefined)[] = [];
    let pages = 0;
    for await (const page of paginateDescribeLaunchTemplateVersions(
      { client: ec2, pageSize: 1 },
      { Versions: ['$Default', '$Latest'], ResolveAlias: true },
    )) {
      pages++;
      resolved.push(...(page.LaunchTemplateVersions ?? []).map((v) => v.LaunchTemplateData?.ImageId));
    }
    const raw = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ Versions: ['$Latest'] }));
    const numbers = await rejectionOf(
      ec2.send(new DescribeLaunchTemplateVersionsCommand({ Versions: ['1'] })),
    );

    // Assess
    expect(pages).toBe(3);
    expect(resolved.sort()).toEqual([id(2), id(3), id(4)].sort());
    expect(raw.LaunchTemplateVersions?.map((v) => v.LaunchTemplateData?.ImageId)).toContain(
      'resolve:ssm:/amicleaner/api-ami',
    );
    expect(numbers.name).toBe('InvalidParameterValue');
  });

  it('filters versions by image id', async () => {
    // Prepare
    const { account, web, id } = accountWithTemplates();
    const { ec2 } = clientsFor(account);

    // Act
    const output = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: web.launchTemplateId,
        Filters: [{ Name: 'image-id', Values: [id(3)] }],
      }),
    );

    // Assess
    expect(output.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([3]);
  });
});

describe('DeregisterImage and DeleteSnapshot', () => {
  it('deregisters an image but keeps its snapshots, and a second attempt is NotFound', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({ name: 'a', creationDate: day(1), volumes: [8, 20] });
    const { ec2 } = clientsFor(account);

    // Act
    const output = await ec2.send(new DeregisterImageCommand({ ImageId: image.imageId }));
    const again = await rejectionOf(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })));
    const described = await ec2.send(new DescribeImagesCommand({ Owners: ['self'] }));

    // Assess
    expect(output.Return).toBe(true);
    expect(again.name).toBe('InvalidAMIID.NotFound');
    expect(described.Images).toEqual([]);
    expect(account.snapshots.size).toBe(2);
    expect(account.mutatingCalls().map((call) => call.command)).toEqual([
      'DeregisterImage',
      'DeregisterImage',
    ]);
  });

  it('refuses to deregister a protected image', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({
      name: 'a',
      creationDate: day(1),
      deregistrationProtection: 'enabled-without-cooldown',
    });
    const { ec2 } = clientsFor(account);

    // Act
    const error = await rejectionOf(ec2.send(new DeregisterImageCommand({ ImageId: image.imageId })));

    // Assess
    expect(error.name).toBe('OperationNotPermitted');
    expect(account.images.has(image.imageId)).toBe(true);
  });

  it('refuses to delete a snapshot an image still maps, then deletes it once the image is gone', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const first = account.addImage({ name: 'a', creationDate: day(1) });
    const shared = first.blockDeviceMappings[0]?.snapshotId as string;
    const second = account.addImage({
      name: 'b',
      creationDate: day(2),
      volumes: [],
      existingSnapshots: [{ snapshotId: shared }],
    });
    const { ec2 } = clientsFor(account);

    // Act
    await ec2.send(new DeregisterImageCommand({ ImageId: first.imageId }));
    const inUse = await rejectionOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: shared })));
    await ec2.send(new DeregisterImageCommand({ ImageId: second.imageId }));
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: shared }));
    const gone = await rejectionOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: shared })));

    // Assess
    expect(inUse.name).toBe('InvalidSnapshot.InUse');
    expect(inUse.message).toBe(`The snapshot ${shared} is currently in use by ${second.imageId}`);
    expect(gone.name).toBe('InvalidSnapshot.NotFound');
    expect(account.snapshots.has(shared)).toBe(false);
  });

  it('with DeleteAssociatedSnapshots deletes unshared snapshots and skips shared ones', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const image = account.addImage({ name: 'a', creationDate: day(1), volumes: [8, 20] });
    const [own, shared] = image.blockDeviceMappings.map((device) => device.snapshotId) as [string, string];
    account.addImage({
      name: 'b',
      creationDate: day(2),
      volumes: [],
      existingSnapshots: [{ snapshotId: shared }],
    });
    const { ec2 } = clientsFor(account);

    // Act
    const output = await ec2.send(
      new DeregisterImageCommand({ ImageId: image.imageId, DeleteAssociatedSnapshots: true }),
    );

    // Assess
    expect(output.DeleteSnapshotResults).toEqual([
      { SnapshotId: own, ReturnCode: 'success' },
      { SnapshotId: shared, ReturnCode: 'skipped' },
    ]);
    expect(account.snapshots.has(own)).toBe(false);
    expect(account.snapshots.has(shared)).toBe(true);
  });
});
