/**
 * In-use detection: resolve every raw reference the inventory read (instances, launch template
 * versions, launch configurations, Auto Scaling groups, SSM parameters, Image Builder recipes) to
 * the AMIs it names.
 * Anything that cannot be resolved throws: an unknown reference is never read as "unused".
 */
import type {
  AutoScalingGroupRecord,
  ImageReference,
  Inventory,
  LaunchTemplateSpec,
  LaunchTemplateVersionRecord,
  ReferenceKind,
} from './model.ts';

/** A reference (template, version, launch configuration) the inventory does not hold. Fails the run. */
export class UnresolvedReferenceError extends Error {
  override readonly name = 'UnresolvedReferenceError';
}

export type ReferenceInventory = Pick<
  Inventory,
  | 'instances'
  | 'launchTemplates'
  | 'launchTemplateVersions'
  | 'launchConfigurations'
  | 'autoScalingGroups'
  | 'ssmParameters'
  | 'imageBuilderRecipes'
>;

// Also finds ids inside StringList or JSON values: a false "in use" only keeps an AMI longer.
const AMI_ID_IN_TEXT = /\bami-[0-9a-f]{8,17}\b/g;

/** Every AMI referenced anywhere, with its sources sorted by kind then text. */
export function findReferences(inventory: ReferenceInventory): Map<string, ImageReference[]> {
  const refs = new Map<string, ImageReference[]>();
  const add = (imageId: string, kind: ReferenceKind, source: string): void => {
    const list = refs.get(imageId) ?? [];
    if (!list.some((r) => r.kind === kind && r.source === source)) list.push({ imageId, kind, source });
    refs.set(imageId, list);
  };

  for (const i of inventory.instances) add(i.imageId, 'instance', `instance ${i.instanceId} (${i.state})`);

  // Launch template versions, each with every label that makes it used ($Default, $Latest, ASGs).
  const versions = new Map<string, { record: LaunchTemplateVersionRecord; labels: string[] }>();
  const useVersion = (record: LaunchTemplateVersionRecord, label: string): void => {
    const key = `${record.launchTemplateId}#${record.versionNumber}`;
    const entry = versions.get(key) ?? { record, labels: [] };
    if (!entry.labels.includes(label)) entry.labels.push(label);
    versions.set(key, entry);
  };
  const findVersion = (id: string, version: number, what: string): LaunchTemplateVersionRecord => {
    const record = inventory.launchTemplateVersions.find(
      (v) => v.launchTemplateId === id && v.versionNumber === version,
    );
    if (!record)
      throw new UnresolvedReferenceError(
        `${what}: launch template ${id} version ${version} not in inventory`,
      );
    return record;
  };

  for (const t of inventory.launchTemplates) {
    useVersion(findVersion(t.launchTemplateId, t.defaultVersion, 'template default'), '$Default');
    useVersion(findVersion(t.launchTemplateId, t.latestVersion, 'template latest'), '$Latest');
  }

  const resolveSpec = (
    spec: LaunchTemplateSpec,
    asg: AutoScalingGroupRecord,
  ): LaunchTemplateVersionRecord => {
    const what = `auto-scaling-group ${asg.name}`;
    const named = spec.launchTemplateId ?? spec.launchTemplateName;
    if (named === undefined)
      throw new UnresolvedReferenceError(`${what}: launch template without id or name`);
    const matches = (r: { launchTemplateId: string; launchTemplateName: string }): boolean =>
      spec.launchTemplateId !== undefined
        ? r.launchTemplateId === spec.launchTemplateId
        : r.launchTemplateName === spec.launchTemplateName;
    const template = inventory.launchTemplates.find(matches);
    const version = spec.version ?? '$Default';
    if (version === '$Default' || version === '$Latest') {
      if (!template) throw new UnresolvedReferenceError(`${what}: launch template ${named} not in inventory`);
      const n = version === '$Default' ? template.defaultVersion : template.latestVersion;
      return findVersion(template.launchTemplateId, n, what);
    }
    if (!/^[1-9][0-9]*$/.test(version)) {
      throw new UnresolvedReferenceError(
        `${what}: launch template ${named} version "${version}" is not understood`,
      );
    }
    const n = Number(version);
    const record = inventory.launchTemplateVersions.find((v) => matches(v) && v.versionNumber === n);
    if (!record)
      throw new UnresolvedReferenceError(`${what}: launch template ${named} version ${n} not in inventory`);
    return record;
  };

  const lcUsers = new Map<string, AutoScalingGroupRecord[]>();
  for (const asg of inventory.autoScalingGroups) {
    const asgLabel = `auto-scaling-group ${asg.name}`;
    const asgSource = `${asgLabel} (desired ${asg.desiredCapacity})`;
    const specs = [
      asg.launchTemplate,
      asg.mixedInstancesLaunchTemplate,
      ...(asg.mixedInstancesOverrideTemplates ?? []),
    ].filter((s): s is LaunchTemplateSpec => s !== undefined);
    for (const spec of specs) {
      const record = resolveSpec(spec, asg);
      useVersion(record, asgLabel);
      if (record.imageId) {
        add(
          record.imageId,
          'auto-scaling-group',
          `${asgSource} via launch-template ${record.launchTemplateId} v${record.versionNumber}`,
        );
      }
    }
    if (asg.launchConfigurationName !== undefined) {
      const lc = inventory.launchConfigurations.find((c) => c.name === asg.launchConfigurationName);
      if (!lc) {
        throw new UnresolvedReferenceError(
          `auto-scaling-group ${asg.name}: launch configuration ${asg.launchConfigurationName} not in inventory`,
        );
      }
      lcUsers.set(lc.name, [...(lcUsers.get(lc.name) ?? []), asg]);
      add(lc.imageId, 'auto-scaling-group', `${asgSource} via launch-configuration ${lc.name}`);
    }
  }

  for (const { record, labels } of versions.values()) {
    if (record.imageId === undefined) continue;
    add(
      record.imageId,
      'launch-template',
      `launch-template ${record.launchTemplateId} v${record.versionNumber} (${labels.join(', ')})`,
    );
  }

  // Every launch configuration counts, attached or not: a detached one can be attached again.
  for (const lc of inventory.launchConfigurations) {
    const users = lcUsers.get(lc.name) ?? [];
    const by =
      users.length === 0
        ? 'detached'
        : users.map((a) => `auto-scaling-group ${a.name} desired ${a.desiredCapacity}`).join(', ');
    add(lc.imageId, 'launch-configuration', `launch-configuration ${lc.name} (${by})`);
  }

  for (const p of inventory.ssmParameters) {
    for (const imageId of p.value.match(AMI_ID_IN_TEXT) ?? [])
      add(imageId, 'ssm-parameter', `ssm-parameter ${p.name}`);
  }

  // Only an AMI id as the base counts (by id); an image ARN or `ssm:` base is not resolved here.
  for (const r of inventory.imageBuilderRecipes) {
    for (const imageId of r.baseImage?.match(AMI_ID_IN_TEXT) ?? [])
      add(imageId, 'image-builder-recipe', `${r.kind} ${r.arn}`);
  }

  const kindOrder: readonly ReferenceKind[] = [
    'instance',
    'launch-template',
    'launch-configuration',
    'auto-scaling-group',
    'ssm-parameter',
    'image-builder-recipe',
  ];
  for (const list of refs.values()) {
    list.sort(
      (a, b) =>
        kindOrder.indexOf(a.kind) - kindOrder.indexOf(b.kind) ||
        (a.source < b.source ? -1 : a.source > b.source ? 1 : 0),
    );
  }
  return refs;
}
