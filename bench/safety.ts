/**
 * The counted suites' figures for the README's Safety section, computed from a test run, never
 * typed in: `npx tsx bench/safety.ts` runs test/fault and test/hostile with vitest's JSON
 * reporter and prints how many fault cases ran and held, how many hostile inputs were tried and
 * refused.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULT_PREFIX, HOSTILE_PREFIX } from '../test/hostile/count.ts';

interface JsonReport {
  readonly testResults: readonly {
    readonly assertionResults: readonly { title: string; status: string }[];
  }[];
}

const out = join(mkdtempSync(join(tmpdir(), 'safety-')), 'report.json');
const started = performance.now();
try {
  execFileSync(
    'npx',
    ['vitest', 'run', 'test/fault', 'test/hostile', '--reporter=json', `--outputFile=${out}`],
    {
      stdio: 'inherit',
    },
  );
} catch {
  // Failures are counted below from the report.
}
const seconds = (performance.now() - started) / 1000;
const tests = (JSON.parse(readFileSync(out, 'utf8')) as JsonReport).testResults.flatMap(
  (f) => f.assertionResults,
);
const count = (prefix: string, status?: string) =>
  tests.filter((t) => t.title.startsWith(prefix) && (status === undefined || t.status === status)).length;
console.log(`fault cases: ${count(FAULT_PREFIX)} run, ${count(FAULT_PREFIX, 'passed')} held`);
console.log(
  `hostile inputs: ${count(HOSTILE_PREFIX)} tried, ${count(HOSTILE_PREFIX, 'passed')} refused with no side effect`,
);
console.log(`wall time: ${seconds.toFixed(0)} s`);
