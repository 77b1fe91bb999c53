/**
 * EC2 image usage reports, as the simulated organization answers them: CreateImageUsageReport
 * (the caller must own the image; one report per ClientToken), DescribeImageUsageReports (pending
 * until `readyAfterMs` of the simulated clock has passed), DescribeImageUsageReportEntries (one
 * entry per other account and resource type that uses the image: instances in any state but
 * terminated, launch templates with a version naming it within the version depth).
 *
 * Knobs for the fault and hostile suites: `neverComplete` (stays pending), `failing` (state
 * `error`), `wrongImage` (entries answer for another image id).
 */
import type {
  CreateImageUsageReportRequest,
  CreateImageUsageReportResult,
  DescribeImageUsageReportEntriesRequest,
  DescribeImageUsageReportEntriesResult,
  DescribeImageUsageReportsRequest,
  DescribeImageUsageReportsResult,
  ImageUsageReportEntry,
} from '@aws-sdk/client-ec2';
import type { ServiceHandlers, SimulatedAccount } from './account.ts';
import { handler } from './account.ts';
import { SimulatedAwsError } from './errors.ts';
import { decodeToken, encodeToken, pageSize } from './pagination.ts';

export interface SimUsageReport {
  readonly reportId: string;
  readonly imageId: string;
  readonly ownerId: string;
  readonly region: string;
  readonly accountIds: readonly string[];
  readonly resourceTypes: readonly string[];
  readonly versionDepth: number;
  readonly createdAt: Date;
}

/** What the reports need from the organization: the other accounts of a region and their state. */
export interface UsageReportWorld {
  readonly now: () => Date;
  regionalAccounts(): readonly SimulatedAccount[];
}

const DEFAULT_READY_AFTER_MS = 60_000;
const ENTRIES_PAGE = {
  fallback: 1000,
  min: 1,
  max: 1000,
  errorCode: 'InvalidParameterValue',
  parameter: 'MaxResults',
} as const;
const LIVE = new Set(['pending', 'running', 'shutting-down', 'stopping', 'stopped']);

export class SimulatedUsageReports {
  /** How long a report stays pending, on the simulated clock. */
  readyAfterMs = DEFAULT_READY_AFTER_MS;
  /** Images whose reports never leave `pending`. */
  readonly neverComplete = new Set<string>();
  /** Images whose reports end in state `error`. */
  readonly failing = new Set<string>();
  /** Images whose report entries name another image id (a hostile answer). */
  readonly wrongImage = new Set<string>();
  readonly reports = new Map<string, SimUsageReport>();
  private readonly byToken = new Map<string, string>();
  private counter = 0;

  constructor(private readonly world: UsageReportWorld) {}

  stateOf(report: SimUsageReport): 'pending' | 'available' | 'error' {
    if (this.failing.has(report.imageId)) return 'error';
    if (this.neverComplete.has(report.imageId)) return 'pending';
    return this.world.now().getTime() - report.createdAt.getTime() >= this.readyAfterMs
      ? 'available'
      : 'pending';
  }

  create(owner: SimulatedAccount, input: CreateImageUsageReportRequest): CreateImageUsageReportResult {
    const image = owner.images.get(input.ImageId ?? '');
    if (image === undefined) {
      throw new SimulatedAwsError(
        'InvalidAMIID.NotFound',
        `The image id '[${input.ImageId}]' does not exist`,
      );
    }
    const types = (input.ResourceTypes ?? []).map((t) => t.ResourceType ?? '');
    if (types.length === 0 || types.some((t) => t !== 'ec2:Instance' && t !== 'ec2:LaunchTemplate')) {
      throw new SimulatedAwsError(
        'InvalidParameterValue',
        'ResourceTypes must be ec2:Instance and/or ec2:LaunchTemplate',
      );
    }
    if ((input.AccountIds ?? []).length > 200) {
      throw new SimulatedAwsError('InvalidParameterValue', 'At most 200 AccountIds');
    }
    const tokenKey = input.ClientToken === undefined ? undefined : `${owner.accountId}/${input.ClientToken}`;
    const existing = tokenKey === undefined ? undefined : this.byToken.get(tokenKey);
    if (existing !== undefined) return { ReportId: existing };
    const depthOption = (input.ResourceTypes ?? [])
      .flatMap((t) => t.ResourceTypeOptions ?? [])
      .find((o) => o.OptionName === 'version-depth');
    const versionDepth = depthOption === undefined ? 20 : Number(depthOption.OptionValues?.[0]);
    if (!Number.isInteger(versionDepth) || versionDepth < 1 || versionDepth > 10_000) {
      throw new SimulatedAwsError('InvalidParameterValue', 'version-depth must be 1 to 10000');
    }
    this.counter += 1;
    const reportId = `amiur-${this.counter.toString(16).padStart(17, '0')}`;
    this.reports.set(reportId, {
      reportId,
      imageId: image.imageId,
      ownerId: owner.accountId,
      region: owner.region,
      accountIds: [...(input.AccountIds ?? [])],
      resourceTypes: types,
      versionDepth,
      createdAt: this.world.now(),
    });
    if (tokenKey !== undefined) this.byToken.set(tokenKey, reportId);
    return { ReportId: reportId };
  }

