/**
 * Counters for what AWS bills the workflow for, taken from the local run as it happens: state
 * transitions from the execution's events, Lambda invocations and their durations, DynamoDB
 * request units (computed by dynalite, as DynamoDB computes them, from item sizes) and S3
 * requests to the run workspace.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LocalStack } from '../cli/local-runner/local-stack.ts';
import type { StateMachineHandlerId } from '../infra/lib/handlers.ts';
import { APPROVAL_PAGE_MEMORY_SIZE, HANDLER_ACCESS } from '../infra/lib/workflow-functions.ts';
import type { TimedEvent } from './harness.ts';

export interface Usage {
  stateTransitions: number;
  lambdaRequests: number;
  /** Memory (the construct's setting) × duration rounded up to Lambda's 1 ms billing step. */
  lambdaGbSeconds: number;
  dynamoReadUnits: number;
  /** Table writes plus the index writes they cause. */
  dynamoWriteUnits: number;
  dynamoRequests: number;
  s3Puts: number;
  s3Gets: number;
}

export const emptyUsage = (): Usage => ({
  stateTransitions: 0,
  lambdaRequests: 0,
  lambdaGbSeconds: 0,
  dynamoReadUnits: 0,
  dynamoWriteUnits: 0,
  dynamoRequests: 0,
  s3Puts: 0,
  s3Gets: 0,
});

/**
 * Step Functions Standard bills every state entered, retries included. The local runner emits
 * StateEntered once per state and StateRetried per retry (a retry enters no new state).
 */
export function countTransitions(event: TimedEvent, usage: Usage): void {
  if (event.type === 'StateEntered' || event.type === 'StateRetried') usage.stateTransitions += 1;
}

export function gbSeconds(memoryMb: number, ms: number): number {
  return (memoryMb / 1024) * (Math.ceil(ms) / 1000);
}

/** The state machine's invocations, priced at each function's memory in the construct. */
export function countHandlerCalls(
  calls: readonly { readonly handler: string; readonly ms: number }[],
  usage: Usage,
): void {
  for (const call of calls) {
    const access = HANDLER_ACCESS[call.handler as StateMachineHandlerId];
    if (!access) throw new Error(`no memory setting for handler ${call.handler}`);
    usage.lambdaRequests += 1;
    usage.lambdaGbSeconds += gbSeconds(access.memorySize, call.ms);
  }
}

/**
 * The stack with the approval page (a Lambda behind a Function URL: GET the plan, POST the
 * decision) and the workspace (S3 in AWS: one PutObject or GetObject per call) counted.
 */
export function meterStack(stack: LocalStack, usage: Usage): LocalStack {
  const page = stack.approvalPage;
  const approvalPage: LocalStack['approvalPage'] = async (request) => {
    const started = performance.now();
    try {
      return await page(request);
    } finally {
      usage.lambdaRequests += 1;
      usage.lambdaGbSeconds += gbSeconds(APPROVAL_PAGE_MEMORY_SIZE, performance.now() - started);
    }
  };
  // The handlers hold this very workspace object, so counting its methods counts their calls.
  const { workspace } = stack;
  const put = workspace.putJson.bind(workspace);
  const get = workspace.getJson.bind(workspace);
  workspace.putJson = (key, value) => {
    usage.s3Puts += 1;
    return put(key, value);
  };
  workspace.getJson = <T>(key: string) => {
    usage.s3Gets += 1;
    return get<T>(key);
  };
  return { ...stack, approvalPage };
}

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem']);
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

type Json = Record<string, unknown>;

/** `sk` of a key or item, marshalled (`{ S }`) or not. */
function sortKey(record: unknown): string {
  const sk = (record as Json | undefined)?.sk;
  if (typeof sk === 'string') return sk;
  return typeof (sk as Json | undefined)?.S === 'string' ? ((sk as Json).S as string) : '';
}

/**
 * Both indexes project ALL attributes: each write to an AMI item (`by-image`) or a run item
 * (`runs-by-start`) writes its index too, at the same size. Returns the share of written items
 * that are indexed (a batch mixes kinds).
 */
function indexedShare(command: string, input: Json): number {
  const indexed = (sk: string) => sk.startsWith('IMAGE#') || sk === 'RUN';
  if (command !== 'BatchWriteItem') return indexed(sortKey(input.Key ?? input.Item)) ? 1 : 0;
  const requests = Object.values((input.RequestItems ?? {}) as Record<string, Json[]>).flat();
  if (requests.length === 0) return 0;
  const keys = requests.map((r) => sortKey((r.PutRequest as Json)?.Item ?? (r.DeleteRequest as Json)?.Key));
  return keys.filter(indexed).length / keys.length;
}

function capacityUnits(consumed: unknown): number {
  const list = Array.isArray(consumed) ? consumed : consumed ? [consumed] : [];
  return list.reduce(
    (sum: number, c: Json) => sum + (typeof c.CapacityUnits === 'number' ? c.CapacityUnits : 0),
    0,
  );
}

/**
 * Asks every data-plane request for its consumed capacity (dynalite computes it from item sizes,
 * by DynamoDB's rules: 1 KB per write unit, 4 KB per strongly consistent read unit, half for
 * eventually consistent) and adds it up. A conditional write that fails still costs a write unit.
 */
export function meterDynamo(client: DynamoDBClient, usage: () => Usage): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context.commandName ?? '').replace(/Command$/, '');
      const isRead = READS.has(command);
      if (!isRead && !WRITES.has(command)) return next(args);
      const input = args.input as Json;
      input.ReturnConsumedCapacity = 'TOTAL';
      const meter = usage();
      meter.dynamoRequests += 1;
      try {
        const result = await next(args);
        const units = capacityUnits((result.output as unknown as Json).ConsumedCapacity);
        if (isRead) meter.dynamoReadUnits += units;
        else meter.dynamoWriteUnits += units * (1 + indexedShare(command, input));
        return result;
      } catch (error) {
        if ((error as Error).name === 'ConditionalCheckFailedException') meter.dynamoWriteUnits += 1;
        throw error;
      }
    },
    { step: 'initialize', name: 'benchDynamoMeter' },
  );
}
