/**
 * What the cleanup itself costs: approved runs drain 1,000 candidate AMIs from a simulated
 * account at the construct's defaults (500 deletions per run, so two runs, each with its full
 * inventory and planning), while every billable request is counted (bench/cost-meters.ts). The
 * counts are priced at AWS list prices and set beside the monthly saving of the same AMIs.
 */
import { Duration } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { baseFunctionProps } from '../infra/lib/function-factory.ts';
import { STATE_MACHINE_HANDLERS } from '../infra/lib/handlers.ts';
import { DEFAULT_MAX_DELETIONS_PER_RUN, DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH } from '../infra/lib/props.ts';
import {
  countHandlerCalls,
  countTransitions,
  emptyUsage,
  meterDynamo,
  meterStack,
  type Usage,
} from './cost-meters.ts';
import { int, printTable, type SummaryRow, seededAccount, withLocalRig } from './harness.ts';

/**
 * us-east-1 on-demand list prices in USD, as AWS's pricing pages state them on 2026-12-01
 * (aws.amazon.com/step-functions/pricing, /lambda/pricing, /dynamodb/pricing/on-demand,
 * /s3/pricing). Free tiers are left out: they would hide the cost at any scale.
 */
export const LIST_PRICES = {
  date: '2026-12-01',
  /** Standard workflows, per state transition ($0.025 per 1,000). */
  stepFunctionsTransition: 0.025 / 1000,
  /** Per request ($0.20 per 1M), either architecture. */
  lambdaRequest: 0.2 / 1_000_000,
  lambdaGbSecondX86: 0.0000166667,
  lambdaGbSecondArm64: 0.0000133334,
  /** On-demand, per write request unit ($0.625 per 1M) and read request unit ($0.125 per 1M). */
  dynamoWriteUnit: 0.625 / 1_000_000,
  dynamoReadUnit: 0.125 / 1_000_000,
  /** S3 Standard: PUT ($0.005 per 1,000) and GET ($0.0004 per 1,000) requests. */
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
} as const;

/** 20 groups of 55: each keeps its 4 newest and its in-use one, so 20 × 50 = 1,000 candidates. */
const GROUPS = 20;
const PER_GROUP = 55;
const CANDIDATES = GROUPS * (PER_GROUP - 5);
const MAX_RUNS = 4;
const FINALIZE = STATE_MACHINE_HANDLERS.find(
  (spec) => spec.id === 'Finalize',
) as (typeof STATE_MACHINE_HANDLERS)[number];

/** The construct's functions run on this architecture; its GB-second price applies. */
function gbSecondPrice(): { price: number; architecture: string } {
  const probe = baseFunctionProps({
    handler: FINALIZE,
    environment: {},
    timeout: Duration.seconds(1),
    memorySize: 128,
    logGroup: undefined as never,
  });
  const arm = probe.architecture === lambda.Architecture.ARM_64;
  return arm
    ? { price: LIST_PRICES.lambdaGbSecondArm64, architecture: 'arm64' }
    : { price: LIST_PRICES.lambdaGbSecondX86, architecture: 'x86_64' };
}

interface Priced {
  readonly component: string;
  readonly count: number;
  readonly unit: string;
  readonly usd: number;
}

export function priceUsage(usage: Usage): Priced[] {
  const gbs = gbSecondPrice();
  return [
    {
      component: 'Step Functions state transitions',
      count: usage.stateTransitions,
      unit: '$0.025 / 1,000',
      usd: usage.stateTransitions * LIST_PRICES.stepFunctionsTransition,
    },
    {
      component: 'Lambda requests',
      count: usage.lambdaRequests,
      unit: '$0.20 / 1M',
      usd: usage.lambdaRequests * LIST_PRICES.lambdaRequest,
    },
    {
      component: `Lambda GB-seconds (${gbs.architecture}, measured here)`,
      count: usage.lambdaGbSeconds,
      unit: `$${gbs.price} / GB-s`,
      usd: usage.lambdaGbSeconds * gbs.price,
    },
    {
      component: `DynamoDB write request units (${int(usage.dynamoRequests)} requests in all)`,
      count: usage.dynamoWriteUnits,
      unit: '$0.625 / 1M',
      usd: usage.dynamoWriteUnits * LIST_PRICES.dynamoWriteUnit,
    },
    {
      component: 'DynamoDB read request units',
      count: usage.dynamoReadUnits,
      unit: '$0.125 / 1M',
      usd: usage.dynamoReadUnits * LIST_PRICES.dynamoReadUnit,
    },
    {
      component: 'S3 PUT requests',
      count: usage.s3Puts,
      unit: '$0.005 / 1,000',
      usd: usage.s3Puts * LIST_PRICES.s3Put,
    },
    {
      component: 'S3 GET requests',
      count: usage.s3Gets,
      unit: '$0.0004 / 1,000',
      usd: usage.s3Gets * LIST_PRICES.s3Get,
    },
  ];
}

