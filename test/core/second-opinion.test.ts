import { describe, expect, it } from 'vitest';
import type { AwsImageReference, ImageReference } from '../../functions/core/model.ts';
import { buildPlan } from '../../functions/core/plan.ts';
import {
  awsSourcesByImage,
  describeAnswers,
  keepAwsReferenced,
  referencedByEither,
} from '../../functions/core/second-opinion.ts';
import { amiId, inventory, NOW, series, settings } from './fixtures.ts';

// Four AMIs of one group; with keepPrevious 1 the three older ones are candidates.
const IMAGES = series(4, 1, () => ({ tags: { environment: 'dev', role: 'web' } }));
const instanceArn = 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaa';
const aws = (imageId: string, resourceType = 'ec2:Instance', arn = instanceArn): AwsImageReference => ({
  imageId,
  resourceType,
  arn,
});

const plan = (awsReferences: readonly AwsImageReference[]) =>
  buildPlan({
    inventory: inventory({ images: IMAGES }),
    settings: settings({ keepPrevious: 1 }),
    now: NOW,
    sharedImageIds: new Set(),
    awsReferences,
  });

describe('the second opinion in planning', () => {
  it('keeps a candidate AWS reports in use, with both answers, and leaves it out of the plan hash', () => {
    // Act
    const agreed = plan([]);
    const disagreed = plan([
      aws(amiId(3)),
      aws(amiId(3), 'ssm:Parameter', 'arn:aws:ssm:eu-west-1:1:parameter/x'),
    ]);

    // Assess
    const group = disagreed.groups[0];
    expect(group?.candidates.map((c) => c.imageId)).toEqual([amiId(2), amiId(4)]);
    const kept = group?.kept.find((k) => k.imageId === amiId(3));
    expect(kept).toMatchObject({
      reason: 'AWS_REPORTS_IN_USE',
      referenceAnswers: {
        inventory: [],
        aws: [`ec2:Instance ${instanceArn}`, 'ssm:Parameter arn:aws:ssm:eu-west-1:1:parameter/x'],
      },
    });
    expect(kept?.detail).toBe(
      `our inventory: none; AWS DescribeImageReferences: ec2:Instance ${instanceArn}, ssm:Parameter arn:aws:ssm:eu-west-1:1:parameter/x`,
    );
    expect(group?.kept.map((k) => k.imageId)).toEqual([amiId(1), amiId(3)]); // newest first
    expect(disagreed.totals).toMatchObject({ candidates: 2, kept: 2 });
    expect(disagreed.planHash).not.toBe(agreed.planHash);
    expect(agreed.groups[0]?.candidates).toHaveLength(3);
  });

  it('ignores AWS answers about AMIs that are not candidates (already kept for their own reason)', () => {
    // Act
    const groups = keepAwsReferenced(plan([]).groups, [aws(amiId(1))]);

    // Assess
    expect(groups[0]?.kept.find((k) => k.imageId === amiId(1))?.reason).toBe('KEEP_PREVIOUS');
    expect(groups[0]?.candidates).toHaveLength(3);
  });

  it('returns the same group object when AWS agrees', () => {
    // Prepare
    const groups = plan([]).groups;

    // Act
    const checked = keepAwsReferenced(groups, []);

    // Assess
    expect(checked[0]).toBe(groups[0]);
  });
});

describe('the second opinion at approval', () => {
  const inventoryRef: ImageReference = {
    imageId: amiId(2),
    kind: 'instance',
    source: 'instance i-1 (running)',
  };

  it('reports an AMI either opinion calls in use, with both answers, and omits those both call unused', () => {
    // Act
    const answers = referencedByEither(
      [amiId(1), amiId(2), amiId(3)],
      new Map([[amiId(2), [inventoryRef]]]),
      [aws(amiId(3)), aws(amiId(2))],
    );

    // Assess
    expect([...answers.keys()]).toEqual([amiId(2), amiId(3)]);
    expect(answers.get(amiId(2))).toEqual({
      inventory: ['instance i-1 (running)'],
      aws: [`ec2:Instance ${instanceArn}`],
    });
    expect(answers.get(amiId(3))).toEqual({ inventory: [], aws: [`ec2:Instance ${instanceArn}`] });
    expect(describeAnswers({ inventory: ['instance i-1 (running)'], aws: [] })).toBe(
      'our inventory: instance i-1 (running); AWS DescribeImageReferences: none',
    );
  });

  it('groups AWS sources per AMI, sorted, without repeats', () => {
    // Act
    const byImage = awsSourcesByImage([aws(amiId(1), 'ssm:Parameter', 'b'), aws(amiId(1)), aws(amiId(1))]);

    // Assess
    expect(byImage.get(amiId(1))).toEqual([`ec2:Instance ${instanceArn}`, 'ssm:Parameter b']);
  });
});
