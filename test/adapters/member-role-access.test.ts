/**
 * The member role must allow every call the hub makes inside a target, and nothing the hub does
 * not need. The planning and deletion adapters run here through the member role against the
 * simulated organization; every API they reached is checked against the role's action lists.
 */
import { describe, expect, it } from 'vitest';
import { SimulatedOrganization } from '../../cli/simulated-account/index.ts';
import {
  deleteSnapshot,
  deregisterImage,
  findInstanceReferences,
  readLaunchTemplateReferences,
} from '../../functions/adapters/image-actions.ts';
import {
  readAwsImageReferences,
  readImagesSharedWithAccount,
} from '../../functions/adapters/image-references.ts';
import { readImageUsage } from '../../functions/adapters/image-usage-report.ts';
import { readInventory, readLaunchPermissions } from '../../functions/adapters/inventory.ts';
import { memberClients } from '../../functions/adapters/organization.ts';
import { target } from '../../functions/core/target.ts';
import {
  MEMBER_DESCRIBE_ACTIONS,
  MEMBER_SCOPED_READ_ACTIONS,
  MEMBER_USAGE_REPORT_ACTIONS,
  MEMBER_WRITE_ACTIONS,
} from '../../infra/member-role.ts';

// The SDK checks an assumed role's Expiration against the real clock, so the simulated clock is now.
const NOW = new Date();
const MEMBER = '210987654321';
const IAM_PREFIX: Record<string, string> = { EC2: 'ec2', 'Auto Scaling': 'autoscaling', SSM: 'ssm' };

describe('the member role covers the hub\u2019s calls in a target', () => {
  it('allows every API the inventory, the re-checks and the deletions call', async () => {
    // Prepare
    const organization = new SimulatedOrganization({ seed: 'access', clock: () => NOW });
    organization.addAccount({ accountId: MEMBER, name: 'member' });
    const hubRole = 'arn:aws:iam::123456789012:role/AmiCleaner-Inventory';
    organization.addRole(MEMBER, 'AmiCleanerMemberRole', {
      hubAccountId: '123456789012',
      hubPrincipalArns: [hubRole],
    });
    const account = organization.account(MEMBER, 'eu-west-1');
    const old = account.addImage({ name: 'app-1', creationDate: '2026-01-01T00:00:00Z', volumes: [8] });
    account.addImage({ name: 'app-2', creationDate: '2026-02-01T00:00:00Z' });
    account.addLaunchTemplate({ name: 'web', versions: [{ imageId: old.imageId }], createTime: NOW });
    account.putParameter('/golden/ami', old.imageId);
    const clients = memberClients(target(MEMBER, 'eu-west-1'), {
      roleName: 'AmiCleanerMemberRole',
      sessionName: 'amicleaner-access',
      sourceCredentials: organization.credentialsFor(hubRole),
      stsPlugins: [organization.plugin()],
    });
    for (const client of Object.values(clients)) organization.attach(client);

    // Act
    await readInventory(clients, {
      region: 'eu-west-1',
      ssmParameterPaths: ['/golden'],
      includeSnapshots: true,
      now: () => NOW,
    });
    await readLaunchPermissions(clients.ec2, [old.imageId]);
    organization.usageReports.readyAfterMs = 0;
    const usage = await readImageUsage(clients.ec2, [old.imageId], { runId: 'access', now: () => 0 });
    await readImagesSharedWithAccount(clients.ec2, MEMBER);
    // Deregister's re-check, in the owner and in each consumer alike (commons/current-references.ts).
    await findInstanceReferences(clients.ec2, old.imageId);
    await readLaunchTemplateReferences(clients.ec2);
    await readAwsImageReferences(clients.ec2, [old.imageId]);
    await deregisterImage(clients.ec2, old.imageId);
    await deleteSnapshot(clients.ec2, old.blockDeviceMappings[0]?.snapshotId as string);

    // Assess
    const called = new Set(
      account.calls.map((call) => `${IAM_PREFIX[call.service] ?? call.service}:${call.command}`),
    );
    const allowed = new Set<string>([
      ...MEMBER_DESCRIBE_ACTIONS,
      ...MEMBER_SCOPED_READ_ACTIONS.ssm,
      ...MEMBER_SCOPED_READ_ACTIONS.imageBuilder,
      ...MEMBER_WRITE_ACTIONS,
      ...MEMBER_USAGE_REPORT_ACTIONS,
    ]);
    expect([...called].filter((action) => !allowed.has(action))).toEqual([]);
    expect(usage.get(old.imageId)).toEqual({ state: 'available', entries: [] });
    // The run did reach the writes and the scoped reads, so the check above was not vacuous.
    for (const action of [
      'ec2:DeregisterImage',
      'ec2:DeleteSnapshot',
      'ssm:GetParametersByPath',
      'ec2:DescribeImageAttribute',
      'ec2:DescribeImageReferences',
      'ec2:CreateImageUsageReport',
      'ec2:DescribeImageUsageReportEntries',
    ]) {
      expect(called.has(action)).toBe(true);
    }
    expect(account.images.has(old.imageId)).toBe(false);
  });
});
