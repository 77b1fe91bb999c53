/**
 * The package entry (`import { AmiCleaner } from 'ami-cleaner'`): the construct, its props and
 * what a consumer may pass or read. Imports nothing from `cli/` and no SDK, so a CDK app that
 * only uses the construct loads none of the CLI's dependencies.
 */

export type { MappingKey, PlanSettings } from '../functions/core/settings.ts';
export * from './ami-cleaner.ts';
export type { HandlerSpec, StateMachineHandlerId } from './lib/handlers.ts';
export { WorkflowAlarms, type WorkflowAlarmsProps } from './lib/observability.ts';
export { AmiCleanerStack, type AmiCleanerStackProps } from './lib/stack.ts';
export { Triggers, type TriggersProps } from './lib/triggers.ts';
export {
  AmiCleanerAmiEventForwarding,
  type AmiCleanerAmiEventForwardingProps,
  AmiCleanerAmiEventForwardingStackSet,
  type AmiCleanerAmiEventForwardingStackSetProps,
  type HubEventBus,
} from './member-events.ts';
export {
  AmiCleanerMemberRole,
  type AmiCleanerMemberRoleProps,
  AmiCleanerMemberRoleStackSet,
  type AmiCleanerMemberRoleStackSetProps,
  DEFAULT_MEMBER_ROLE_NAME,
  type MemberRoleTrust,
} from './member-role.ts';
