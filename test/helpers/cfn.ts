/** Reading synthesized CloudFormation in tests: intrinsics rendered to plain values, cdk-nag findings. */
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

// biome-ignore lint/suspicious/noExplicitAny: these helpers walk CloudFormation JSON.
export type Json = Record<string, any>;

/**
 * Renders `Fn::Join` and `Ref` (from `refs`; an unknown Ref throws, so a test names every value it
 * relies on), and `Fn::GetAtt` as `<Logical.Attr>`, so assertions read like real policies.
 */
export function render(value: unknown, refs: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((v) => render(v, refs));
  if (typeof value !== 'object' || value === null) return value;
  const v = value as Json;
  if (v['Fn::Join'])
    return (v['Fn::Join'][1] as unknown[]).map((part) => render(part, refs)).join(v['Fn::Join'][0]);
  if (v.Ref !== undefined) {
    if (!(v.Ref in refs)) throw new Error(`unexpected Ref ${v.Ref}`);
    return refs[v.Ref];
  }
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'].join('.')}>`;
  return Object.fromEntries(Object.entries(v).map(([key, inner]) => [key, render(inner, refs)]));
}

/** cdk-nag AwsSolutions findings left unacknowledged under `scope`, as `rule at path`. */
export function violations(scope: IConstruct): string[] {
  return new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
}

/** The resources of `type`, by logical id. */
export function resourcesOfType(template: Json, type: string): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(template.Resources as Record<string, Json>).filter(([, r]) => r.Type === type),
  );
}
