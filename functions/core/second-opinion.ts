/**
 * A second, independent opinion on "in use": EC2's own DescribeImageReferences answer, next to
 * the references our inventory resolved (`in-use.ts`). An AMI may be deleted only if both say it
 * is unused; where they disagree, it is kept and both answers are recorded, so a person can see
 * which source our inventory missed (or where AWS is stricter, e.g. older template versions).
 */
import type {
  AwsImageReference,
  ImageReference,
  KeptImage,
  PlanCandidate,
  PlanGroup,
  ReferenceAnswers,
} from './model.ts';
import { compareNewestFirst } from './rotation.ts';

/** How one AWS entry reads in a detail, the ledger and the CLI: `<resource type> <arn>`. */
export function awsReferenceSource(ref: AwsImageReference): string {
  return `${ref.resourceType} ${ref.arn}`;
}

/** AMI id -> AWS's sources for it, sorted and without repeats. */
export function awsSourcesByImage(refs: readonly AwsImageReference[]): Map<string, string[]> {
  const byImage = new Map<string, Set<string>>();
  for (const ref of refs) {
    const set = byImage.get(ref.imageId) ?? new Set<string>();
    set.add(awsReferenceSource(ref));
    byImage.set(ref.imageId, set);
  }
  return new Map([...byImage].map(([id, set]) => [id, [...set].sort()]));
}

const listed = (sources: readonly string[]): string => (sources.length === 0 ? 'none' : sources.join(', '));

/** Both answers in one line, for a person: `our inventory: none; AWS DescribeImageReferences: …`. */
export function describeAnswers(answers: ReferenceAnswers): string {
  return `our inventory: ${listed(answers.inventory)}; AWS DescribeImageReferences: ${listed(answers.aws)}`;
}

function keptByAws(candidate: PlanCandidate, aws: readonly string[]): KeptImage {
  const referenceAnswers: ReferenceAnswers = { inventory: [], aws };
  return {
    imageId: candidate.imageId,
    name: candidate.name,
    creationDate: candidate.creationDate,
    group: candidate.group,
    reason: 'AWS_REPORTS_IN_USE',
    detail: describeAnswers(referenceAnswers),
    referenceAnswers,
  };
}

/**
 * Planning: every candidate (all of which our inventory found unused) that AWS reports in use
 * leaves the candidates and is kept as AWS_REPORTS_IN_USE with both answers. `awsReferences` must
 * be AWS's complete answer for every candidate (the adapter fails closed otherwise).
 */
export function keepAwsReferenced(
  groups: readonly PlanGroup[],
  awsReferences: readonly AwsImageReference[],
): PlanGroup[] {
  const aws = awsSourcesByImage(awsReferences);
  return groups.map((group) => {
    const moved = group.candidates.filter((c) => aws.has(c.imageId));
    if (moved.length === 0) return group;
    return {
      name: group.name,
      candidates: group.candidates.filter((c) => !aws.has(c.imageId)),
      kept: [...group.kept, ...moved.map((c) => keptByAws(c, aws.get(c.imageId) ?? []))].sort(
        compareNewestFirst,
      ),
    };
  });
}

/**
 * Approval time: for each of `imageIds`, both answers, for the AMIs at least one of them reports
 * in use (an AMI both call unused is absent from the result and may be deleted).
 */
export function referencedByEither(
  imageIds: readonly string[],
  inventoryReferences: ReadonlyMap<string, readonly ImageReference[]>,
  awsReferences: readonly AwsImageReference[],
): Map<string, ReferenceAnswers> {
  const aws = awsSourcesByImage(awsReferences);
  const result = new Map<string, ReferenceAnswers>();
  for (const imageId of imageIds) {
    const answers: ReferenceAnswers = {
      inventory: (inventoryReferences.get(imageId) ?? []).map((r) => r.source),
      aws: aws.get(imageId) ?? [],
    };
    if (answers.inventory.length > 0 || answers.aws.length > 0) result.set(imageId, answers);
  }
  return result;
}
