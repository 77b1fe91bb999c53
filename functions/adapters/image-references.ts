/**
 * EC2's own answer to "what uses these AMIs": DescribeImageReferences, the second opinion next to
 * our inventory (see `core/second-opinion.ts`). Up to 10 AMIs per call, every page, failing closed
 * like every other read. It sees the caller's own account only.
 */
import {
  type EC2Client,
  type ImageReference as Ec2ImageReference,
  paginateDescribeImageReferences,
  paginateDescribeImages,
  type ResourceTypeRequest,
} from '@aws-sdk/client-ec2';
import type { AwsImageReference } from '../core/model.ts';
import { IMAGE_REFERENCES_PER_CALL } from '../core/rotate-passes.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { InventoryReadError } from './errors.ts';
import {
  DEFAULT_MAX_PAGES,
  DESCRIBE_CONCURRENCY,
  LIVE_INSTANCE_STATES,
  PAGE_SIZE,
  readAllPages,
} from './inventory.ts';

/** The API's limit of image ids per request. */
export const IMAGE_REFERENCES_BATCH = IMAGE_REFERENCES_PER_CALL;

/**
 * Every resource type AWS can check, named explicitly rather than `IncludeAllResourceTypes`,
 * because the defaults count terminated instances (state-name defaults to all states), which our
 * inventory rightly ignores. Launch templates keep AWS's default depth (the 10 newest versions of
 * each template), stricter than ours ($Default, $Latest and versions a group names): where AWS is
 * stricter, the AMI is kept and both answers are shown.
 */
export const REFERENCE_RESOURCE_TYPES: readonly ResourceTypeRequest[] = [
  {
    ResourceType: 'ec2:Instance',
    ResourceTypeOptions: [{ OptionName: 'state-name', OptionValues: [...LIVE_INSTANCE_STATES] }],
  },
  { ResourceType: 'ec2:LaunchTemplate' },
  { ResourceType: 'ssm:Parameter' },
  { ResourceType: 'imagebuilder:ImageRecipe' },
  { ResourceType: 'imagebuilder:ContainerRecipe' },
];

/** Splits ids into the API's batches of at most 10, without repeats. */
export function imageReferenceBatches(imageIds: readonly string[]): string[][] {
  const unique = [...new Set(imageIds)];
  const batches: string[][] = [];
  for (let i = 0; i < unique.length; i += IMAGE_REFERENCES_BATCH) {
    batches.push(unique.slice(i, i + IMAGE_REFERENCES_BATCH));
  }
  return batches;
}

function toAwsReference(
  source: string,
  asked: ReadonlySet<string>,
  ref: Ec2ImageReference,
): AwsImageReference {
  const { ImageId: imageId, ResourceType: resourceType, Arn: arn } = ref;
  if (imageId === undefined || resourceType === undefined || arn === undefined) {
    throw new InventoryReadError(
      source,
      'response item lacks ImageId, ResourceType or Arn',
      'MalformedResponse',
    );
  }
  // An answer about an AMI we did not ask for means we cannot trust whose answer this is.
  if (!asked.has(imageId)) {
    throw new InventoryReadError(source, `answered for ${imageId}, which was not asked`, 'MalformedResponse');
  }
  return { imageId, resourceType, arn };
}

/**
 * What AWS reports as referencing each of `imageIds`: batches of 10, every page, at most
 * `DESCRIBE_CONCURRENCY` calls in flight (the SDK's adaptive retry paces throttling). Any error,
 * repeated token or malformed entry raises `InventoryReadError`: no answer is never "unused".
 */
export async function readAwsImageReferences(
  ec2: EC2Client,
  imageIds: readonly string[],
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<AwsImageReference[]> {
  const answers = await mapWithConcurrency(
    imageReferenceBatches(imageIds),
    DESCRIBE_CONCURRENCY,
    async (batch) => {
      const source = `DescribeImageReferences(${batch[0]}${batch.length > 1 ? ` +${batch.length - 1}` : ''})`;
      const pages = await readAllPages(
        source,
        paginateDescribeImageReferences(
          { client: ec2 },
          { ImageIds: batch, ResourceTypes: [...REFERENCE_RESOURCE_TYPES] },
        ),
        maxPages,
      );
      const asked = new Set(batch);
      return pages.flatMap((page) =>
        (page.ImageReferences ?? []).map((ref) => toAwsReference(source, asked, ref)),
      );
    },
  );
  return answers.flat();
}

/**
 * Ids of the images of OTHER accounts this account may launch in the region (DescribeImages with
 * `ExecutableUsers: self`, every page). What a consumer account can reference from the images
 * shared with it: CollectReferences asks DescribeImageReferences about exactly these.
 */
export async function readImagesSharedWithAccount(
  ec2: EC2Client,
  accountId: string,
  maxPages: number = DEFAULT_MAX_PAGES,
): Promise<string[]> {
  const source = 'DescribeImages(ExecutableUsers=self)';
  const pages = await readAllPages(
    source,
    paginateDescribeImages(
      { client: ec2, pageSize: PAGE_SIZE.describeImages },
      { ExecutableUsers: ['self'], IncludeDisabled: true, IncludeDeprecated: true },
    ),
    maxPages,
  );
  const ids = new Set<string>();
  for (const image of pages.flatMap((page) => page.Images ?? [])) {
    if (image.ImageId === undefined || image.OwnerId === undefined) {
      throw new InventoryReadError(source, 'response item lacks ImageId or OwnerId', 'MalformedResponse');
    }
    if (image.OwnerId !== accountId) ids.add(image.ImageId);
  }
  return [...ids].sort();
}
