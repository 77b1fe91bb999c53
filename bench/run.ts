/**
 * `npm run bench` runs every benchmark in sequence and prints a summary table;
 * `npm run bench -- <name>` runs one (planning, org-planning, org-throughput, org-state, payloads, deletion-throughput,
 * backlog, cli-startup, cost, package-size, page-size).
 */
import { runBacklog } from './backlog.ts';
import { runCliStartup } from './cli-startup.ts';
import { runCost } from './cost.ts';
import { runDeletionThroughput } from './deletion-throughput.ts';
import { printTable, type SummaryRow } from './harness.ts';
import { runOrgPlanning } from './org-planning.ts';
import { runOrgState } from './org-state.ts';
import { runOrgThroughput } from './org-throughput.ts';
import { runPackageSize } from './package-size.ts';
import { runPageSize } from './page-size.ts';
import { runPayloads } from './payloads.ts';
import { runPlanning } from './planning.ts';

const BENCHMARKS: Record<string, () => Promise<SummaryRow[]>> = {
  planning: runPlanning,
  'org-planning': runOrgPlanning,
  'org-throughput': runOrgThroughput,
  'org-state': runOrgState,
  payloads: runPayloads,
  'deletion-throughput': runDeletionThroughput,
  backlog: runBacklog,
  'cli-startup': runCliStartup,
  cost: runCost,
  'package-size': runPackageSize,
  'page-size': runPageSize,
};

const names = process.argv.slice(2);
const unknown = names.filter((name) => BENCHMARKS[name] === undefined);
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHMARKS).join(', ')}`);
  process.exit(2);
}

const started = performance.now();
const summary: SummaryRow[] = [];
for (const name of names.length > 0 ? names : Object.keys(BENCHMARKS)) {
  const benchStart = performance.now();
  console.log(`\n=== ${name}`);
  summary.push(...(await (BENCHMARKS[name] as () => Promise<SummaryRow[]>)()));
  console.log(`  (${name}: ${((performance.now() - benchStart) / 1000).toFixed(1)} s)`);
}
printTable(
  `Summary (${((performance.now() - started) / 1000).toFixed(0)} s, node ${process.version})`,
  summary.map((row) => ({ ...row })),
);
