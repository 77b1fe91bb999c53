/**
 * `amicleaner restore --run ID [--ami ID …] [--dry-run]`: restores a run's deletions from the EC2
 * Recycle Bin (`functions/adapters/restore.ts` decides and acts), records RESTORED in the ledger
 * and says, item by item, what could not be restored and why. Loaded on first use.
 *
 * Exit codes as the other commands: 0 everything asked for is back (or, with `--dry-run`, could
 * be); 1 something deleted could not be restored (retention passed, not retained, not found, a
 * restore call failed) or the run cannot be restored now (still running, lock held); 2 bad input
 * (unknown run, an `--ami` not in the run, another region) or an unreadable account or ledger.
 */
import type { Ledger } from '../../functions/adapters/ledger/index.ts';
import {
  type RestoreItemResult,
  RestoreRefusedError,
  type RestoreReport,
  restoreRun,
} from '../../functions/adapters/restore.ts';
import type { CliDeps } from '../deps.ts';
import type { AccountEnvironment } from '../environment.ts';
import {
  AccountUnreachableError,
  ledgerUnavailable,
  RunNotCompletedError,
  UnknownRunError,
} from '../errors.ts';
import type { CliIo } from '../io.ts';
import { openLedger } from '../ledger-location.ts';
import { tableIo } from '../options.ts';
import { table } from '../report.ts';

export interface RestoreFlags {
  readonly run: string;
  readonly ami?: string[];
  readonly dryRun: boolean;
  readonly region?: string;
  readonly ledgerTable?: string;
  readonly json: boolean;
  readonly wide: boolean;
}

/** Refusals that mean nothing was lost: not an error. */
const HARMLESS = new Set(['already-restored', 'not-deleted']);

export async function runRestoreCommand(flags: RestoreFlags, io: CliIo, deps: CliDeps): Promise<void> {
  const env = await deps.awsEnvironment(flags.region);
  const opened = await (deps.openLedger ?? openLedger)({
    tableName: flags.ledgerTable,
    region: flags.region,
    create: false,
  });
  try {
    await restoreAndReport(tableIo(io, flags), env, opened.ledger, opened.where, {
      runId: flags.run,
      ...(flags.ami ? { imageIds: flags.ami } : {}),
      dryRun: flags.dryRun,
      json: flags.json,
    });
  } finally {
    await opened.close();
  }
}

/** Shared with `demo --restore`, which restores on the same in-process simulated account. */
export async function restoreAndReport(
  io: CliIo,
  env: AccountEnvironment,
  ledger: Ledger,
  where: string,
  request: { runId: string; imageIds?: readonly string[]; dryRun: boolean; json: boolean },
): Promise<RestoreReport> {
  let report: RestoreReport;
  try {
    report = await restoreRun(
      { ledger, ec2: env.clients.ec2, region: env.region, now: () => new Date() },
      {
        runId: request.runId,
        dryRun: request.dryRun,
        ...(request.imageIds ? { imageIds: request.imageIds } : {}),
      },
    );
  } catch (error) {
    throw translate(error, where);
  }
  if (request.json) io.out(`${JSON.stringify({ ...report, counts: counts(report.results) }, null, 2)}\n`);
  else io.out(restoreText(report, io.columns));
  const lost = report.results.filter(
    (r) => r.outcome === 'failed' || (r.outcome === 'refused' && !HARMLESS.has(r.reason ?? '')),
  );
  if (lost.length > 0) {
    throw new RunNotCompletedError(
      `${lost.length} of ${report.results.length} items of run ${report.runId} could not be restored (see above)`,
    );
  }
  return report;
}

function translate(error: unknown, where: string): unknown {
  if (error instanceof RestoreRefusedError) {
    return error.badInput ? new UnknownRunError(error.message) : new RunNotCompletedError(error.message);
  }
  if (error instanceof Error && error.name === 'InventoryReadError') {
    return new AccountUnreachableError(`restore restored nothing: ${error.message}`, { cause: error });
  }
  if (
    error instanceof Error &&
    /^(ResourceNotFoundException|UnrecognizedClientException)$/.test(error.name)
  ) {
    return ledgerUnavailable(error, where);
  }
  return error;
}

export function counts(results: readonly RestoreItemResult[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of results) out[r.outcome] = (out[r.outcome] ?? 0) + 1;
  return out;
}

const OUTCOME_TEXT: Readonly<Record<RestoreItemResult['outcome'], string>> = {
  restored: 'RESTORED',
  'would-restore': 'would restore',
  refused: 'not restored',
  failed: 'FAILED',
};

export function restoreText(report: RestoreReport, width?: number): string {
  const verb = report.dryRun ? 'Would restore' : 'Restore of';
  const head = `${verb} run ${report.runId} in ${report.region}${report.dryRun ? ' (dry run: nothing changed)' : ''}:`;
  if (report.results.length === 0)
    return `${head}\nNothing this run deleted is recorded; nothing to restore.\n`;
  const rows = report.results.map((r) => [
    r.id,
    r.kind === 'IMAGE' ? 'AMI' : 'snapshot',
    OUTCOME_TEXT[r.outcome],
    r.snapshotIds.length === 0 ? '-' : r.snapshotIds.join(' '),
    r.outcome === 'refused' || r.outcome === 'failed'
      ? `${r.reason}: ${r.detail ?? ''}`
      : r.image
        ? 'AMI from the bin'
        : '',
  ]);
  const c = counts(report.results);
  const summary = Object.entries(c)
    .map(([outcome, n]) => `${OUTCOME_TEXT[outcome as RestoreItemResult['outcome']]}: ${n}`)
    .join('   ');
  return `${head}\n${table(['Id', 'Kind', 'Outcome', 'Snapshots from the bin', 'Why / what'], rows, { wrapLast: true, width })}\n${summary}\n`;
}