  private ownReport(owner: SimulatedAccount, reportId: string): SimUsageReport {
    const report = this.reports.get(reportId);
    if (report === undefined || report.ownerId !== owner.accountId || report.region !== owner.region) {
      throw new SimulatedAwsError(
        'InvalidImageUsageReportId.NotFound',
        `The report ${reportId} does not exist`,
      );
    }
    return report;
  }

  describe(
    owner: SimulatedAccount,
    input: DescribeImageUsageReportsRequest,
  ): DescribeImageUsageReportsResult {
    const ids = input.ReportIds ?? [];
    if (ids.length > 200) throw new SimulatedAwsError('InvalidParameterValue', 'At most 200 ReportIds');
    return {
      ImageUsageReports: ids.map((id) => {
        const report = this.ownReport(owner, id);
        const state = this.stateOf(report);
        return {
          ReportId: report.reportId,
          ImageId: report.imageId,
          State: state,
          ...(state === 'error' ? { StateReason: 'The report could not be created.' } : {}),
          CreationTime: report.createdAt,
          AccountIds: [...report.accountIds],
          ResourceTypes: report.resourceTypes.map((ResourceType) => ({ ResourceType })),
        };
      }),
    };
  }

  entries(
    owner: SimulatedAccount,
    input: DescribeImageUsageReportEntriesRequest,
  ): DescribeImageUsageReportEntriesResult {
    const reports = (input.ReportIds ?? []).map((id) => this.ownReport(owner, id));
    for (const report of reports) {
      if (this.stateOf(report) !== 'available') {
        throw new SimulatedAwsError('IncorrectState', `The report ${report.reportId} is not available`);
      }
    }
    const all = reports.flatMap((report) => this.entriesOf(report));
    const keyOf = (e: ImageUsageReportEntry) => `${e.ReportId}/${e.AccountId}/${e.ResourceType}`;
    const after = decodeToken(input.NextToken, 'DescribeImageUsageReportEntries', 'InvalidParameterValue');
    const size = pageSize(input.MaxResults, ENTRIES_PAGE);
    const rest = after === undefined ? all : all.filter((e) => keyOf(e) > after);
    const chosen = rest.slice(0, size);
    const last = chosen.at(-1);
    return {
      ImageUsageReportEntries: chosen,
      ...(rest.length > chosen.length && last !== undefined
        ? { NextToken: encodeToken('DescribeImageUsageReportEntries', keyOf(last)) }
        : {}),
    };
  }

  private entriesOf(report: SimUsageReport): ImageUsageReportEntry[] {
    const consumers = this.world
      .regionalAccounts()
      .filter((a) => a.region === report.region && a.accountId !== report.ownerId)
      .filter((a) => report.accountIds.length === 0 || report.accountIds.includes(a.accountId))
      .sort((a, b) => (a.accountId < b.accountId ? -1 : 1));
    const imageId = this.wrongImage.has(report.imageId) ? 'ami-0000000000000bad0' : report.imageId;
    const entries: ImageUsageReportEntry[] = [];
    for (const consumer of consumers) {
      const counts: [string, number][] = [];
      if (report.resourceTypes.includes('ec2:Instance')) {
        counts.push([
          'ec2:Instance',
          [...consumer.instances.values()].filter((i) => i.imageId === report.imageId && LIVE.has(i.state))
            .length,
        ]);
      }
      if (report.resourceTypes.includes('ec2:LaunchTemplate')) {
        counts.push([
          'ec2:LaunchTemplate',
          [...consumer.launchTemplates.values()].filter((t) =>
            t.versions.slice(-report.versionDepth).some((v) => v.imageId === report.imageId),
          ).length,
        ]);
      }
      for (const [ResourceType, UsageCount] of counts) {
        if (UsageCount === 0) continue;
        entries.push({
          ReportId: report.reportId,
          ImageId: imageId,
          AccountId: consumer.accountId,
          ResourceType,
          UsageCount,
          ReportCreationTime: report.createdAt,
        });
      }
    }
    return entries;
  }
}

/** The three EC2 commands of one account, answered by the organization's report store (if any). */
export function createUsageReportHandlers(account: SimulatedAccount): ServiceHandlers {
  const store = (): SimulatedUsageReports => {
    const reports = account.usageReports;
    if (reports === undefined) {
      throw new SimulatedAwsError(
        'UnsupportedOperation',
        'Image usage reports need a simulated organization (other accounts to report on).',
      );
    }
    return reports;
  };
  return {
    CreateImageUsageReport: handler((input: CreateImageUsageReportRequest) => store().create(account, input)),
    DescribeImageUsageReports: handler((input: DescribeImageUsageReportsRequest) =>
      store().describe(account, input),
    ),
    DescribeImageUsageReportEntries: handler((input: DescribeImageUsageReportEntriesRequest) =>
      store().entries(account, input),
    ),
  };
}
