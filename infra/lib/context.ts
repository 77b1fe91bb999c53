/**
 * Reads the `amiCleaner` context object (cdk.json, or `-c amiCleaner='{...}'`) into construct
 * props. JSON has no Duration or Schedule, so hours and schedule expressions stand in for them.
 */
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { AmiCleanerProps } from './props.ts';

/** The `amiCleaner` context object: JSON-friendly versions of the construct's props. */
export interface AmiCleanerContext {
  readonly approvalEmail?: string;
  readonly approvalTimeoutHours?: number;
  /** An EventBridge schedule expression (`cron(...)` or `rate(...)`), or false to disable. */
  readonly schedule?: string | false;
  readonly planSettings?: AmiCleanerProps['planSettings'];
  readonly maxDeletionsPerRun?: number;
  readonly deletionMaxConcurrency?: number;
  readonly lockTtlHours?: number;
  readonly snapshotPricePerGibMonth?: number;
  /** Named approvers and the quorum, as the construct's props (validated there). */
  readonly approvers?: string[];
  readonly requiredApprovals?: number;
  /** `{ "imageRetentionDays": 7, "snapshotRetentionDays": 7 }` turns on Recycle Bin retention. */
  readonly recycleBin?: AmiCleanerProps['recycleBin'];
  /** `{ "accounts": [...], "organizationalUnits": [...], "regions": [...] }`: the organization run. */
  readonly targets?: AmiCleanerProps['targets'];
  readonly memberRoleName?: string;
  readonly targetMaxConcurrency?: number;
  readonly acceptForwardedAmiEvents?: boolean;
  readonly organizationId?: string;
}

const CONTEXT_KEYS = new Set([
  'approvalEmail',
  'approvalTimeoutHours',
  'schedule',
  'planSettings',
  'maxDeletionsPerRun',
  'deletionMaxConcurrency',
  'lockTtlHours',
  'snapshotPricePerGibMonth',
  'approvers',
  'requiredApprovals',
  'recycleBin',
  'targets',
  'memberRoleName',
  'targetMaxConcurrency',
  'acceptForwardedAmiEvents',
  'organizationId',
]);

const SCHEDULE_EXPRESSION = /^(cron|rate)\([^()\n]+\)$/;

/** What a synth without an approval email prints: the one thing to do. */
export const MISSING_APPROVAL_EMAIL =
  'AmiCleanerStack: no approval email. Pass -c approvalEmail=you@your-company.com, or set "approvalEmail" in the "amiCleaner" object of cdk.json';

/**
 * Turns the context value (an object from cdk.json, or a JSON string from `-c`) into props.
 * `approvalEmail` (the top-level `-c approvalEmail=...`) wins over the object's own.
 */
export function propsFromContext(raw: unknown, approvalEmail?: unknown): AmiCleanerProps {
  const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : (raw ?? {});
  if (value === null) throw new Error('AmiCleanerStack: the "amiCleaner" context must be an object');
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('AmiCleanerStack: the "amiCleaner" context must be an object');
  }
  for (const key of Object.keys(value)) {
    if (!CONTEXT_KEYS.has(key)) throw new Error(`AmiCleanerStack: unknown "amiCleaner" context key "${key}"`);
  }
  const ctx = value as AmiCleanerContext;
  const email = approvalEmail ?? ctx.approvalEmail;
  // Named approvers get their own links; the approval email is then only the alarms' address.
  const noEmail = email === undefined || email === '';
  if (noEmail && ctx.approvers === undefined) throw new Error(MISSING_APPROVAL_EMAIL);
  if (!noEmail && typeof email !== 'string')
    throw new Error('AmiCleanerStack: approvalEmail must be a string');
  const hours = (name: string, h: number | undefined) => {
    if (h === undefined) return undefined;
    if (typeof h !== 'number' || !Number.isFinite(h) || h <= 0) {
      throw new Error(`AmiCleanerStack: ${name} must be a positive number of hours`);
    }
    return Duration.minutes(Math.round(h * 60));
  };
  let schedule: AmiCleanerProps['schedule'];
  if (typeof ctx.schedule === 'string') {
    // Schedule.expression takes any text; EventBridge would refuse it only at deploy time.
    if (!SCHEDULE_EXPRESSION.test(ctx.schedule)) {
      throw new Error(
        `AmiCleanerStack: schedule must be a cron(...) or rate(...) expression, got ${JSON.stringify(ctx.schedule)}`,
      );
    }
    schedule = events.Schedule.expression(ctx.schedule);
  } else if (ctx.schedule !== undefined && ctx.schedule !== false)
    throw new Error('AmiCleanerStack: schedule must be an expression or false');
  return {
    ...(noEmail ? {} : { approvalEmail: email as string }),
    ...(ctx.approvers === undefined ? {} : { approvers: ctx.approvers }),
    ...(ctx.requiredApprovals === undefined ? {} : { requiredApprovals: ctx.requiredApprovals }),
    approvalTimeout: hours('approvalTimeoutHours', ctx.approvalTimeoutHours),
    lockTtl: hours('lockTtlHours', ctx.lockTtlHours),
    schedule,
    scheduleEnabled: ctx.schedule === false ? false : undefined,
    planSettings: ctx.planSettings,
    maxDeletionsPerRun: ctx.maxDeletionsPerRun,
    deletionMaxConcurrency: ctx.deletionMaxConcurrency,
    snapshotPricePerGibMonth: ctx.snapshotPricePerGibMonth,
    ...(ctx.recycleBin === undefined ? {} : { recycleBin: recycleBinOf(ctx.recycleBin) }),
    // Checked by the construct (every problem of the selection at once, one message for both paths).
    ...(ctx.targets === undefined ? {} : { targets: ctx.targets }),
    ...(ctx.memberRoleName === undefined ? {} : { memberRoleName: ctx.memberRoleName }),
    ...(ctx.targetMaxConcurrency === undefined ? {} : { targetMaxConcurrency: ctx.targetMaxConcurrency }),
    ...(ctx.acceptForwardedAmiEvents === undefined
      ? {}
      : { acceptForwardedAmiEvents: ctx.acceptForwardedAmiEvents }),
    ...(ctx.organizationId === undefined ? {} : { organizationId: ctx.organizationId }),
  };
}

/** The object's shape only; the days are checked by the construct (one message for both paths). */
function recycleBinOf(value: unknown): NonNullable<AmiCleanerProps['recycleBin']> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('AmiCleanerStack: recycleBin must be an object like {"imageRetentionDays": 7}');
  }
  for (const key of Object.keys(value)) {
    if (key !== 'imageRetentionDays' && key !== 'snapshotRetentionDays')
      throw new Error(`AmiCleanerStack: unknown "recycleBin" key "${key}"`);
  }
  return value as NonNullable<AmiCleanerProps['recycleBin']>;
}
