/**
 * Least privilege on the ledger: each function gets only the DynamoDB actions that the ledger
 * methods its handler calls send, on only the key spaces those methods touch
 * (`dynamodb:LeadingKeys`). Two tables of plain data, each checked by a test:
 * - LEDGER_METHOD_ACCESS, against the requests each method really sends (recorded on dynalite);
 * - HANDLER_LEDGER_METHODS, against the `ledger.<method>(` calls in each handler's code.
 */
import type { LEDGER_INDEXES } from './data-layer.ts';

export type LedgerAction =
  | 'dynamodb:GetItem'
  | 'dynamodb:PutItem'
  | 'dynamodb:UpdateItem'
  | 'dynamodb:DeleteItem'
  | 'dynamodb:Query'
  | 'dynamodb:BatchWriteItem';

/** Partition key prefixes (docs/DESIGN.md, "Ledger"). */
export type LedgerKeySpace = 'RUN#' | 'APPROVAL#' | 'LOCK#' | 'INTENT#' | 'LTREAD#';
type IndexName = (typeof LEDGER_INDEXES)[keyof typeof LEDGER_INDEXES]['indexName'];

export type LedgerRequest =
  | { readonly action: LedgerAction; readonly keySpace: LedgerKeySpace }
  | { readonly action: 'dynamodb:Query'; readonly index: IndexName };

const on = (keySpace: LedgerKeySpace, ...actions: LedgerAction[]): LedgerRequest[] =>
  actions.map((action) => ({ action, keySpace }));

// A condition that fails is read back: a repeat of a move already made counts as done.
const TRANSITION = on('RUN#', 'dynamodb:UpdateItem', 'dynamodb:GetItem');
const GET_RUN = on('RUN#', 'dynamodb:GetItem');
const LIST_ITEMS = on('RUN#', 'dynamodb:Query');

