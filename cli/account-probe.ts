/**
 * One cheap read of each service a run's inventory reads, before the run starts: an endpoint
 * that does not answer, a region that does not exist, missing credentials or a denied read is
 * then one line and exit 2, as `plan` reports it, instead of a run that retries, fails and
 * writes a FAILED record to the ledger.
 */
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeImagesCommand } from '@aws-sdk/client-ec2';
import { GetParametersByPathCommand } from '@aws-sdk/client-ssm';
import type { PlanSettings } from '../functions/core/settings.ts';
import type { AccountEnvironment } from './environment.ts';
import { AccountUnreachableError, explainAwsError } from './errors.ts';

export async function probeAccount(env: AccountEnvironment, settings: PlanSettings): Promise<void> {
  const { ec2, autoScaling, ssm } = env.clients;
  const firstPath = settings.ssmParameterPaths[0];
  const probes: [string, () => Promise<unknown>][] = [
    ['DescribeImages', () => ec2.send(new DescribeImagesCommand({ Owners: ['self'], MaxResults: 5 }))],
    [
      'DescribeAutoScalingGroups',
      () => autoScaling.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 1 })),
    ],
    ...(firstPath === undefined
      ? []
      : ([
          [
            'GetParametersByPath',
            () => ssm.send(new GetParametersByPathCommand({ Path: firstPath, MaxResults: 1 })),
          ],
        ] as [string, () => Promise<unknown>][])),
  ];
  const results = await Promise.allSettled(probes.map(([, call]) => call()));
  const failed = results.findIndex((result) => result.status === 'rejected');
  if (failed === -1) return;
  const reason = (results[failed] as PromiseRejectedResult).reason;
  const command = (probes[failed] as [string, unknown])[0];
  throw new AccountUnreachableError(
    `cannot read the account in ${env.region}: ${command} failed: ${explainAwsError(reason)}; nothing was started`,
    { cause: reason },
  );
}
