/**
 * The Recycle Bin retention rules of `recycleBin`: one per resource type, matching only the tag
 * the deletion steps set right before deleting (`RETAIN_TAG`), so nothing else in the account
 * is retained by them. Rules are regional, like the deployment.
 */
import * as rbin from 'aws-cdk-lib/aws-rbin';
import { Construct } from 'constructs';
import { RETAIN_TAG, type RecycleBinRetention } from '../../functions/core/recycle-bin.ts';

export class RecycleBinRules extends Construct {
  readonly imageRule: rbin.CfnRule;
  readonly snapshotRule: rbin.CfnRule;

  constructor(scope: Construct, id: string, retention: RecycleBinRetention) {
    super(scope, id);
    const rule = (ruleId: string, resourceType: 'EC2_IMAGE' | 'EBS_SNAPSHOT', days: number, what: string) =>
      new rbin.CfnRule(this, ruleId, {
        resourceType,
        description: `ami-cleaner: ${what} it deleted stay restorable for ${days} days`,
        resourceTags: [{ resourceTagKey: RETAIN_TAG.key, resourceTagValue: RETAIN_TAG.value }],
        retentionPeriod: { retentionPeriodUnit: 'DAYS', retentionPeriodValue: days },
      });
    this.imageRule = rule('Images', 'EC2_IMAGE', retention.imageDays, 'AMIs');
    this.snapshotRule = rule('Snapshots', 'EBS_SNAPSHOT', retention.snapshotDays, 'snapshots');
  }
}
