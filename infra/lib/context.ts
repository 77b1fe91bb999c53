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
]);

const SCHEDULE_EXPRESSION = /^(cron|rate)\([^()\n]+\)$/;

/** Turns the context value (an object from cdk.json, or a JSON string from `-c`) into props. */
export function propsFromContext(raw: unknown): AmiCleanerProps {
  const value: unknown = typeof raw === 'string' ? JSON.parse(raw) : raw;
  if (value === undefined || value === null) {
    throw new Error('AmiCleanerStack: set the "amiCleaner" context (at least approvalEmail) in cdk.json');
  }
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new Error('AmiCleanerStack: the "amiCleaner" context must be an object');
  }
  for (const key of Object.keys(value)) {
    if (!CONTEXT_KEYS.has(key)) throw new Error(`AmiCleanerStack: unknown "amiCleaner" context key "${key}"`);
  }
  const ctx = value as AmiCleanerContext;
  const hours = (name: string, h: number | undefined) => {
    if (h === undefined) return undefined;
    if (typeof h !== 'number' || !Number.isFinite(h) || h <= 0) {
      throw new Error(`AmiCleanerStack: ${name} must be a positive number of hours`);
    }
    return Duration.minutes(Math.round(h * 60));
  };
  let schedule: AmiCleanerProps['schedule'];
  if (ctx.schedule === false) schedule = false;
  else if (typeof ctx.schedule === 'string') {
    // Schedule.expression takes any text; EventBridge would refuse it only at deploy time.
    if (!SCHEDULE_EXPRESSION.test(ctx.schedule)) {
      throw new Error(
        `AmiCleanerStack: schedule must be a cron(...) or rate(...) expression, got ${JSON.stringify(ctx.schedule)}`,
      );
    }
    schedule = events.Schedule.expression(ctx.schedule);
  } else if (ctx.schedule !== undefined)
    throw new Error('AmiCleanerStack: schedule must be an expression or false');
  return {
    approvalEmail: ctx.approvalEmail,
    approvalTimeout: hours('approvalTimeoutHours', ctx.approvalTimeoutHours),
    lockTtl: hours('lockTtlHours', ctx.lockTtlHours),
    schedule,
    planSettings: ctx.planSettings,
    maxDeletionsPerRun: ctx.maxDeletionsPerRun,
    deletionMaxConcurrency: ctx.deletionMaxConcurrency,
    snapshotPricePerGibMonth: ctx.snapshotPricePerGibMonth,
  };
}
