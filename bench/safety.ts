/**
 * The counted suites' figures for the README's Safety section, computed from a test run, never
 * typed in: `npx tsx bench/safety.ts` runs test/fault and test/hostile with vitest's JSON
 * reporter and prints how many fault cases ran and held (in all, by fault kind and by settings),
 * how many hostile inputs were tried and refused, the wall time and the machine's load.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
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
    [
      'vitest',
      'run',
      'test/fault',
      'test/hostile',
      // Hand-written fault rows of the organization workflow (named `fault: organization × …`).
      'test/workflow/organization-faults.test.ts',
      '--reporter=json',
      `--outputFile=${out}`,
    ],
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

/** Fault rows are named `fault: <state> × <service> × <fault> × <position> × <settings> (...)`. */
function faultCountsBy(part: 2 | 4): string {
  const byValue = new Map<string, { run: number; held: number }>();
  for (const test of tests.filter((t) => t.title.startsWith(FAULT_PREFIX))) {
    const value = (test.title.split(' × ')[part] ?? '?').split(' ')[0] as string;
    const counts = byValue.get(value) ?? { run: 0, held: 0 };
    counts.run += 1;
    if (test.status === 'passed') counts.held += 1;
    byValue.set(value, counts);
  }
  return [...byValue].map(([value, c]) => `${value} ${c.held}/${c.run}`).join(', ');
}

const load = loadavg().map((l) => l.toFixed(1));
console.log(`fault cases: ${count(FAULT_PREFIX)} run, ${count(FAULT_PREFIX, 'passed')} held`);
console.log(`  by fault kind (held/run): ${faultCountsBy(2)}`);
console.log(`  by settings (held/run): ${faultCountsBy(4)}`);
console.log(
  `hostile inputs: ${count(HOSTILE_PREFIX)} tried, ${count(HOSTILE_PREFIX, 'passed')} refused with no side effect`,
);
console.log(
  `wall time: ${seconds.toFixed(0)} s (${cpus().length} cores, load average ${load.join(' ')} at the end)`,
);
