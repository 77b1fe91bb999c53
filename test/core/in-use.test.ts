import { describe, expect, it } from 'vitest';
import { findReferences, UnresolvedReferenceError } from '../../functions/core/in-use.ts';
import type { Inventory } from '../../functions/core/model.ts';
import { buildPlan } from '../../functions/core/plan.ts';
import { amiId, inventory, NOW, series, settings } from './fixtures.ts';

// Three AMIs of one group; with keepPrevious 0 all would be candidates unless referenced.
const IMAGES = series(3, 1, () => ({ tags: { environment: 'dev', role: 'web' } }));
const TARGET = amiId(2);
const LT = { launchTemplateId: 'lt-0aaa', launchTemplateName: 'web' } as const;

/** Plans `inv` with keepPrevious 0 and returns how TARGET was decided. */
function decisionFor(inv: Partial<Inventory>) {
  const plan = buildPlan({
    inventory: inventory({ images: IMAGES, ...inv }),
    settings: settings({ keepPrevious: 0 }),
    now: NOW,
    sharedImageIds: new Set(),
  });
  const group = plan.groups[0];
  return {
    candidate: group?.candidates.some((c) => c.imageId === TARGET),
    kept: group?.kept.find((k) => k.imageId === TARGET),
    candidates: plan.totals.candidates,
  };
}

/** Template versions 1..3: v1 -> ami 1, v2 -> TARGET, v3 -> ami 3. */
const versions = [1, 2, 3].map((v) => ({ ...LT, versionNumber: v, imageId: amiId(v) }));