/** What each public method of the `Ledger` facade sends (composite methods: what they call). */
export const LEDGER_METHOD_ACCESS = {
  acquireLock: on('LOCK#', 'dynamodb:PutItem'),
  releaseLock: on('LOCK#', 'dynamodb:DeleteItem'),
  getLock: on('LOCK#', 'dynamodb:GetItem'),
  putRun: on('RUN#', 'dynamodb:UpdateItem'),
  updateRun: on('RUN#', 'dynamodb:UpdateItem'),
  getRun: GET_RUN,
  listRuns: [{ action: 'dynamodb:Query', index: 'runs-by-start' }],
  recordPlan: [...GET_RUN, ...LIST_ITEMS, ...on('RUN#', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem')],
  getItem: on('RUN#', 'dynamodb:GetItem'),
  listItems: LIST_ITEMS,
  itemsByImage: [{ action: 'dynamodb:Query', index: 'by-image' }],
  transition: TRANSITION,
  markAllApproved: [...LIST_ITEMS, ...TRANSITION],
  finalizeItems: [...LIST_ITEMS, ...TRANSITION],
  putApproval: on('APPROVAL#', 'dynamodb:PutItem'),
  getApproval: on('APPROVAL#', 'dynamodb:GetItem'),
  useApproval: on('APPROVAL#', 'dynamodb:UpdateItem'),
  reopenApproval: on('APPROVAL#', 'dynamodb:UpdateItem'),
  expireApproval: on('APPROVAL#', 'dynamodb:UpdateItem'),
  settleApproval: on('APPROVAL#', 'dynamodb:UpdateItem'),
  forgetTaskToken: on('APPROVAL#', 'dynamodb:UpdateItem'),
  // Reads the votes (never the token), then one conditional UpdateItem per attempt.
  castVote: on('APPROVAL#', 'dynamodb:GetItem', 'dynamodb:UpdateItem'),
  reopenVote: on('APPROVAL#', 'dynamodb:UpdateItem'),
  recordDeregistrationIntent: on('INTENT#', 'dynamodb:PutItem'),
  clearDeregistrationIntent: on('INTENT#', 'dynamodb:DeleteItem'),
  listDeregistrationIntents: on('INTENT#', 'dynamodb:Query'),
  getLaunchTemplateRead: on('LTREAD#', 'dynamodb:GetItem'),
  recordLaunchTemplateRead: on('LTREAD#', 'dynamodb:PutItem'),
} as const satisfies Readonly<Record<string, readonly LedgerRequest[]>>;

export type LedgerMethod = keyof typeof LEDGER_METHOD_ACCESS;

/** The ledger methods each function's handler calls (its own file and the handler code it imports). */
export const HANDLER_LEDGER_METHODS = {
  // Reads the target run this phase continues, and checks it still holds its lock.
  ResumeTargetRun: ['getRun', 'getLock'],
  AcquireLock: ['putRun', 'acquireLock', 'updateRun'],
  FinishEarlierRuns: [
    'listDeregistrationIntents',
    'clearDeregistrationIntent',
    'getItem',
    'getLock',
    'transition',
    // The earlier run's approved set is verified by content before anything of it is deleted.
    'getRun',
    'getApproval',
    'listItems',
  ],
  Inventory: [],
  MapGroups: [],
  FilterInUse: [],
  Rotate: [],
  RecordPlan: ['recordPlan', 'updateRun'],
  RequestApproval: ['getRun', 'putApproval', 'updateRun'],
  LoadApproved: ['getApproval', 'getRun', 'listItems', 'transition', 'updateRun'],
  LoadBatch: [],
  // getRun: the run's target (which account to act in, which lock fences it) is in its record.
  // The launch-template read: reused when a few seconds old, else read and recorded; the run's own
  // and, for a shared AMI, each consumer's (`LTREAD#<consumer account>-<region>`, same key space).
  DeregisterImage: [
    'getItem',
    'transition',
    'getLock',
    'recordDeregistrationIntent',
    'getRun',
    'getLaunchTemplateRead',
    'recordLaunchTemplateRead',
  ],
  DeleteImageSnapshots: ['getItem', 'transition', 'getLock', 'clearDeregistrationIntent', 'getRun'],
  DeleteOrphanSnapshot: ['getItem', 'transition', 'getLock', 'getRun'],
  RecordFailure: ['transition'],
  // getApproval: the approval latency metric.
  Finalize: [
    'finalizeItems',
    'listItems',
    'getRun',
    'expireApproval',
    'forgetTaskToken',
    'updateRun',
    'getApproval',
  ],
  // getRun: only when `$.run` cannot say its lock key (just a run id).
  ReleaseLock: ['releaseLock', 'getRun'],
  // The public page: reads the run (it renders the workspace plan it verifies), changes approvals only.
  ApprovalPage: [
    'getApproval',
    'getRun',
    'useApproval',
    'settleApproval',
    'reopenApproval',
    'expireApproval',
    'castVote',
    'reopenVote',
  ],
  // The organization run's own functions (only with `targets`). The parent records its run;
  // each target run takes its own lock in its plan child.
  // putRun, then updateRun with the target keys close-abandoned-run uses to close the target runs.
  ResolveTargets: ['putRun', 'updateRun'],
  CollectReferences: [],
  CombinePlans: ['getRun', 'updateRun'],
  // Settles the parent's approval as Finalize does (expired/withdrawn, or its token forgotten), and
  // closes (Finalize's own code) and unlocks a target run whose phase child never started.
  FinalizeOrganizationRun: [
    'getRun',
    'getApproval',
    'updateRun',
    'expireApproval',
    'forgetTaskToken',
    'finalizeItems',
    'listItems',
    'releaseLock',
  ],
  StartExecution: [],
  CloseAbandonedRun: [
    'getRun',
    'finalizeItems',
    'listItems',
    'expireApproval',
    'forgetTaskToken',
    'updateRun',
    'releaseLock',
    'getApproval',
  ],
} as const satisfies Readonly<Record<string, readonly LedgerMethod[]>>;

export type LedgerUser = keyof typeof HANDLER_LEDGER_METHODS;

/** Every request a set of methods may send, de-duplicated. */
export function requestsOf(methods: readonly LedgerMethod[]): LedgerRequest[] {
  const seen = new Map<string, LedgerRequest>();
  for (const method of methods) {
    for (const request of LEDGER_METHOD_ACCESS[method]) {
      seen.set(`${request.action} ${'index' in request ? request.index : request.keySpace}`, request);
    }
  }
  return [...seen.values()];
}
