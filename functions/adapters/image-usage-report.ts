/**
 * AWS's answer to "which other accounts use this AMI I own": an image usage report per AMI
 * (CreateImageUsageReport), polled until ready (DescribeImageUsageReports) for a bounded time,
 * then read (DescribeImageUsageReportEntries, every page). Instances and launch templates, in
 * every account (no `AccountIds`: all accounts the AMI is shared with).
 *
 * Nothing here throws for one AMI's sake: a call that fails, a report still pending at the
 * deadline, a report in state `error`, or an answer about another image or report becomes that
 * AMI's `UsageReportAnswer` (`not-ready` / `error`), and the core keeps the AMI with that reason.
 * AWS documents a lag (instances of the last 24 hours, launch templates of the last days may be
 * missing), which is why consumer accounts the hub can read are also asked directly.
 */
import { createHash } from 'node:crypto';
import {
  CreateImageUsageReportCommand,
  DescribeImageUsageReportsCommand,
  type EC2Client,
  type ImageUsageReport,
  type ImageUsageReportEntry,
  paginateDescribeImageUsageReportEntries,
} from '@aws-sdk/client-ec2';
import type { UsageReportAnswer, UsageReportEntry } from '../core/cross-account-use.ts';
import { mapWithConcurrency } from './concurrency.ts';
import { errorCode, safeErrorMessage } from './errors.ts';
import { DESCRIBE_CONCURRENCY, readAllPages } from './inventory.ts';

/** DescribeImageUsageReports takes at most 200 report ids a call. */
export const USAGE_REPORT_IDS_PER_CALL = 200;
/** Default bounded wait for reports to become ready: well inside a 15-minute Lambda. */
export const DEFAULT_USAGE_REPORT_WAIT_MS = 180_000;
export const DEFAULT_USAGE_REPORT_POLL_MS = 10_000;
/**
 * Launch template versions a report checks: the API's maximum, not its default of 20. A version
 * deeper than that which names the AMI could be made `$Default` again; a stricter report only keeps
 * an AMI longer.
 */
export const USAGE_REPORT_VERSION_DEPTH = '10000';

export const USAGE_REPORT_RESOURCE_TYPES = [
  { ResourceType: 'ec2:Instance' },
  {
    ResourceType: 'ec2:LaunchTemplate',
    ResourceTypeOptions: [{ OptionName: 'version-depth', OptionValues: [USAGE_REPORT_VERSION_DEPTH] }],
  },
];

export interface ImageUsageOptions {
  /** Makes the ClientToken: a retried planning step gets the same report back, not a second one. */
  readonly runId: string;
  /** Default {@link DEFAULT_USAGE_REPORT_WAIT_MS}. */
  readonly maxWaitMs?: number;
  /** Default {@link DEFAULT_USAGE_REPORT_POLL_MS}. */
  readonly pollIntervalMs?: number;
  /** Milliseconds since some epoch; default `Date.now`. The simulated organization passes its clock. */
  readonly now?: () => number;
  /** Default: a timer. Tests and the simulated organization advance a clock instead. */
  readonly sleep?: (ms: number) => Promise<void>;
}

const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const ACCOUNT_ID = /^[0-9]{12}$/;

function failed(operation: string, error: unknown): UsageReportAnswer {
  return { state: 'error', detail: `${operation} failed: ${errorCode(error)}: ${safeErrorMessage(error)}` };
}

/** Idempotency token per run and image (at most 64 ASCII characters). */
export function usageReportClientToken(runId: string, imageId: string): string {
  return `amicleaner-${createHash('sha256').update(`${runId}\n${imageId}`).digest('hex').slice(0, 40)}`;
}

