/**
 * Which account and region a run works on, and so which lock it takes. An organization run
 * carries its `target`; any other run works on the hub's own account (the account field of its
 * execution ARN, which Step Functions sets and no input can change) in the hub's region. The lock
 * key is that target's key for every run, so two accounts sharing one ledger never lock each
 * other out, and a target run of the hub's own account and region excludes a single-target run.
 */
import { type Target, target } from './target.ts';
import type { RunContext } from './workflow.ts';

/** `arn:<partition>:states:<region>:<account>:execution:<state machine>:<name>`. */
const EXECUTION_ARN = /^arn:[a-z-]{2,20}:states:[a-z0-9-]{1,30}:([0-9]{12}):execution:[^:\s]+:[^:\s]+$/;

/** The run's account and region cannot be told (a malformed execution ARN or target): nothing is done. */
export class RunTargetError extends Error {
  override readonly name = 'RunTargetError';
}

export function isExecutionArn(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 2048 && EXECUTION_ARN.test(value);
}

/** The account an execution runs in: the hub's own account. */
export function executionAccountId(executionArn: string | undefined): string {
  const account = isExecutionArn(executionArn) ? EXECUTION_ARN.exec(executionArn)?.[1] : undefined;
  if (account === undefined) throw new RunTargetError('the execution ARN names no account');
  return account;
}

/** What a run needs to say where it works (no execution ARN: only a run with a target can). */
export type RunPlace = Pick<RunContext, 'target'> & { readonly executionArn?: string };

/** The account and region the run works on: `run.target`, else the hub's own account in `hub.region`. */
export function runTarget(run: RunPlace, hub: { readonly region: string }): Target {
  try {
    if (run.target !== undefined) return target(run.target.accountId, run.target.region);
    return target(executionAccountId(run.executionArn), hub.region);
  } catch (error) {
    if (error instanceof RunTargetError) throw error;
    throw new RunTargetError(`the run's target is not valid: ${(error as Error).message}`, { cause: error });
  }
}

/** The ledger lock (`LOCK#<key>`) and intent partition of a run: its target's key. */
export function lockKeyOf(run: RunPlace, hub: { readonly region: string }): string {
  return runTarget(run, hub).key;
}
