/**
 * One isolated world per fault case: the rich simulated account (plus enough old AMIs for a run
 * of 10+ candidates) behind real SDK clients, the ledger on dynalite, the run workspace on the
 * simulated S3, every handler wired by the local runner, and the real approval page over HTTP.
 * Every client the product uses (the account's and the ledger's) carries the fault injector.
 *
 * The person at the approval page behaves like one: a 5xx answer makes them press again (up to
 * three times); when they give up, or are told no, the approval simply runs out (`withdraw`, which
 * is what TimeoutSeconds does, without the wait).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { startApprovalServer } from '../../cli/local-runner/approval-server.ts';
import { createLocalStack, type LocalStack } from '../../cli/local-runner/local-stack.ts';
import { type LocalRunResult, runWorkflowLocally } from '../../cli/local-runner/run-workflow.ts';
import { SimulatedAccount } from '../../cli/simulated-account/account.ts';
import { type RichScenario, richScenario } from '../../cli/simulated-account/seeds.ts';
import { createAwsClients, DEFAULT_MAX_ATTEMPTS } from '../../functions/adapters/clients.ts';
import { S3Workspace } from '../../functions/adapters/workspace.ts';
import { DEFAULT_PLAN_SETTINGS } from '../../functions/core/settings.ts';
import { FaultInjector, type InjectableClient } from './injector.ts';

/** Rotate's pass budget in the fault world: the rich scenario's ~12 would-be candidates take 2-3 passes. */
export const ROTATE_CALLS_PER_PASS = 6;

export const SETTINGS = {
  /** The construct's defaults: no orphan sweep. */
  default: {},
  sweep: { settings: { checkOrphans: true } },
} as const;
export type SettingsName = keyof typeof SETTINGS;

/** The scenario's clock: fixed, so every world (reference, probes, cases) plans the same. */
export const WORLD_NOW = new Date('2026-12-01T08:00:00.000Z');
const EXTRA_OLD_IMAGES = 4;
const WORKSPACE_BUCKET = 'ami-cleaner-workspace';

/** What the person at the approval page was last told. */
/** `unconfirmed`: the page said the decision was recorded but the workflow had not confirmed it. */
export type PageVerdict = 'approved' | 'refused' | 'unconfirmed' | 'gave-up' | 'not-asked';

export interface WorldRun {
  readonly runId: string;
  readonly result: LocalRunResult;
  readonly verdict: PageVerdict;
}

export interface World {
  readonly account: SimulatedAccount;
  readonly scenario: RichScenario;
  readonly stack: LocalStack;
  readonly injector: FaultInjector;
  /** Executes the real definition once; closes the run as AWS would if the execution failed. */
  run(executionName: string, settings: SettingsName): Promise<WorldRun>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<World> {
  const injector = new FaultInjector();
  const account = new SimulatedAccount();
  // Every client the account serves (EC2, Auto Scaling, SSM, S3, SNS, SFN, Secrets Manager, and
  // any service added later) also gets the injector: wrap the account's own attach.
  const attachToAccount = account.attach.bind(account);
  account.attach = <C extends Parameters<SimulatedAccount['attach']>[0]>(client: C): C => {
    attachToAccount(client);
    injector.attach(client as unknown as InjectableClient);
    return client;
  };
  const scenario = richScenario(account, { now: WORLD_NOW });
  for (let i = 0; i < EXTRA_OLD_IMAGES; i++) {
    account.addImage({
      name: `front-old${i}`,
      creationDate: `2017-05-${String(10 + i).padStart(2, '0')}T08:00:00.000Z`,
      tags: { environment: i % 2 ? 'prod' : 'dev', role: 'front' },
      volumes: i % 3 === 0 ? [8, 10] : [8],
    });
  }
  const clients = createAwsClients({
    region: account.region,
    credentials: { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated' },
    maxAttempts: DEFAULT_MAX_ATTEMPTS,
  });
  for (const client of Object.values(clients)) account.attach(client);
  const s3 = account.attach(new S3Client({ region: account.region, maxAttempts: DEFAULT_MAX_ATTEMPTS }));
  const workspace = new S3Workspace({ s3, bucket: WORKSPACE_BUCKET });

  const local: LocalLedger = await startLocalLedger();
  injector.attach(local.client as unknown as InjectableClient);
  let stack: LocalStack | undefined;
  const server = await startApprovalServer(() => async (event) => {
    try {
      return await injector.within('ApprovalPage', () => (stack as LocalStack).approvalPage(event));
    } catch {
      // A Function URL answers a crashed or failed invocation with 502.
      return { statusCode: 502, headers: {}, body: 'Internal Server Error' };
    }
  });
  stack = createLocalStack({
    clients,
    region: account.region,
    ledger: local.ledger,
    simulated: account,
    workspace,
    defaultSettings: { ...DEFAULT_PLAN_SETTINGS, ssmParameterPaths: [scenario.ssmParameterPath] },
    approvalTimeoutSeconds: 300,
    approvalBaseUrl: server.baseUrl,
    // A few describe calls a pass, so the probes loop RotateDone? → RotateNextPass and the
    // generator gives rows for both Rotate states.
    rotateCallsPerPass: ROTATE_CALLS_PER_PASS,
    now: () => new Date(),
  });
  const ready = stack;

  return {
    account,
    scenario,
    stack: ready,
    injector,
    async run(executionName, settings) {
      let answering: Promise<PageVerdict> = Promise.resolve('not-asked');
      const result = await runWorkflowLocally(ready, {
        input: SETTINGS[settings],
        executionName,
        retryIntervalMs: 0,
        aroundTask: (state, invoke) => injector.within(state, invoke),
        onApprovalRequested: (request) => {
          answering = (async () => {
            const verdict = await approveAsAPerson(request.link);
            // The approval runs out now unless a decision reached the workflow (a no-op then).
            request.withdraw();
            return verdict;
          })();
        },
      });
      const verdict = await answering;
      // A FAILED run was closed by the runner, as EventBridge would: `result.closed`, `closeErrors`.
      return { runId: executionName, result, verdict };
    },
    async stop() {
      await server.close();
      await local.stop();
    },
  };
}

const MAX_PRESSES = 3;

/**
 * What a page that is not the plan told the person: a link already decided says so ("Already
 * approved" / "Already rejected", with who and when), a decision not yet confirmed is neither
 * approved nor refused, any other 4xx is a refusal.
 */
function verdictOf(status: number, html: string): PageVerdict {
  const title = /<h1>([^<]*)<\/h1>/.exec(html)?.[1];
  if (title === 'Already approved') return 'approved';
  if (title === 'Already rejected') return 'refused';
  if (status === 202) return 'unconfirmed';
  return status < 300 ? 'approved' : 'refused';
}

/** GET the page, POST Approve from its form; press again on a 5xx, give up after three. */
export async function approveAsAPerson(link: string): Promise<PageVerdict> {
  for (let press = 0; press < MAX_PRESSES; press++) {
    const page = await fetch(link);
    const html = await page.text();
    if (page.status >= 500) continue;
    if (page.status !== 200) return verdictOf(page.status, html);
    if (!html.includes('<form')) return 'refused';
    const form = new URLSearchParams();
    for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(match[1] as string, (match[2] as string).replaceAll('&amp;', '&').replaceAll('&quot;', '"'));
    }
    form.set('approver', 'Fault Matrix');
    form.set('decision', 'APPROVE');
    const answer = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const told = await answer.text();
    if (answer.status < 500) return verdictOf(answer.status, told);
  }
  return 'gave-up';
}
