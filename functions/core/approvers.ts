/**
 * Named approvers and the quorum (issue 10 §2), as plain data. Who approved is the address the
 * personal link was sent to, never a typed name; a quorum counts distinct addresses that approved
 * the same plan hash, and a single rejection ends the approval.
 */
import { visible } from './visible-text.ts';
import type { ApprovalDecision } from './workflow.ts';

/** The SNS message attribute each approver's email subscription filters on (the construct sets the filter). */
export const APPROVER_ATTRIBUTE = 'approver';
/** More personal links than this is a mailing list, not a set of named approvers. */
export const MAX_APPROVERS = 20;
/** User agents are hostile input stored in the audit record: cut, and controls made visible. */
export const MAX_USER_AGENT_LENGTH = 256;
const MAX_ADDRESS_LENGTH = 254;
/** Lower case only: the address is compared, signed and filtered on exactly as written here. */
const ADDRESS = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+$/;
/** IPv4 or IPv6 characters only (the Function URL's requestContext.http.sourceIp). */
const SOURCE_IP = /^[0-9a-fA-F:.]{2,45}$/;

export class ApproversError extends Error {
  override readonly name = 'ApproversError';
}

export function isApproverAddress(value: string): boolean {
  return value.length <= MAX_ADDRESS_LENGTH && ADDRESS.test(value);
}

/**
 * The approvers as given (construct prop, CLI flag, environment), each trimmed and lower-cased;
 * anything else (not a list, empty, too long, a bad or repeated address) throws naming the value.
 */
export function normalizeApprovers(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new ApproversError('approvers must be a non-empty list of email addresses');
  if (value.length > MAX_APPROVERS)
    throw new ApproversError(`approvers lists ${value.length} addresses; at most ${MAX_APPROVERS}`);
  const seen = new Set<string>();
  return value.map((raw) => {
    const address = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    if (!isApproverAddress(address))
      throw new ApproversError(
        `approver ${JSON.stringify(String(raw)).slice(0, 80)} is not an email address`,
      );
    if (seen.has(address)) throw new ApproversError(`approver ${address} is listed twice`);
    seen.add(address);
    return address;
  });
}

/** `requiredApprovals` must be a whole number from 1 to the number of approvers. */
export function checkRequiredApprovals(required: unknown, approvers: readonly string[]): number {
  if (
    typeof required !== 'number' ||
    !Number.isInteger(required) ||
    required < 1 ||
    required > approvers.length
  ) {
    throw new ApproversError(
      `requiredApprovals must be a whole number from 1 to the number of approvers (${approvers.length}), got ${JSON.stringify(required)}`,
    );
  }
  return required;
}

/** Where a decision came from: recorded with it, never trusted for anything. */
export interface DecisionOrigin {
  readonly sourceIp: string;
  readonly userAgent: string;
}

/** The Function URL's view of the POST, made safe to store and show (hostile input). */
export function decisionOrigin(sourceIp: unknown, userAgent: unknown): DecisionOrigin {
  const ip = typeof sourceIp === 'string' && SOURCE_IP.test(sourceIp) ? sourceIp : 'unknown';
  const agent = typeof userAgent === 'string' ? userAgent : '';
  // Controls become visible escapes (a log viewer or terminal cannot be driven by them), then cut.
  const shown = visible(agent);
  const cut = shown.length > MAX_USER_AGENT_LENGTH ? `${shown.slice(0, MAX_USER_AGENT_LENGTH - 1)}…` : shown;
  return { sourceIp: ip, userAgent: cut.length > 0 ? cut : 'none' };
}

/** One approver's decision, as the approval item records it under the approver's address. */
export interface Vote extends DecisionOrigin {
  readonly decision: ApprovalDecision;
  readonly planHash: string;
  /** ISO-8601. */
  readonly decidedAt: string;
  /** The name the person typed: a comment, not an identity. */
  readonly comment: string;
}

export interface Tally {
  /** Addresses (of the listed approvers) that approved this plan hash, in decision order. */
  readonly approvedBy: readonly string[];
  readonly rejectedBy: readonly string[];
  readonly required: number;
  readonly reached: boolean;
}

/**
 * Counts only votes of listed approvers for `planHash`; a vote for another plan hash (a stale
 * page) counts for nothing. One address counts once, whatever the map holds.
 */
export function tallyVotes(
  votes: Readonly<Record<string, Vote>>,
  approvers: readonly string[],
  required: number,
  planHash: string,
): Tally {
  const listed = new Set(approvers);
  const valid = Object.entries(votes)
    .filter(([address, vote]) => listed.has(address) && vote.planHash === planHash)
    .sort(([, a], [, b]) => a.decidedAt.localeCompare(b.decidedAt));
  const approvedBy = valid.filter(([, v]) => v.decision === 'APPROVED').map(([address]) => address);
  const rejectedBy = valid.filter(([, v]) => v.decision === 'REJECTED').map(([address]) => address);
  return {
    approvedBy,
    rejectedBy,
    required,
    reached: rejectedBy.length === 0 && approvedBy.length >= required,
  };
}
