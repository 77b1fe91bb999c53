import { createHash } from 'node:crypto';
import type {
  AutoScalingGroup,
  AutoScalingGroupNamesType,
  AutoScalingGroupsType,
  LaunchConfiguration,
  LaunchConfigurationNamesType,
  LaunchConfigurationsType,
  LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import type { ServiceHandlers, SimulatedAccount } from './account.ts';
import { handler } from './account.ts';
import { compileFilters, type FilterDefinition } from './filters.ts';
import { decodeToken, encodeToken, type PageSizeRule, pageSize } from './pagination.ts';
import type { SimAutoScalingGroup, SimLaunchTemplateSpec } from './state.ts';

// Auto Scaling pages default to 50 records and reject more than 100.
const MAX_RECORDS: PageSizeRule = {
  fallback: 50,
  min: 1,
  max: 100,
  errorCode: 'ValidationError',
  parameter: 'MaxRecords',
};
const TOKEN_ERROR = 'InvalidNextToken';

const groupFilters: FilterDefinition<SimAutoScalingGroup> = {
  tags: (group) => group.tags,
  fields: { 'tag-value': (group) => Object.values(group.tags) },
};

/** A stable, uuid-shaped id derived from a name, so ARNs are reproducible. */
function nameUuid(name: string): string {
  const h = createHash('sha1').update(name).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function createAutoScalingHandlers(account: SimulatedAccount): ServiceHandlers {
  const arnPrefix = `arn:aws:autoscaling:${account.region}:${account.accountId}`;

  /** Auto Scaling reports both the id and the name of a template, and the version as configured. */
  function renderSpec(spec: SimLaunchTemplateSpec): LaunchTemplateSpecification {
    const template = account.findLaunchTemplate(spec);
    return {
      LaunchTemplateId: spec.launchTemplateId ?? template?.launchTemplateId,
      LaunchTemplateName: spec.launchTemplateName ?? template?.launchTemplateName,
      ...(spec.version === undefined ? {} : { Version: spec.version }),
    };
  }

  function renderGroup(group: SimAutoScalingGroup): AutoScalingGroup {
    return {
      AutoScalingGroupName: group.name,
      AutoScalingGroupARN: `${arnPrefix}:autoScalingGroup:${nameUuid(group.name)}:autoScalingGroupName/${group.name}`,
      ...(group.launchConfigurationName === undefined
        ? {}
        : { LaunchConfigurationName: group.launchConfigurationName }),
      ...(group.launchTemplate === undefined ? {} : { LaunchTemplate: renderSpec(group.launchTemplate) }),
      ...(group.mixedInstancesPolicy === undefined
        ? {}
        : {
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: renderSpec(group.mixedInstancesPolicy.launchTemplate),
                Overrides: group.mixedInstancesPolicy.overrides.map((override) => ({
                  InstanceType: override.instanceType,
                  ...(override.launchTemplate === undefined
                    ? {}
                    : { LaunchTemplateSpecification: renderSpec(override.launchTemplate) }),
                })),
              },
              InstancesDistribution: {
                OnDemandAllocationStrategy: 'prioritized',
                OnDemandBaseCapacity: 0,
                OnDemandPercentageAboveBaseCapacity: 100,
                SpotAllocationStrategy: 'lowest-price',
              },
            },
          }),
      MinSize: group.minSize,
      MaxSize: group.maxSize,
      DesiredCapacity: group.desiredCapacity,
      DefaultCooldown: 300,
      AvailabilityZones: [`${account.region}a`, `${account.region}b`],
      HealthCheckType: 'EC2',
      HealthCheckGracePeriod: 300,
      Instances: [],
      CreatedTime: new Date(group.createdTime),
      SuspendedProcesses: [],
      EnabledMetrics: [],
      Tags: Object.entries(group.tags).map(([Key, Value]) => ({
        ResourceId: group.name,
        ResourceType: 'auto-scaling-group',
        Key,
        Value,
        PropagateAtLaunch: true,
      })),
      TerminationPolicies: ['Default'],
      NewInstancesProtectedFromScaleIn: false,
      ServiceLinkedRoleARN: `arn:aws:iam::${account.accountId}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    };
  }

  return {
    DescribeAutoScalingGroups: handler((input: AutoScalingGroupNamesType): AutoScalingGroupsType => {
      const names = input.AutoScalingGroupNames?.length ? new Set(input.AutoScalingGroupNames) : undefined;
      const filter = compileFilters(input.Filters, groupFilters);
      const limit = pageSize(input.MaxRecords, MAX_RECORDS);
      const after = decodeToken(input.NextToken, 'DescribeAutoScalingGroups', TOKEN_ERROR);
      // Unknown names are simply absent from the answer, as in AWS.
      const { items, lastKey } = account.autoScalingGroups.page(
        after,
        limit,
        (group) => (names === undefined || names.has(group.name)) && filter(group),
      );
      return {
        AutoScalingGroups: items.map(renderGroup),
        ...(lastKey === undefined ? {} : { NextToken: encodeToken('DescribeAutoScalingGroups', lastKey) }),
      };
    }),

    DescribeLaunchConfigurations: handler((input: LaunchConfigurationNamesType): LaunchConfigurationsType => {
      const names = input.LaunchConfigurationNames?.length
        ? new Set(input.LaunchConfigurationNames)
        : undefined;
      const limit = pageSize(input.MaxRecords, MAX_RECORDS);
      const after = decodeToken(input.NextToken, 'DescribeLaunchConfigurations', TOKEN_ERROR);
      const { items, lastKey } = account.launchConfigurations.page(
        after,
        limit,
        (configuration) => names === undefined || names.has(configuration.name),
      );
      return {
        LaunchConfigurations: items.map(
          (configuration): LaunchConfiguration => ({
            LaunchConfigurationName: configuration.name,
            LaunchConfigurationARN: `${arnPrefix}:launchConfiguration:${nameUuid(configuration.name)}:launchConfigurationName/${configuration.name}`,
            ImageId: configuration.imageId,
            InstanceType: configuration.instanceType,
            CreatedTime: new Date(configuration.createdTime),
            SecurityGroups: [],
            ClassicLinkVPCSecurityGroups: [],
            KernelId: '',
            RamdiskId: '',
            BlockDeviceMappings: [],
            InstanceMonitoring: { Enabled: true },
            EbsOptimized: false,
          }),
        ),
        ...(lastKey === undefined ? {} : { NextToken: encodeToken('DescribeLaunchConfigurations', lastKey) }),
      };
    }),
  };
}
