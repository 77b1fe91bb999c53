/**
 * The organization the future demo shows: a golden-AMI account that bakes an image a day in two
 * regions and shares them with the Workloads OU (and a few with the whole organization), and two
 * workload accounts, one in each region, that launch from those shared images and bake their own.
 * Every account has the member role, trusting the hub's principals.
 */
import { DEFAULT_MEMBER_ROLE_NAME } from '../../functions/core/target.ts';
import type { SimulatedOrganization } from './organization.ts';

export interface OrganizationScenarioOptions {
  /** The scenario's "today"; images are dated back from it. */
  readonly now: Date;
  /** The hub principals every member role trusts. Default: any role of the management account named `AmiCleaner*`. */
  readonly hubPrincipalArns?: readonly string[];
  /** Images the golden account bakes per region (one a day). Default 12. */
  readonly goldenImagesPerRegion?: number;
}

export interface OrganizationScenario {
  readonly regions: readonly [string, string];
  readonly ous: { readonly platform: string; readonly workloads: string; readonly production: string };
  readonly golden: {
    readonly accountId: string;
    readonly imageIds: Readonly<Record<string, readonly string[]>>;
  };
  readonly workloads: readonly {
    readonly accountId: string;
    readonly region: string;
    readonly ownImageIds: readonly string[];
  }[];
  /** A member of Workloads that is suspended: never a target. */
  readonly suspendedAccountId: string;
  /** Golden images another account runs: kept because another account uses them. */
  readonly usedByOtherAccounts: readonly {
    readonly imageId: string;
    readonly region: string;
    readonly usedBy: string;
  }[];
  readonly roleName: string;
}

const DAY_MS = 86_400_000;
const GOLDEN = '210987654321';
const WORKLOAD_A = '333333333333';
const WORKLOAD_B = '444444444444';
const SUSPENDED = '555555555555';

export function organizationScenario(
  organization: SimulatedOrganization,
  options: OrganizationScenarioOptions,
): OrganizationScenario {
  const regions = ['eu-west-1', 'us-east-1'] as const;
  const hubPrincipalArns = options.hubPrincipalArns ?? [
    `arn:aws:iam::${organization.managementAccountId}:role/AmiCleaner*`,
  ];
  const daysAgo = (days: number) => new Date(options.now.getTime() - days * DAY_MS);

  const platform = organization.addOrganizationalUnit('Platform');
  const workloads = organization.addOrganizationalUnit('Workloads');
  const production = organization.addOrganizationalUnit('Production', workloads.id);
  organization.addAccount({ accountId: GOLDEN, name: 'golden-ami', parentId: platform.id });
  organization.addAccount({ accountId: WORKLOAD_A, name: 'workload-a', parentId: production.id });
  organization.addAccount({ accountId: WORKLOAD_B, name: 'workload-b', parentId: workloads.id });
  organization.addAccount({
    accountId: SUSPENDED,
    name: 'retired',
    parentId: workloads.id,
    state: 'SUSPENDED',
  });
  for (const accountId of [organization.managementAccountId, GOLDEN, WORKLOAD_A, WORKLOAD_B, SUSPENDED]) {
    organization.addRole(accountId, DEFAULT_MEMBER_ROLE_NAME, {
      hubAccountId: organization.managementAccountId,
      hubPrincipalArns,
    });
  }

  // The golden account: one image a day per region, shared with the Workloads OU; every
  // seventh with the whole organization instead.
  const count = options.goldenImagesPerRegion ?? 12;
  const imageIds: Record<string, string[]> = {};
  for (const region of regions) {
    const golden = organization.account(GOLDEN, region);
    imageIds[region] = [];
    for (let day = count; day >= 1; day--) {
      const image = golden.addImage({
        name: `golden-al2023-${daysAgo(day).toISOString().slice(0, 10)}`,
        creationDate: daysAgo(day),
        tags: { Team: 'platform', Role: 'golden' },
        launchPermissions: [
          day % 7 === 0 ? { organizationArn: organization.arn } : { organizationalUnitArn: workloads.arn },
        ],
      });
      imageIds[region]?.push(image.imageId);
    }
  }
  const goldenIn = (region: string, daysBack: number): string => {
    const ids = imageIds[region] ?? [];
    const id = ids[ids.length - daysBack];
    if (id === undefined) throw new Error(`organizationScenario: no golden image ${daysBack} days back`);
    return id;
  };

  // Workload A (eu-west-1) runs the 9-day-old golden image; workload B (us-east-1) pins the
  // 10-day-old one in a launch template. Both are older than the golden account's keep-previous.
  const usedByOtherAccounts = [
    { imageId: goldenIn('eu-west-1', 9), region: 'eu-west-1', usedBy: WORKLOAD_A },
    { imageId: goldenIn('us-east-1', 10), region: 'us-east-1', usedBy: WORKLOAD_B },
  ];
  const [usedByA, usedByB] = usedByOtherAccounts as [
    (typeof usedByOtherAccounts)[0],
    (typeof usedByOtherAccounts)[0],
  ];
  organization.launchInstance(WORKLOAD_A, 'eu-west-1', usedByA.imageId, daysAgo(3));
  const workloadB = organization.account(WORKLOAD_B, 'us-east-1');
  workloadB.addLaunchTemplate({
    name: 'web',
    versions: [{ imageId: usedByB.imageId, instanceType: 't3.small' }],
    createTime: daysAgo(5),
  });

  // Each workload bakes its own app images on top.
  const workloadList = [
    { accountId: WORKLOAD_A, region: 'eu-west-1' },
    { accountId: WORKLOAD_B, region: 'us-east-1' },
  ].map(({ accountId, region }) => {
    const account = organization.account(accountId, region);
    const ownImageIds = [8, 6, 4, 2, 1].map(
      (day) =>
        account.addImage({
          name: `app-${accountId.slice(0, 4)}-${daysAgo(day).toISOString().slice(0, 10)}`,
          creationDate: daysAgo(day),
          tags: { Team: 'app', Role: 'service' },
        }).imageId,
    );
    return { accountId, region, ownImageIds };
  });

  return {
    regions,
    ous: { platform: platform.id, workloads: workloads.id, production: production.id },
    golden: { accountId: GOLDEN, imageIds },
    workloads: workloadList,
    suspendedAccountId: SUSPENDED,
    usedByOtherAccounts,
    roleName: DEFAULT_MEMBER_ROLE_NAME,
  };
}
