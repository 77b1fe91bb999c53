import { DescribeImageReferencesCommand, paginateDescribeImageReferences } from '@aws-sdk/client-ec2';
import {
  GetContainerRecipeCommand,
  InvalidPaginationTokenException,
  ListImageRecipesCommand,
  paginateListContainerRecipes,
  paginateListImageRecipes,
  ResourceNotFoundException,
} from '@aws-sdk/client-imagebuilder';
import { describe, expect, it } from 'vitest';
import { SimulatedAccount } from '../../cli/simulated-account/index.ts';
import { createEc2Client } from '../../functions/adapters/clients.ts';
import { InventoryReadError } from '../../functions/adapters/errors.ts';
import { readAwsImageReferences } from '../../functions/adapters/image-references.ts';
import { clientsFor, rejectionOf } from './clients.ts';

const created = new Date('2024-01-01T00:00:00Z');
const amiId = (n: number) => `ami-${n.toString(16).padStart(17, '0')}`;

describe('Image Builder', () => {
  it('pages image recipes 25 at a time and separates own recipes from shared ones', async () => {
    // Prepare
    const account = new SimulatedAccount();
    for (let i = 0; i < 30; i++) {
      account.imageBuilder.addImageRecipe({ name: `r${String(i).padStart(2, '0')}`, parentImage: amiId(i) });
    }
    account.imageBuilder.addImageRecipe({ name: 'theirs', parentImage: amiId(99), owner: '210987654321' });
    const { imageBuilder } = clientsFor(account);

    // Act
    const sizes: number[] = [];
    const parents: string[] = [];
    for await (const page of paginateListImageRecipes({ client: imageBuilder }, {})) {
      sizes.push(page.imageRecipeSummaryList?.length ?? 0);
      parents.push(...(page.imageRecipeSummaryList ?? []).map((r) => r.parentImage ?? ''));
    }
    const shared = await imageBuilder.send(new ListImageRecipesCommand({ owner: 'Shared' }));
    const amazon = await imageBuilder.send(new ListImageRecipesCommand({ owner: 'Amazon' }));
    const tooMany = await rejectionOf(imageBuilder.send(new ListImageRecipesCommand({ maxResults: 26 })));
    const badToken = await rejectionOf(imageBuilder.send(new ListImageRecipesCommand({ nextToken: 'nope' })));

    // Assess
    expect(sizes).toEqual([25, 5]);
    expect(parents).toHaveLength(30);
    expect(parents).not.toContain(amiId(99));
    expect(shared.imageRecipeSummaryList?.map((r) => r.parentImage)).toEqual([amiId(99)]);
    expect(amazon.imageRecipeSummaryList).toEqual([]);
    expect(tooMany.name).toBe('InvalidRequestException');
    expect(badToken).toBeInstanceOf(InvalidPaginationTokenException);
  });

  it('gives a container recipe build instance AMI only through GetContainerRecipe', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const recipe = account.imageBuilder.addContainerRecipe({
      name: 'svc',
      parentImage: 'amazonlinux:2023',
      instanceImage: amiId(7),
      dateCreated: created,
    });
    const { imageBuilder } = clientsFor(account);

    // Act
    const summaries = [];
    for await (const page of paginateListContainerRecipes({ client: imageBuilder }, {})) {
      summaries.push(...(page.containerRecipeSummaryList ?? []));
    }
    const got = await imageBuilder.send(new GetContainerRecipeCommand({ containerRecipeArn: recipe.arn }));
    const missing = await rejectionOf(
      imageBuilder.send(new GetContainerRecipeCommand({ containerRecipeArn: `${recipe.arn}x` })),
    );

    // Assess
    expect(summaries.map((s) => [s.arn, s.parentImage])).toEqual([[recipe.arn, 'amazonlinux:2023']]);
    expect(got.containerRecipe?.instanceConfiguration?.image).toBe(amiId(7));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect(missing.$metadata).toMatchObject({ httpStatusCode: 404 });
  });

  it('lets the SDK retry Image Builder throttling (429) until it succeeds', async () => {
    // Prepare
    const account = new SimulatedAccount();
    account.imageBuilder.addImageRecipe({ name: 'r', parentImage: amiId(1) });
    account.failNext('ListImageRecipes', 'CallRateLimitExceededException', 2);
    const { imageBuilder } = clientsFor(account);

    // Act
    const output = await imageBuilder.send(new ListImageRecipesCommand({}));

    // Assess
    expect(output.imageRecipeSummaryList).toHaveLength(1);
    expect(account.callsTo('ListImageRecipes').map((c) => c.error)).toEqual([
      'CallRateLimitExceededException',
      'CallRateLimitExceededException',
      undefined,
    ]);
  });
});