const usd = (value: number): string =>
  `$${value < 0.01 ? value.toFixed(6) : value < 1 ? value.toFixed(4) : value.toFixed(2)}`;

export async function runCost(): Promise<SummaryRow[]> {
  const bench = seededAccount({ images: GROUPS * PER_GROUP, groups: GROUPS, seed: 'cost' });
  const usage = emptyUsage();
  const runs: { runId: string; status: string; deregistered: number; gibFreed: number; saving: number }[] =
    [];
  await withLocalRig(async (rig) => {
    meterDynamo(rig.ledgerClient, () => usage);
    let removed = 0;
    while (removed < CANDIDATES && runs.length < MAX_RUNS) {
      const outcome = await rig.run({
        bench,
        approve: true,
        maxDeletionsPerRun: DEFAULT_MAX_DELETIONS_PER_RUN,
        onEvent: (event) => countTransitions(event, usage),
        wrapStack: (stack) => meterStack(stack, usage),
      });
      countHandlerCalls(outcome.handlerCalls, usage);
      const summary = outcome.result.output as
        | { status: string; deregistered?: number; gibFreed?: number; estimatedMonthlySavingUsd?: number }
        | undefined;
      const deregistered = summary?.deregistered ?? 0;
      runs.push({
        runId: outcome.result.executionName,
        status: summary?.status ?? outcome.result.status,
        deregistered,
        gibFreed: summary?.gibFreed ?? 0,
        saving: summary?.estimatedMonthlySavingUsd ?? 0,
      });
      if (deregistered === 0) break;
      removed += deregistered;
    }
  });

  const amis = runs.reduce((sum, run) => sum + run.deregistered, 0);
  const gib = runs.reduce((sum, run) => sum + run.gibFreed, 0);
  const saving = runs.reduce((sum, run) => sum + run.saving, 0);
  const priced = priceUsage(usage);
  const total = priced.reduce((sum, p) => sum + p.usd, 0);
  const per1000 = (value: number) => (amis === 0 ? Number.NaN : (value / amis) * 1000);

  printTable(
    `Runs (approved, ${DEFAULT_MAX_DELETIONS_PER_RUN} deletions per run, ${GROUPS * PER_GROUP} AMIs in the account)`,
    runs.map((run) => ({
      run: run.runId,
      status: run.status,
      'AMIs deregistered': run.deregistered,
      'GiB freed': run.gibFreed,
      'saving $/month': run.saving.toFixed(2),
    })),
  );
  printTable(`What the cleanup of ${int(amis)} AMIs cost, at us-east-1 list prices of ${LIST_PRICES.date}`, [
    ...priced.map((p) => ({
      component: p.component,
      count: Number.isInteger(p.count) ? int(p.count) : p.count.toFixed(1),
      price: p.unit,
      cost: usd(p.usd),
      'per 1,000 AMIs': usd(per1000(p.usd)),
    })),
    { component: 'Total', count: '', price: '', cost: usd(total), 'per 1,000 AMIs': usd(per1000(total)) },
  ]);
  const stepFunctions = priced[0]?.usd ?? 0;
  const lambdaDuration = priced[2]?.usd ?? 0;
  console.log(
    `\n  Per 1,000 AMIs cleaned: ${usd(per1000(total))} once, against ${usd(per1000(saving))} a month saved ` +
      `(${(per1000(gib) / 1).toFixed(0)} GiB of snapshots at $${DEFAULT_SNAPSHOT_PRICE_PER_GIB_MONTH}/GiB-month, an upper bound).` +
      `\n  Lambda durations here are local (AWS calls answer in microseconds); Lambda duration would have to be ` +
      `${(stepFunctions / Math.max(lambdaDuration, Number.EPSILON)).toFixed(0)}× longer to cost what the state transitions do.`,
  );
  return [
    {
      bench: 'cost',
      case: `${int(amis)} AMIs in ${runs.length} approved runs`,
      figure:
        `${usd(per1000(total))} per 1,000 AMIs cleaned (Step Functions ${usd(per1000(stepFunctions))}) vs ` +
        `${usd(per1000(saving))}/month saved; ${int(per1000(usage.stateTransitions))} transitions, ` +
        `${int(per1000(usage.lambdaRequests))} invocations per 1,000`,
    },
  ];
}