describe('findReferences protects every source', () => {
  it('protects the AMI of a stopped instance', () => {
    // Prepare
    const inv = { instances: [{ instanceId: 'i-123', imageId: TARGET, state: 'stopped' }] };

    // Act
    const d = decisionFor(inv);

    // Assess
    expect(d.candidate).toBe(false);
    expect(d.kept).toMatchObject({ reason: 'IN_USE', detail: 'instance i-123 (stopped)' });
    expect(d.candidates).toBe(2);
  });

  it("protects a launch template's $Default version", () => {
    // Prepare
    const inv = {
      launchTemplates: [{ ...LT, defaultVersion: 2, latestVersion: 3 }],
      launchTemplateVersions: versions,
    };

    // Act
    const d = decisionFor(inv);

    // Assess
    expect(d.kept).toMatchObject({ reason: 'IN_USE', detail: 'launch-template lt-0aaa v2 ($Default)' });
    expect(d.candidate).toBe(false);
  });

  it("protects a launch template's $Latest version", () => {
    // Prepare
    const inv = {
      launchTemplates: [{ ...LT, defaultVersion: 1, latestVersion: 2 }],
      launchTemplateVersions: versions,
    };

    // Act
    const refs = findReferences(inventory(inv));
    const d = decisionFor(inv);

    // Assess
    expect(refs.get(TARGET)).toEqual([
      { imageId: TARGET, kind: 'launch-template', source: 'launch-template lt-0aaa v2 ($Latest)' },
    ]);
    expect(d.kept?.reason).toBe('IN_USE');
    // Versions that are neither $Default, $Latest nor named by a group protect nothing.
    expect(refs.has(amiId(3))).toBe(false);
  });

  it('labels a version that is both $Default and $Latest once', () => {
    // Prepare
    const inv = inventory({
      launchTemplates: [{ ...LT, defaultVersion: 2, latestVersion: 2 }],
      launchTemplateVersions: versions,
    });

    // Act
    const refs = findReferences(inv);

    // Assess
    expect(refs.get(TARGET)?.map((r) => r.source)).toEqual([
      'launch-template lt-0aaa v2 ($Default, $Latest)',
    ]);
  });

  it('protects a numbered version named by an Auto Scaling group (resolved by name)', () => {
    // Prepare
    const inv = {
      launchTemplates: [{ ...LT, defaultVersion: 3, latestVersion: 3 }],
      launchTemplateVersions: versions,
      autoScalingGroups: [
        { name: 'web-asg', desiredCapacity: 2, launchTemplate: { launchTemplateName: 'web', version: '2' } },
      ],
    };

    // Act
    const d = decisionFor(inv);

    // Assess
    expect(d.kept?.reason).toBe('IN_USE');
    expect(d.kept?.detail).toBe(
      'launch-template lt-0aaa v2 (auto-scaling-group web-asg); auto-scaling-group web-asg (desired 2) via launch-template lt-0aaa v2',
    );
  });

  it('resolves a missing version as $Default and $Latest as latestVersion', () => {
    // Prepare
    const inv = inventory({
      launchTemplates: [{ ...LT, defaultVersion: 1, latestVersion: 3 }],
      launchTemplateVersions: versions,
      autoScalingGroups: [
        { name: 'a', desiredCapacity: 1, launchTemplate: { launchTemplateId: 'lt-0aaa' } },
        {
          name: 'b',
          desiredCapacity: 1,
          launchTemplate: { launchTemplateId: 'lt-0aaa', version: '$Latest' },
        },
      ],
    });

    // Act
    const refs = findReferences(inv);

    // Assess
    expect(refs.get(amiId(1))?.[0]?.source).toBe(
      'launch-template lt-0aaa v1 ($Default, auto-scaling-group a)',
    );
    expect(refs.get(amiId(3))?.[0]?.source).toBe(
      'launch-template lt-0aaa v3 ($Latest, auto-scaling-group b)',
    );
    expect(refs.has(TARGET)).toBe(false);
  });

  it('protects a MixedInstancesPolicy override template', () => {
    // Prepare
    const other = { launchTemplateId: 'lt-0bbb', launchTemplateName: 'arm' };
    const inv = {
      launchTemplates: [
        { ...LT, defaultVersion: 1, latestVersion: 1 },
        { ...other, defaultVersion: 1, latestVersion: 2 },
      ],
      launchTemplateVersions: [
        { ...LT, versionNumber: 1, imageId: amiId(1) },
        { ...other, versionNumber: 1, imageId: amiId(3) },
        { ...other, versionNumber: 2 },
        { ...other, versionNumber: 5, imageId: TARGET },
      ],
      autoScalingGroups: [
        {
          name: 'mixed',
          desiredCapacity: 0,
          mixedInstancesLaunchTemplate: { launchTemplateId: 'lt-0aaa', version: '$Default' },
          mixedInstancesOverrideTemplates: [{ launchTemplateId: 'lt-0bbb', version: '5' }],
        },
      ],
    };

    // Act
    const d = decisionFor(inv);

    // Assess
    expect(d.kept?.reason).toBe('IN_USE');
    expect(d.kept?.detail).toContain('launch-template lt-0bbb v5 (auto-scaling-group mixed)');
    // A version without an AMI (lt-0bbb v2) references nothing; all three AMIs are protected.
    expect(d.candidates).toBe(0);
  });

  it('protects the AMI of a detached launch configuration', () => {
    // Prepare
    const inv = { launchConfigurations: [{ name: 'old-lc', imageId: TARGET }] };

    // Act
    const d = decisionFor(inv);

    // Assess
    expect(d.kept).toMatchObject({ reason: 'IN_USE', detail: 'launch-configuration old-lc (detached)' });
  });

  it('protects the AMI of a launch configuration behind a group with desired capacity 0', () => {
    // Prepare
    const inv = {
      launchConfigurations: [{ name: 'web-lc', imageId: TARGET }],
      autoScalingGroups: [{ name: 'web-asg', desiredCapacity: 0, launchConfigurationName: 'web-lc' }],
    };

    // Act
    const refs = findReferences(inventory(inv));
    const d = decisionFor(inv);

    // Assess
    expect(refs.get(TARGET)).toEqual([
      {
        imageId: TARGET,
        kind: 'launch-configuration',
        source: 'launch-configuration web-lc (auto-scaling-group web-asg desired 0)',
      },
      {
        imageId: TARGET,
        kind: 'auto-scaling-group',
        source: 'auto-scaling-group web-asg (desired 0) via launch-configuration web-lc',
      },
    ]);
    expect(d.kept?.reason).toBe('IN_USE');
    expect(d.candidate).toBe(false);
  });

  it('protects an AMI named by an SSM parameter', () => {
    // Prepare
    const inv = { ssmParameters: [{ name: '/golden/ami', value: TARGET }] };

    // Act
    const d = decisionFor(inv);

    // Assess
    expect(d.kept).toMatchObject({ reason: 'IN_USE', detail: 'ssm-parameter /golden/ami' });
  });

  it('finds AMI ids inside list values of SSM parameters, and ignores other values', () => {
    // Prepare
    const inv = inventory({
      ssmParameters: [
        { name: '/amis', value: `${amiId(1)},${amiId(3)}` },
        { name: '/other', value: 'not-an-ami-id' },
      ],
    });

    // Act
    const refs = findReferences(inv);

    // Assess
    expect([...refs.keys()].sort()).toEqual([amiId(1), amiId(3)]);
  });
});