describe('DescribeImageReferences', () => {
  function accountWithReferences() {
    const account = new SimulatedAccount();
    const ami = account.addImage({ name: 'a', creationDate: created }).imageId;
    const other = account.addImage({ name: 'b', creationDate: created }).imageId;
    account.addInstance({ imageId: ami, state: 'running', launchTime: created });
    account.addInstance({ imageId: ami, state: 'terminated', launchTime: created });
    // Version 1 is the 12th-newest: beyond the default depth of 10.
    account.addLaunchTemplate({
      name: 'deep',
      createTime: created,
      versions: [{ imageId: ami }, ...Array.from({ length: 11 }, () => ({ imageId: other }))],
    });
    account.putParameter('/anywhere/base', ami);
    account.imageBuilder.addImageRecipe({ name: 'base', parentImage: ami });
    account.imageBuilder.addImageRecipe({ name: 'shared', parentImage: ami, owner: '210987654321' });
    account.imageBuilder.addContainerRecipe({
      name: 'svc',
      parentImage: 'amazonlinux:2023',
      instanceImage: ami,
    });
    return { account, ami, other };
  }

  it('reports every resource type, terminated instances by default, templates to the default depth', async () => {
    // Prepare
    const { account, ami, other } = accountWithReferences();
    const { ec2 } = clientsFor(account);

    // Act
    const all = await ec2.send(
      new DescribeImageReferencesCommand({ ImageIds: [ami, other], IncludeAllResourceTypes: true }),
    );
    const liveOnly = await ec2.send(
      new DescribeImageReferencesCommand({
        ImageIds: [ami],
        ResourceTypes: [
          {
            ResourceType: 'ec2:Instance',
            ResourceTypeOptions: [{ OptionName: 'state-name', OptionValues: ['running'] }],
          },
          {
            ResourceType: 'ec2:LaunchTemplate',
            ResourceTypeOptions: [{ OptionName: 'version-depth', OptionValues: ['12'] }],
          },
        ],
      }),
    );

    // Assess
    const types = (ids: string) =>
      (all.ImageReferences ?? []).filter((r) => r.ImageId === ids).map((r) => r.ResourceType);
    expect(types(ami)).toEqual([
      'ec2:Instance',
      'ec2:Instance',
      'ssm:Parameter',
      'imagebuilder:ImageRecipe', // the shared recipe is another account's: not seen
      'imagebuilder:ContainerRecipe',
    ]);
    expect(types(other)).toEqual(['ec2:LaunchTemplate']);
    expect(liveOnly.ImageReferences?.map((r) => r.ResourceType)).toEqual([
      'ec2:Instance',
      'ec2:LaunchTemplate',
    ]);
    expect(liveOnly.ImageReferences?.[0]?.Arn).toMatch(/^arn:aws:ec2:eu-west-1:123456789012:instance\/i-/);
  });

  it('pages with NextToken, at least 5 a page', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const ami = account.addImage({ name: 'a', creationDate: created }).imageId;
    for (let i = 0; i < 12; i++) account.addInstance({ imageId: ami, launchTime: created });
    const { ec2 } = clientsFor(account);

    // Act
    const sizes: number[] = [];
    for await (const page of paginateDescribeImageReferences(
      { client: ec2, pageSize: 5 },
      { ImageIds: [ami], IncludeAllResourceTypes: true },
    )) {
      sizes.push(page.ImageReferences?.length ?? 0);
    }
    const tooSmall = await rejectionOf(
      ec2.send(
        new DescribeImageReferencesCommand({ ImageIds: [ami], IncludeAllResourceTypes: true, MaxResults: 4 }),
      ),
    );

    // Assess
    expect(sizes).toEqual([5, 5, 2]);
    expect(tooSmall.name).toBe('InvalidParameterValue');
  });

  it('rejects more than 10 ids, no resource types, and malformed ids, as AWS does', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const { ec2 } = clientsFor(account);
    const eleven = Array.from({ length: 11 }, (_, i) => amiId(i + 1));

    // Act
    const tooMany = await rejectionOf(
      ec2.send(new DescribeImageReferencesCommand({ ImageIds: eleven, IncludeAllResourceTypes: true })),
    );
    const noTypes = await rejectionOf(ec2.send(new DescribeImageReferencesCommand({ ImageIds: [amiId(1)] })));
    const malformed = await rejectionOf(
      ec2.send(new DescribeImageReferencesCommand({ ImageIds: ['ami-nope'], IncludeAllResourceTypes: true })),
    );
    const ten = await ec2.send(
      new DescribeImageReferencesCommand({ ImageIds: eleven.slice(0, 10), IncludeAllResourceTypes: true }),
    );

    // Assess
    expect(tooMany.name).toBe('InvalidParameterValue');
    expect(tooMany.message).toContain('maximum of 10');
    expect(noTypes.name).toBe('MissingParameter');
    expect(malformed.name).toBe('InvalidAMIID.Malformed');
    expect(ten.ImageReferences).toEqual([]);
    expect(account.mutatingCalls()).toEqual([]);
  });

  // The adapter's throttling test lives here: aws-sdk-client-mock replaces `send`, and with it the
  // SDK's retry middleware; the simulated account answers below it, so the SDK retries as with AWS.
  it('lets the SDK retry throttling, then answers; fails closed once the attempts run out', async () => {
    // Prepare
    const account = new SimulatedAccount();
    const ami = account.addImage({ name: 'a', creationDate: '2024-01-01T00:00:00.000Z' }).imageId;
    account.addInstance({ imageId: ami, launchTime: '2024-01-01T00:00:00.000Z' });
    const client = account.attach(createEc2Client({ region: account.region }));
    account.failNext('DescribeImageReferences', 'RequestLimitExceeded', 2);

    // Act
    const refs = await readAwsImageReferences(client, [ami]);
    const twoAttempts = account.attach(createEc2Client({ region: account.region, maxAttempts: 2 }));
    account.failNext('DescribeImageReferences', 'RequestLimitExceeded', 2);
    const exhausted = await readAwsImageReferences(twoAttempts, [ami]).catch((err: unknown) => err);

    // Assess
    expect(refs.map((r) => r.resourceType)).toEqual(['ec2:Instance']);
    expect(
      account
        .callsTo('DescribeImageReferences')
        .slice(0, 3)
        .map((c) => c.error),
    ).toEqual(['RequestLimitExceeded', 'RequestLimitExceeded', undefined]);
    expect(exhausted).toBeInstanceOf(InventoryReadError);
    expect((exhausted as InventoryReadError).retryable).toBe(true);
  });
});
