/**
 * EC2 Image Builder, as far as the cleaner reads it: image recipes (whose parent image can be an
 * AMI) and container recipes (whose build instance runs an AMI). Recipes live here, not in
 * account.ts, with their own mutators; the account routes the `imagebuilder` service to
 * `createImageBuilderHandlers`.
 */
import type {
  ContainerRecipe,
  ContainerRecipeSummary,
  GetContainerRecipeRequest,
  GetContainerRecipeResponse,
  GetImageRecipeRequest,
  GetImageRecipeResponse,
  ImageRecipeSummary,
  ListContainerRecipesRequest,
  ListContainerRecipesResponse,
  ListImageRecipesRequest,
  ListImageRecipesResponse,
} from '@aws-sdk/client-imagebuilder';
import type { ServiceHandlers } from './account.ts';
import { handler } from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { decodeToken, encodeToken, type PageSizeRule, pageSize } from './pagination.ts';
import { SortedStore } from './store.ts';

export interface SimImageRecipe {
  readonly arn: string;
  readonly name: string;
  readonly version: string;
  /** An AMI id, an Image Builder image ARN, `ssm:<parameter>` or a Marketplace product id. */
  readonly parentImage: string;
  /** The owning account; another account's recipe is one shared with this account. */
  readonly owner: string;
  readonly dateCreated: string;
}

export interface SimContainerRecipe {
  readonly arn: string;
  readonly name: string;
  readonly version: string;
  /** A container image URI or an Image Builder image ARN. */
  readonly parentImage: string;
  /** `instanceConfiguration.image`: the AMI (or `ssm:` parameter) the build instance runs. */
  readonly instanceImage?: string;
  readonly owner: string;
  readonly dateCreated: string;
}

export interface AddRecipeInput {
  readonly name: string;
  /** Default `1.0.0`. */
  readonly version?: string;
  readonly parentImage: string;
  /** Default: the account itself. */
  readonly owner?: string;
  readonly dateCreated?: string | Date;
}

export interface AddContainerRecipeInput extends AddRecipeInput {
  readonly instanceImage?: string;
}

// Image Builder's list APIs accept 1..25 results a page (25 when none is asked).
const MAX_RESULTS: PageSizeRule = {
  fallback: 25,
  min: 1,
  max: 25,
  errorCode: 'InvalidRequestException',
  parameter: 'maxResults',
};
const TOKEN_ERROR = 'InvalidPaginationTokenException';

/** The account's recipes and the mutators seeds and tests use. */
export class ImageBuilderState {
  readonly imageRecipes = new SortedStore<SimImageRecipe>();
  readonly containerRecipes = new SortedStore<SimContainerRecipe>();

  constructor(
    private readonly accountId: string,
    private readonly region: string,
    private readonly now: () => Date,
  ) {}

  private arn(kind: 'image-recipe' | 'container-recipe', input: AddRecipeInput): string {
    const owner = input.owner ?? this.accountId;
    return `arn:aws:imagebuilder:${this.region}:${owner}:${kind}/${input.name.toLowerCase()}/${input.version ?? '1.0.0'}`;
  }

  private base(kind: 'image-recipe' | 'container-recipe', input: AddRecipeInput) {
    const arn = this.arn(kind, input);
    const date = input.dateCreated ?? this.now();
    return {
      arn,
      name: input.name,
      version: input.version ?? '1.0.0',
      parentImage: input.parentImage,
      owner: input.owner ?? this.accountId,
      dateCreated: typeof date === 'string' ? date : date.toISOString(),
    };
  }

  addImageRecipe(input: AddRecipeInput): SimImageRecipe {
    const recipe = this.base('image-recipe', input);
    if (this.imageRecipes.has(recipe.arn)) throw new Error(`Image recipe ${recipe.arn} exists`);
    this.imageRecipes.set(recipe.arn, recipe);
    return recipe;
  }

  addContainerRecipe(input: AddContainerRecipeInput): SimContainerRecipe {
    const recipe: SimContainerRecipe = {
      ...this.base('container-recipe', input),
      ...(input.instanceImage === undefined ? {} : { instanceImage: input.instanceImage }),
    };
    if (this.containerRecipes.has(recipe.arn)) throw new Error(`Container recipe ${recipe.arn} exists`);
    this.containerRecipes.set(recipe.arn, recipe);
    return recipe;
  }

