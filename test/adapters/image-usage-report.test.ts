import {
  CreateImageUsageReportCommand,
  type CreateImageUsageReportCommandInput,
  DescribeImageUsageReportEntriesCommand,
  DescribeImageUsageReportsCommand,
  type DescribeImageUsageReportsCommandInput,
  EC2Client,
  EC2ServiceException,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  readImageUsage,
  USAGE_REPORT_IDS_PER_CALL,
  usageReportClientToken,
} from '../../functions/adapters/image-usage-report.ts';

const ec2Mock = mockClient(EC2Client);
const ec2 = new EC2Client({ region: 'eu-west-1', maxAttempts: 1 });
const IMAGE = 'ami-0123456789abcdef0';
const OTHER = 'ami-0fedcba9876543210';

afterEach(() => {
  ec2Mock.reset();
});

/** A manual clock: `sleep` advances it, so a bounded wait takes no real time. */
function fakeTime() {
  let t = 0;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
    slept,
  };
}

function awsError(name: string, status = 400): EC2ServiceException {
  return new EC2ServiceException({
    name,
    message: name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** One report, already in `state`, about `about` (default: the image asked for). */
function oneReport(state: string, about = IMAGE, stateReason?: string) {
  ec2Mock.on(CreateImageUsageReportCommand).resolves({ ReportId: 'amiur-1' });
  ec2Mock.on(DescribeImageUsageReportsCommand).resolves({
    ImageUsageReports: [
      {
        ReportId: 'amiur-1',
        ImageId: about,
        State: state,
        ...(stateReason ? { StateReason: stateReason } : {}),
      },
    ],
  });
}

/** Reports created per image; each becomes available after `readyAfterPolls` describes. */
function serveReports(readyAfterPolls: number) {
  const polls = new Map<string, number>();
  ec2Mock.on(CreateImageUsageReportCommand).callsFake((input: CreateImageUsageReportCommandInput) => ({
    ReportId: `amiur-${input.ImageId?.slice(4)}`,
  }));
  ec2Mock.on(DescribeImageUsageReportsCommand).callsFake((input: DescribeImageUsageReportsCommandInput) => ({
    ImageUsageReports: (input.ReportIds ?? []).map((id) => {
      const seen = (polls.get(id) ?? 0) + 1;
      polls.set(id, seen);
      return {
        ReportId: id,
        ImageId: `ami-${id.slice(6)}`,
        State: seen > readyAfterPolls ? 'available' : 'pending',
      };
    }),
  }));
}

describe('readImageUsage', () => {
  it('creates one idempotent report per AMI, polls until ready, and reads every page of entries', async () => {
    // Prepare
    serveReports(2);
    ec2Mock
      .on(DescribeImageUsageReportEntriesCommand)
      .resolvesOnce({
        ImageUsageReportEntries: [
          {
            ReportId: `amiur-${IMAGE.slice(4)}`,
            ImageId: IMAGE,
            AccountId: '333333333333',
            ResourceType: 'ec2:Instance',
            UsageCount: 2,
          },
        ],
        NextToken: 'page-2',
      })
      .resolvesOnce({
        ImageUsageReportEntries: [
          {
            ReportId: `amiur-${IMAGE.slice(4)}`,
            ImageId: IMAGE,
            AccountId: '444444444444',
            ResourceType: 'ec2:LaunchTemplate',
            UsageCount: 1,
          },
        ],
      });
    const time = fakeTime();

    // Act
    const answers = await readImageUsage(ec2, [IMAGE, IMAGE], {
      runId: 'run-1',
      pollIntervalMs: 5_000,
      ...time,
    });

    // Assess
    expect(answers.get(IMAGE)).toEqual({
      state: 'available',
      entries: [
        { imageId: IMAGE, accountId: '333333333333', resourceType: 'ec2:Instance', usageCount: 2 },
        { imageId: IMAGE, accountId: '444444444444', resourceType: 'ec2:LaunchTemplate', usageCount: 1 },
      ],
    });
    const creates = ec2Mock.commandCalls(CreateImageUsageReportCommand);
    expect(creates).toHaveLength(1);
    const created = creates[0]?.args[0].input;
    expect(created?.ClientToken).toBe(usageReportClientToken('run-1', IMAGE));
    expect(created?.AccountIds).toBeUndefined(); // every account it is shared with
    expect(created?.ResourceTypes?.map((t) => t.ResourceType)).toEqual([
      'ec2:Instance',
      'ec2:LaunchTemplate',
    ]);
    expect(ec2Mock.commandCalls(DescribeImageUsageReportsCommand)).toHaveLength(3);
    expect(time.slept).toEqual([5_000, 5_000]);
  });

  it('gives up at the bounded wait: a report still pending is not-ready, never "unused"', async () => {
    // Prepare
    serveReports(Number.POSITIVE_INFINITY);
    const time = fakeTime();

    // Act
    const answers = await readImageUsage(ec2, [IMAGE], {
      runId: 'run-1',
      maxWaitMs: 30_000,
      pollIntervalMs: 10_000,
      ...time,
    });

    // Assess
    expect(answers.get(IMAGE)).toMatchObject({ state: 'not-ready' });
    expect(time.now()).toBe(30_000);
    expect(ec2Mock.commandCalls(DescribeImageUsageReportEntriesCommand)).toHaveLength(0);
  });

  it('polls many reports 200 ids a call', async () => {
    // Prepare
    serveReports(0);
    ec2Mock.on(DescribeImageUsageReportEntriesCommand).resolves({ ImageUsageReportEntries: [] });
    const ids = Array.from({ length: 450 }, (_, i) => `ami-${i.toString(16).padStart(17, '0')}`);

    // Act
    const answers = await readImageUsage(ec2, ids, { runId: 'run-1', ...fakeTime() });

    // Assess
    expect([...answers.values()].every((a) => a.state === 'available')).toBe(true);
    const sizes = ec2Mock
      .commandCalls(DescribeImageUsageReportsCommand)
      .map((c) => c.args[0].input.ReportIds?.length);
    expect(sizes.sort((a, b) => (b ?? 0) - (a ?? 0))).toEqual([
      USAGE_REPORT_IDS_PER_CALL,
      USAGE_REPORT_IDS_PER_CALL,
      50,
    ]);
  });

  it.each([
    [
      'CreateImageUsageReport is denied',
      () => ec2Mock.on(CreateImageUsageReportCommand).rejects(awsError('UnauthorizedOperation', 403)),
      'CreateImageUsageReport failed: UnauthorizedOperation',
    ],
    [
      'the report ends in state error',
      () => {
        oneReport('error', IMAGE, 'internal');
      },
      'is error: internal',
    ],
    [
      'the report describes another image',
      () => {
        oneReport('available', OTHER);
      },
      `is about ${OTHER}`,
    ],
    [
      'an entry answers for another image',
      () => {
        oneReport('available');
        ec2Mock.on(DescribeImageUsageReportEntriesCommand).resolves({
          ImageUsageReportEntries: [
            {
              ReportId: 'amiur-1',
              ImageId: OTHER,
              AccountId: '333333333333',
              ResourceType: 'ec2:Instance',
              UsageCount: 0,
            },
          ],
        });
      },
      `entry for ${OTHER}`,
    ],
    [
      'the entries repeat a page token',
      () => {
        oneReport('available');
        ec2Mock
          .on(DescribeImageUsageReportEntriesCommand)
          .resolves({ ImageUsageReportEntries: [], NextToken: 'same' });
      },
      'DescribeImageUsageReportEntries failed',
    ],
    [
      'an entry lacks its usage count',
      () => {
        oneReport('available');
        ec2Mock.on(DescribeImageUsageReportEntriesCommand).resolves({
          ImageUsageReportEntries: [
            { ReportId: 'amiur-1', ImageId: IMAGE, AccountId: '333333333333', ResourceType: 'ec2:Instance' },
          ],
        });
      },
      'malformed entry',
    ],
    [
      'DescribeImageUsageReports is throttled past retries',
      () => {
        ec2Mock.on(CreateImageUsageReportCommand).resolves({ ReportId: 'amiur-1' });
        ec2Mock.on(DescribeImageUsageReportsCommand).rejects(awsError('RequestLimitExceeded', 503));
      },
      'DescribeImageUsageReports failed: RequestLimitExceeded',
    ],
  ])('answers error, without throwing, when %s', async (_what, arrange, detail) => {
    // Prepare
    arrange();

    // Act
    const answers = await readImageUsage(ec2, [IMAGE], { runId: 'run-1', ...fakeTime() });

    // Assess
    const answer = answers.get(IMAGE);
    expect(answer?.state).toBe('error');
    expect(answer?.state === 'error' ? answer.detail : '').toContain(detail);
  });
});
