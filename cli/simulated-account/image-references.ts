/**
 * EC2 DescribeImageReferences, answered from the account's state the way the EC2 API Reference
 * documents it: 1 to 10 image ids, `IncludeAllResourceTypes` or `ResourceTypes` required,
 * `state-name` (default: every state, terminated included) and `version-depth` (default 10, the
 * newest versions of each template) options, MaxResults of at least 5, and NextToken pages.
 * Only the account's own resources are seen. Recipes are those the account owns.
 */
import type {
  DescribeImageReferencesCommandInput,
  DescribeImageReferencesResult,
  ImageReference,
  ResourceTypeRequest,
} from '@aws-sdk/client-ec2';
import type { ServiceHandlers, SimulatedAccount } from './account.ts';
import { handler } from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';

export const MAX_IMAGE_IDS = 10;

const RESOURCE_TYPES = [
  'ec2:Instance',
  'ec2:LaunchTemplate',
  'ssm:Parameter',
  'imagebuilder:ImageRecipe',
  'imagebuilder:ContainerRecipe',
] as const;
type ResourceType = (typeof RESOURCE_TYPES)[number];

const INSTANCE_STATES = ['pending', 'running', 'shutting-down', 'terminated', 'stopping', 'stopped'];

interface Scope {
  readonly types: ReadonlySet<ResourceType>;
  /** ec2:Instance `state-name`; undefined means every state. */
  readonly instanceStates?: ReadonlySet<string>;
  /** ec2:LaunchTemplate `version-depth`. */
  readonly versionDepth: number;
}

function invalid(message: string): SimulatedAwsError {
  return new SimulatedAwsError('InvalidParameterValue', message);
}

function scopeOf(input: DescribeImageReferencesCommandInput): Scope {
  const requests: readonly ResourceTypeRequest[] = input.ResourceTypes ?? [];
  if (input.IncludeAllResourceTypes !== true && requests.length === 0) {
    throw new SimulatedAwsError(
      'MissingParameter',
      'Either IncludeAllResourceTypes or ResourceTypes must be specified.',
    );
  }
  const types = new Set<ResourceType>(input.IncludeAllResourceTypes === true ? RESOURCE_TYPES : []);
  let instanceStates: Set<string> | undefined;
  let versionDepth = 10;
  for (const request of requests) {
    const type = request.ResourceType as ResourceType;
    if (!RESOURCE_TYPES.includes(type)) throw invalid(`Invalid resource type: ${request.ResourceType}`);
    types.add(type);
    for (const option of request.ResourceTypeOptions ?? []) {
      const values = option.OptionValues ?? [];
      if (type === 'ec2:Instance' && option.OptionName === 'state-name') {
        const unknown = values.find((v) => !INSTANCE_STATES.includes(v));
        if (unknown !== undefined) throw invalid(`Invalid value '${unknown}' for state-name`);
        instanceStates = new Set(values);
      } else if (type === 'ec2:LaunchTemplate' && option.OptionName === 'version-depth') {
        const depth = Number(values[0]);
        if (values.length !== 1 || !Number.isInteger(depth) || depth < 1 || depth > 10_000) {
          throw invalid(`Invalid value '${values.join(',')}' for version-depth: expecting 1 to 10000`);
        }
        versionDepth = depth;
      } else {
        throw invalid(`Option ${option.OptionName} is not valid for resource type ${type}`);
      }
    }
  }
  return { types, ...(instanceStates === undefined ? {} : { instanceStates }), versionDepth };
}

export function createImageReferenceHandlers(account: SimulatedAccount): ServiceHandlers {
  const arn = (service: string, resource: string) =>
    `arn:aws:${service}:${account.region}:${account.accountId}:${resource}`;

  /** Every reference to the `asked` AMIs within `scope`, grouped by AMI in the order asked: one pass per store. */
  function referencesTo(asked: readonly string[], scope: Scope): ImageReference[] {
    const byImage = new Map(asked.map((id) => [id, [] as ImageReference[]]));
    const push = (imageId: string | undefined, ResourceType: ResourceType, Arn: string) =>
      byImage.get(imageId ?? '')?.push({ ImageId: imageId, ResourceType, Arn });
    if (scope.types.has('ec2:Instance')) {
      for (const i of account.instances.sortedValues()) {
        if (scope.instanceStates?.has(i.state) ?? true)
          push(i.imageId, 'ec2:Instance', arn('ec2', `instance/${i.instanceId}`));
      }
    }
    if (scope.types.has('ec2:LaunchTemplate')) {
      const resolved = (id: string | undefined) =>
        id?.startsWith('resolve:ssm:')
          ? account.parameters.get(id.slice('resolve:ssm:'.length).replace(/:[^/]*$/, ''))?.value
          : id;
      for (const t of account.launchTemplates.sortedValues()) {
        const images = new Set(t.versions.slice(-scope.versionDepth).map((v) => resolved(v.imageId)));
        for (const imageId of images)
          push(imageId, 'ec2:LaunchTemplate', arn('ec2', `launch-template/${t.launchTemplateId}`));
      }
    }
    if (scope.types.has('ssm:Parameter')) {
      for (const p of account.parameters.sortedValues()) {
        if (p.dataType === 'aws:ec2:image')
          push(
            p.value,
            'ssm:Parameter',
            arn('ssm', `parameter${p.name.startsWith('/') ? '' : '/'}${p.name}`),
          );
      }
    }
    const ownRecipes = account.imageBuilder.ownedBy('Self');
    if (scope.types.has('imagebuilder:ImageRecipe')) {
      for (const r of account.imageBuilder.imageRecipes.sortedValues()) {
        if (ownRecipes(r)) push(r.parentImage, 'imagebuilder:ImageRecipe', r.arn);
      }
    }
    if (scope.types.has('imagebuilder:ContainerRecipe')) {
      for (const r of account.imageBuilder.containerRecipes.sortedValues()) {
        if (ownRecipes(r)) push(r.instanceImage, 'imagebuilder:ContainerRecipe', r.arn);
      }
    }
    return [...byImage.values()].flat();
  }

  return {
    DescribeImageReferences: handler(
      (input: DescribeImageReferencesCommandInput): DescribeImageReferencesResult => {
        const ids = input.ImageIds ?? [];
        if (ids.length === 0)
          throw new SimulatedAwsError('MissingParameter', 'The request must contain the parameter ImageId.');
        if (ids.length > MAX_IMAGE_IDS) {
          throw invalid(`The number of ImageIds (${ids.length}) exceeds the maximum of ${MAX_IMAGE_IDS}.`);
        }
        for (const id of ids) {
          if (!/^ami-([0-9a-f]{8}|[0-9a-f]{17})$/.test(id))
            throw new SimulatedAwsError(
              'InvalidAMIID.Malformed',
              `Invalid id: "${id}" (expecting "ami-...")`,
            );
        }
        const scope = scopeOf(input);
        const limit = pageSize(input.MaxResults, {
          fallback: 100,
          min: 5,
          max: 1000,
          capAtMax: true,
          errorCode: 'InvalidParameterValue',
          parameter: 'MaxResults',
        });
        // The token binds the ids it was issued for, so it cannot continue another request.
        const tokenScope = `DescribeImageReferences:${[...ids].sort().join(',')}`;
        const offset = Number(decodeToken(input.NextToken, tokenScope, 'InvalidPaginationToken') ?? 0);
        const all = referencesTo([...new Set(ids)], scope);
        const end = offset + limit;
        return {
          ImageReferences: all.slice(offset, end),
          ...(end < all.length ? { NextToken: encodeToken(tokenScope, String(end)) } : {}),
        };
      },
    ),
  };
}
