import {
  DescribeImageReferencesCommand,
  type DescribeImageReferencesCommandInput,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import {
  GetContainerRecipeCommand,
  ImagebuilderClient,
  ImagebuilderServiceException,
  ListContainerRecipesCommand,
  ListImageRecipesCommand,
} from '@aws-sdk/client-imagebuilder';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { InventoryReadError } from '../../functions/adapters/errors.ts';
import {
  IMAGE_REFERENCES_BATCH,
  imageReferenceBatches,
  readAwsImageReferences,
} from '../../functions/adapters/image-references.ts';
import { readImageBuilderRecipes } from '../../functions/adapters/inventory.ts';

const ec2Mock = mockClient(EC2Client);
const imageBuilderMock = mockClient(ImagebuilderClient);
const ec2 = new EC2Client({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const imageBuilder = new ImagebuilderClient({ region: 'eu-west-1' });
const amiId = (n: number) => `ami-${String(n).padStart(8, '0')}`;
const instanceArn = (n: number) =>
  `arn:aws:ec2:eu-west-1:123456789012:instance/i-${String(n).padStart(8, '0')}`;

afterEach(() => {
  ec2Mock.reset();
  imageBuilderMock.reset();
});

describe('readAwsImageReferences', () => {
  it('asks 10 ids a call with every resource type, terminated instances left out', async () => {
    // Prepare
    ec2Mock.on(DescribeImageReferencesCommand).resolves({ ImageReferences: [] });
    const ids = Array.from({ length: 23 }, (_, i) => amiId(i));

    // Act
    const refs = await readAwsImageReferences(ec2, [...ids, ids[0] as string]);

    // Assess
    expect(refs).toEqual([]);
    const inputs = ec2Mock
      .commandCalls(DescribeImageReferencesCommand)
      .map((c) => c.args[0].input as DescribeImageReferencesCommandInput);
    expect(inputs.map((i) => i.ImageIds?.length)).toEqual([10, 10, 3]);
    expect(inputs.flatMap((i) => i.ImageIds)).toEqual(ids);
    expect(inputs[0]?.IncludeAllResourceTypes).toBeUndefined();
    expect(inputs[0]?.ResourceTypes?.map((t) => t.ResourceType)).toEqual([
      'ec2:Instance',
      'ec2:LaunchTemplate',
      'ssm:Parameter',
      'imagebuilder:ImageRecipe',
      'imagebuilder:ContainerRecipe',
    ]);
    expect(inputs[0]?.ResourceTypes?.[0]?.ResourceTypeOptions?.[0]?.OptionValues).not.toContain('terminated');
  });

  it('reads every page of each batch', async () => {
    // Prepare
    ec2Mock
      .on(DescribeImageReferencesCommand)
      .resolves({
        ImageReferences: [{ ImageId: amiId(1), ResourceType: 'ec2:Instance', Arn: instanceArn(1) }],
        NextToken: 'page-2',
      })
      .on(DescribeImageReferencesCommand, { NextToken: 'page-2' })
      .resolves({
        ImageReferences: [{ ImageId: amiId(2), ResourceType: 'ssm:Parameter', Arn: 'arn:aws:ssm:p' }],
      });

    // Act
    const refs = await readAwsImageReferences(ec2, [amiId(1), amiId(2)]);

    // Assess
    expect(refs).toEqual([
      { imageId: amiId(1), resourceType: 'ec2:Instance', arn: instanceArn(1) },
      { imageId: amiId(2), resourceType: 'ssm:Parameter', arn: 'arn:aws:ssm:p' },
    ]);
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeImageReferencesCommand, 2);
  });

  it('fails closed on an error, a repeated token, a malformed entry or an answer about another AMI', async () => {
    // Prepare
    const cases: [string, () => void, string][] = [
      [
        'access denied',
        () =>
          ec2Mock.on(DescribeImageReferencesCommand).rejects(
            new EC2ServiceException({
              name: 'UnauthorizedOperation',
              message: 'no',
              $fault: 'client',
              $metadata: { httpStatusCode: 403 },
            }),
          ),
        'UnauthorizedOperation',
      ],
      [
        'repeated token',
        () => ec2Mock.on(DescribeImageReferencesCommand).resolves({ ImageReferences: [], NextToken: 'same' }),
        'repeated a NextToken',
      ],
      [
        'malformed',
        () =>
          ec2Mock.on(DescribeImageReferencesCommand).resolves({ ImageReferences: [{ ImageId: amiId(1) }] }),
        'lacks ImageId, ResourceType or Arn',
      ],
      [
        'other AMI',
        () =>
          ec2Mock.on(DescribeImageReferencesCommand).resolves({
            ImageReferences: [{ ImageId: amiId(9), ResourceType: 'ec2:Instance', Arn: instanceArn(9) }],
          }),
        'was not asked',
      ],
    ];
    for (const [label, arrange, message] of cases) {
      ec2Mock.reset();
      arrange();

      // Act
      const act = readAwsImageReferences(ec2, [amiId(1)]);

      // Assess
      await expect(act, label).rejects.toThrow(InventoryReadError);
      await expect(act, label).rejects.toThrow(message);
    }
  });

  it('batches ids without repeats', () => {
    // Act
    const batches = imageReferenceBatches([...Array.from({ length: 21 }, (_, i) => amiId(i)), amiId(3)]);

    // Assess
    expect(batches.map((b) => b.length)).toEqual([IMAGE_REFERENCES_BATCH, IMAGE_REFERENCES_BATCH, 1]);
    expect(imageReferenceBatches([])).toEqual([]);
  });
});

describe('readImageBuilderRecipes', () => {
  it('reads own and shared image recipes every page, and each container recipe build image', async () => {
    // Prepare
    imageBuilderMock
      .on(ListImageRecipesCommand, { owner: 'Self' })
      .resolves({
        imageRecipeSummaryList: [{ arn: 'arn:ir/a/1.0.0', parentImage: amiId(1) }],
        nextToken: 't2',
      })
      .on(ListImageRecipesCommand, { owner: 'Self', nextToken: 't2' })
      .resolves({
        imageRecipeSummaryList: [{ arn: 'arn:ir/b/1.0.0', parentImage: 'arn:aws:imagebuilder:x' }],
      })
      .on(ListImageRecipesCommand, { owner: 'Shared' })
      .resolves({ imageRecipeSummaryList: [{ arn: 'arn:ir/theirs/1.0.0', parentImage: amiId(3) }] })
      .on(ListContainerRecipesCommand)
      .resolves({ containerRecipeSummaryList: [] })
      .on(ListContainerRecipesCommand, { owner: 'Self' })
      .resolves({
        containerRecipeSummaryList: [{ arn: 'arn:cr/svc/1.0.0', parentImage: 'amazonlinux:2023' }],
      })
      .on(GetContainerRecipeCommand, { containerRecipeArn: 'arn:cr/svc/1.0.0' })
      .resolves({ containerRecipe: { arn: 'arn:cr/svc/1.0.0', instanceConfiguration: { image: amiId(4) } } });

    // Act
    const recipes = await readImageBuilderRecipes(imageBuilder);

    // Assess
    expect(recipes).toEqual([
      { kind: 'image-recipe', arn: 'arn:ir/a/1.0.0', baseImage: amiId(1) },
      { kind: 'image-recipe', arn: 'arn:ir/b/1.0.0', baseImage: 'arn:aws:imagebuilder:x' },
      { kind: 'container-recipe', arn: 'arn:cr/svc/1.0.0', baseImage: amiId(4) },
      { kind: 'image-recipe', arn: 'arn:ir/theirs/1.0.0', baseImage: amiId(3) },
    ]);
    expect(imageBuilderMock).toHaveReceivedCommandWith(ListImageRecipesCommand, { maxResults: 25 });
  });

  it('fails closed when a list or a container recipe cannot be read', async () => {
    // Prepare
    const denied = new ImagebuilderServiceException({
      name: 'ForbiddenException',
      message: 'no',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    imageBuilderMock
      .on(ListImageRecipesCommand)
      .resolves({ imageRecipeSummaryList: [] })
      .on(ListContainerRecipesCommand)
      .resolves({ containerRecipeSummaryList: [{ arn: 'arn:cr/svc/1.0.0' }] })
      .on(GetContainerRecipeCommand)
      .rejects(denied);

    // Act
    const getFails = await readImageBuilderRecipes(imageBuilder).catch((err: unknown) => err);
    imageBuilderMock
      .on(GetContainerRecipeCommand)
      .resolves({ containerRecipe: {} })
      .on(ListContainerRecipesCommand, { owner: 'Shared' })
      .rejects(denied);
    const listFails = await readImageBuilderRecipes(imageBuilder).catch((err: unknown) => err);

    // Assess
    expect(getFails).toBeInstanceOf(InventoryReadError);
    expect(String(getFails)).toContain('GetContainerRecipe(arn:cr/svc/1.0.0) failed: ForbiddenException');
    expect(listFails).toBeInstanceOf(InventoryReadError);
    expect(String(listFails)).toContain('ListContainerRecipes(Shared) failed: ForbiddenException');
  });
});