  /** DeleteImageRecipe / DeleteContainerRecipe. */
  removeRecipe(arn: string): boolean {
    return this.imageRecipes.delete(arn) || this.containerRecipes.delete(arn);
  }

  /** `owner` as the List APIs filter it: Self (default), Shared (other accounts'), none of the others. */
  ownedBy(owner: string | undefined): (recipe: { readonly owner: string }) => boolean {
    switch (owner ?? 'Self') {
      case 'Self':
        return (recipe) => recipe.owner === this.accountId;
      case 'Shared':
        return (recipe) => recipe.owner !== this.accountId;
      case 'Amazon':
      case 'ThirdParty':
      case 'AWSMarketplace':
        return () => false;
      default:
        throw new SimulatedAwsError('InvalidParameterValueException', `Invalid owner: ${owner}`);
    }
  }
}

function rejectFilters(filters: readonly unknown[] | undefined): void {
  if (filters !== undefined && filters.length > 0) {
    throw new SimulatedAwsError(
      'UnsupportedOperation',
      'The simulated account does not support recipe filters.',
    );
  }
}

function notFound(arn: string | undefined): SimulatedAwsError {
  return new SimulatedAwsError('ResourceNotFoundException', `Resource ${arn ?? ''} not found.`, 404);
}

export function createImageBuilderHandlers(state: ImageBuilderState): ServiceHandlers {
  const page = <T extends { arn: string; owner: string }>(
    store: SortedStore<T>,
    scope: string,
    input: { owner?: string; maxResults?: number; nextToken?: string },
  ) => {
    const limit = pageSize(input.maxResults, MAX_RESULTS);
    const after = decodeToken(input.nextToken, scope, TOKEN_ERROR);
    const { items, lastKey } = store.page(after, limit, state.ownedBy(input.owner));
    return { items, ...(lastKey === undefined ? {} : { nextToken: encodeToken(scope, lastKey) }) };
  };
  const imageSummary = (r: SimImageRecipe): ImageRecipeSummary => ({
    arn: r.arn,
    name: r.name,
    platform: 'Linux',
    owner: r.owner,
    parentImage: r.parentImage,
    dateCreated: r.dateCreated,
  });
  const containerSummary = (r: SimContainerRecipe): ContainerRecipeSummary => ({
    arn: r.arn,
    containerType: 'DOCKER',
    name: r.name,
    platform: 'Linux',
    owner: r.owner,
    parentImage: r.parentImage,
    dateCreated: r.dateCreated,
  });
  const containerRecipe = (r: SimContainerRecipe): ContainerRecipe => ({
    ...containerSummary(r),
    version: r.version,
    components: [],
    ...(r.instanceImage === undefined ? {} : { instanceConfiguration: { image: r.instanceImage } }),
  });

  return {
    ListImageRecipes: handler((input: ListImageRecipesRequest): ListImageRecipesResponse => {
      rejectFilters(input.filters);
      const { items, nextToken } = page(state.imageRecipes, 'ListImageRecipes', input);
      return { imageRecipeSummaryList: items.map(imageSummary), ...(nextToken ? { nextToken } : {}) };
    }),
    ListContainerRecipes: handler((input: ListContainerRecipesRequest): ListContainerRecipesResponse => {
      rejectFilters(input.filters);
      const { items, nextToken } = page(state.containerRecipes, 'ListContainerRecipes', input);
      return { containerRecipeSummaryList: items.map(containerSummary), ...(nextToken ? { nextToken } : {}) };
    }),
    GetImageRecipe: handler((input: GetImageRecipeRequest): GetImageRecipeResponse => {
      const recipe = state.imageRecipes.get(input.imageRecipeArn ?? '');
      if (recipe === undefined) throw notFound(input.imageRecipeArn);
      return { imageRecipe: { ...imageSummary(recipe), version: recipe.version, components: [] } };
    }),
    GetContainerRecipe: handler((input: GetContainerRecipeRequest): GetContainerRecipeResponse => {
      const recipe = state.containerRecipes.get(input.containerRecipeArn ?? '');
      if (recipe === undefined) throw notFound(input.containerRecipeArn);
      return { containerRecipe: containerRecipe(recipe) };
    }),
  };
}
