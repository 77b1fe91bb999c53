/** The simulated AWS account: see account.ts for the mechanism and docs/DESIGN.md for why. */
export {
  type AddAutoScalingGroupInput,
  type AddImageInput,
  type AddInstanceInput,
  type AddLaunchConfigurationInput,
  type AddLaunchTemplateInput,
  type AddSnapshotInput,
  type AttachableClient,
  type CallRecord,
  EC2_RATE_LIMITS,
  isMutatingCommand,
  type LaunchTemplateVersionInput,
  type RateLimit,
  SimulatedAccount,
  type SimulatedAccountOptions,
} from './account.ts';
export { SimulatedAwsError } from './errors.ts';
export {
  type AddContainerRecipeInput,
  type AddRecipeInput,
  ImageBuilderState,
  type SimContainerRecipe,
  type SimImageRecipe,
} from './imagebuilder.ts';
export {
  arnLike,
  type SimCredentials,
  type SimMemberAccount,
  type SimOrganizationalUnit,
  type SimRole,
  type SimRoleTrust,
  type SimSession,
  SimulatedOrganization,
  type SimulatedOrganizationOptions,
} from './organization.ts';
export {
  type OrganizationScenario,
  type OrganizationScenarioOptions,
  organizationScenario,
} from './organization-seeds.ts';
export {
  type BlogScenario,
  blogScenario,
  type GeneratedScenario,
  type GeneratedScenarioOptions,
  generatedScenario,
  type RichScenario,
  richScenario,
  type SeededImage,
} from './seeds.ts';
export type * from './state.ts';
export { TaskFailedError, type TaskTokenStatus, TaskTokens } from './task-tokens.ts';