/** Who uses each of `imageIds`, according to AWS's image usage reports. One answer per id. */
export async function readImageUsage(
  ec2: EC2Client,
  imageIds: readonly string[],
  options: ImageUsageOptions,
): Promise<Map<string, UsageReportAnswer>> {
  const now = options.now ?? (() => Date.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + (options.maxWaitMs ?? DEFAULT_USAGE_REPORT_WAIT_MS);
  const pollMs = options.pollIntervalMs ?? DEFAULT_USAGE_REPORT_POLL_MS;
  const answers = new Map<string, UsageReportAnswer>();
  const unique = [...new Set(imageIds)];

  // 1. One report per AMI.
  const created = await mapWithConcurrency(unique, DESCRIBE_CONCURRENCY, async (imageId) => {
    try {
      const out = await ec2.send(
        new CreateImageUsageReportCommand({
          ImageId: imageId,
          ResourceTypes: USAGE_REPORT_RESOURCE_TYPES,
          ClientToken: usageReportClientToken(options.runId, imageId),
        }),
      );
      if (typeof out.ReportId !== 'string' || out.ReportId === '') {
        answers.set(imageId, { state: 'error', detail: 'CreateImageUsageReport returned no ReportId' });
        return undefined;
      }
      return { imageId, reportId: out.ReportId };
    } catch (error) {
      answers.set(imageId, failed('CreateImageUsageReport', error));
      return undefined;
    }
  });
  let pending = created.filter((r): r is { imageId: string; reportId: string } => r !== undefined);
  const imageOfReport = new Map(pending.map((r) => [r.reportId, r.imageId]));
  if (imageOfReport.size !== pending.length) {
    // Two AMIs answered with one report id: neither answer can be trusted.
    for (const r of pending) answers.set(r.imageId, { state: 'error', detail: 'report id answered twice' });
    pending = [];
  }

  // 2. Poll until every report is available or in error, or the wait is over.
  const ready: { imageId: string; reportId: string }[] = [];
  for (;;) {
    const batches: { imageId: string; reportId: string }[][] = [];
    for (let i = 0; i < pending.length; i += USAGE_REPORT_IDS_PER_CALL)
      batches.push(pending.slice(i, i + USAGE_REPORT_IDS_PER_CALL));
    const stillPending: { imageId: string; reportId: string }[] = [];
    await mapWithConcurrency(batches, DESCRIBE_CONCURRENCY, async (batch) => {
      let reports: ImageUsageReport[];
      try {
        reports = await describeReports(
          ec2,
          batch.map((r) => r.reportId),
        );
      } catch (error) {
        for (const r of batch) answers.set(r.imageId, failed('DescribeImageUsageReports', error));
        return;
      }
      const byId = new Map(reports.map((report) => [report.ReportId, report]));
      for (const r of batch) {
        const report = byId.get(r.reportId);
        if (report === undefined) {
          answers.set(r.imageId, { state: 'error', detail: `report ${r.reportId} was not described` });
        } else if (report.ImageId !== r.imageId) {
          answers.set(r.imageId, {
            state: 'error',
            detail: `report ${r.reportId} is about ${String(report.ImageId)}, not ${r.imageId}`,
          });
        } else if (report.State === 'available') {
          ready.push(r);
        } else if (report.State === 'pending') {
          stillPending.push(r);
        } else {
          const why = report.StateReason ? `: ${safeErrorMessage(report.StateReason)}` : '';
          answers.set(r.imageId, {
            state: 'error',
            detail: `report ${r.reportId} is ${String(report.State)}${why}`,
          });
        }
      }
    });
    pending = stillPending;
    if (pending.length === 0) break;
    const left = deadline - now();
    if (left <= 0) break;
    await sleep(Math.min(pollMs, left));
  }
  for (const r of pending) {
    const waited = Math.round((options.maxWaitMs ?? DEFAULT_USAGE_REPORT_WAIT_MS) / 1000);
    answers.set(r.imageId, {
      state: 'not-ready',
      detail: `usage report ${r.reportId} still pending after ${waited} s`,
    });
  }

  // 3. Every entry of every ready report, checked against the image and report asked about.
  await mapWithConcurrency(ready, DESCRIBE_CONCURRENCY, async (r) => {
    answers.set(r.imageId, await readEntries(ec2, r.imageId, r.reportId));
  });
  return answers;
}

async function describeReports(ec2: EC2Client, reportIds: readonly string[]): Promise<ImageUsageReport[]> {
  const out = await ec2.send(new DescribeImageUsageReportsCommand({ ReportIds: [...reportIds] }));
  if (out.NextToken) throw new Error('DescribeImageUsageReports paged an answer for explicit report ids');
  return out.ImageUsageReports ?? [];
}

async function readEntries(ec2: EC2Client, imageId: string, reportId: string): Promise<UsageReportAnswer> {
  let raw: ImageUsageReportEntry[];
  try {
    const pages = await readAllPages(
      `DescribeImageUsageReportEntries(${reportId})`,
      paginateDescribeImageUsageReportEntries({ client: ec2 }, { ReportIds: [reportId] }),
    );
    raw = pages.flatMap((page) => page.ImageUsageReportEntries ?? []);
  } catch (error) {
    return failed('DescribeImageUsageReportEntries', (error as { cause?: unknown }).cause ?? error);
  }
  const entries: UsageReportEntry[] = [];
  for (const entry of raw) {
    // An entry about another image or report means the answer is not the one asked for.
    if (entry.ReportId !== reportId || entry.ImageId !== imageId) {
      return {
        state: 'error',
        detail: `report ${reportId} answered an entry for ${String(entry.ImageId)} / ${String(entry.ReportId)}`,
      };
    }
    if (
      typeof entry.AccountId !== 'string' ||
      !ACCOUNT_ID.test(entry.AccountId) ||
      typeof entry.ResourceType !== 'string' ||
      typeof entry.UsageCount !== 'number' ||
      !AMI_ID.test(imageId)
    ) {
      return { state: 'error', detail: `report ${reportId} has a malformed entry` };
    }
    entries.push({
      imageId,
      accountId: entry.AccountId,
      resourceType: entry.ResourceType,
      usageCount: entry.UsageCount,
    });
  }
  return { state: 'available', entries };
}