describe('findReferences reads Image Builder recipes', () => {
  it('counts a recipe whose parent or build image is one of our AMI ids, by id only', () => {
    // Prepare
    const inv = inventory({
      imageBuilderRecipes: [
        {
          kind: 'image-recipe',
          arn: 'arn:aws:imagebuilder:eu-west-1:1:image-recipe/base/1.0.0',
          baseImage: TARGET,
        },
        {
          kind: 'container-recipe',
          arn: 'arn:aws:imagebuilder:eu-west-1:1:container-recipe/svc/1.0.0',
          baseImage: amiId(3),
        },
        // By ARN or SSM parameter: not resolved to an AMI (documented in DESIGN.md).
        {
          kind: 'image-recipe',
          arn: 'arn:r/2',
          baseImage: 'arn:aws:imagebuilder:eu-west-1:1:image/base/x.x.x',
        },
        { kind: 'image-recipe', arn: 'arn:r/3', baseImage: 'ssm:/golden/ami' },
        { kind: 'container-recipe', arn: 'arn:r/4' },
      ],
    });

    // Act
    const refs = findReferences(inv);

    // Assess
    expect(refs.get(TARGET)).toEqual([
      {
        imageId: TARGET,
        kind: 'image-builder-recipe',
        source: 'image-recipe arn:aws:imagebuilder:eu-west-1:1:image-recipe/base/1.0.0',
      },
    ]);
    expect(refs.get(amiId(3))?.map((r) => r.source)).toEqual([
      'container-recipe arn:aws:imagebuilder:eu-west-1:1:container-recipe/svc/1.0.0',
    ]);
    expect(refs.size).toBe(2);
    expect(decisionFor({ imageBuilderRecipes: inv.imageBuilderRecipes }).kept?.reason).toBe('IN_USE');
  });
});

describe('findReferences fails closed', () => {
  it('throws when a group names a template the inventory does not hold', () => {
    // Prepare
    const inv = inventory({
      autoScalingGroups: [
        { name: 'web', desiredCapacity: 1, launchTemplate: { launchTemplateId: 'lt-0zzz' } },
      ],
    });

    // Act
    const act = () => findReferences(inv);

    // Assess
    expect(act).toThrow(UnresolvedReferenceError);
    expect(act).toThrow(/lt-0zzz/);
  });

  it('throws when a group names a version the inventory does not hold', () => {
    // Prepare
    const inv = inventory({
      launchTemplates: [{ ...LT, defaultVersion: 1, latestVersion: 3 }],
      launchTemplateVersions: versions,
      autoScalingGroups: [
        { name: 'web', desiredCapacity: 1, launchTemplate: { launchTemplateId: 'lt-0aaa', version: '9' } },
      ],
    });

    // Act
    const act = () => findReferences(inv);

    // Assess
    expect(act).toThrow(UnresolvedReferenceError);
  });

  it("throws when a template's $Default version was not read", () => {
    // Prepare
    const inv = inventory({
      launchTemplates: [{ ...LT, defaultVersion: 4, latestVersion: 3 }],
      launchTemplateVersions: versions,
    });

    // Act
    const act = () => findReferences(inv);

    // Assess
    expect(act).toThrow(UnresolvedReferenceError);
  });

  it('throws when a group names a launch configuration the inventory does not hold', () => {
    // Prepare
    const inv = inventory({
      autoScalingGroups: [{ name: 'web', desiredCapacity: 0, launchConfigurationName: 'gone' }],
    });

    // Act
    const act = () => findReferences(inv);

    // Assess
    expect(act).toThrow(UnresolvedReferenceError);
  });

  it('makes buildPlan throw rather than plan without the reference', () => {
    // Prepare
    const inv = inventory({
      images: IMAGES,
      autoScalingGroups: [
        { name: 'web', desiredCapacity: 1, launchTemplate: { launchTemplateName: 'missing' } },
      ],
    });

    // Act
    const act = () =>
      buildPlan({ inventory: inv, settings: settings(), now: NOW, sharedImageIds: new Set() });

    // Assess
    expect(act).toThrow(UnresolvedReferenceError);
    expect(new UnresolvedReferenceError('x').name).toBe('UnresolvedReferenceError');
  });
});
