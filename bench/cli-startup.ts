/**
 * CLI start-up, as a user meets it: whole `node <bin>` processes, where `<bin>` is what
 * package.json's `bin.amicleaner` points at (or AMICLEANER_BIN, to measure another build).
 * Prints the median of several runs of `--version`, `plan --help`, and `plan` of a generated
 * simulated account of 1,000 AMIs (`--scenario generated:1000`). Target: start-up < 0.35 s.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printTable, type Row, type SummaryRow } from './harness.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `bin: false`: node alone, the floor under every start-up on this machine and its load. */
const CASES = [
  { name: 'node -e 0 (node alone, for scale)', args: ['-e', '0'], runs: 11, bin: false },
  { name: 'amicleaner --version', args: ['--version'], runs: 11 },
  { name: 'amicleaner plan --help', args: ['plan', '--help'], runs: 11 },
  {
    name: 'amicleaner plan (1,000 AMIs, simulated)',
    args: ['plan', '--scenario', 'generated:1000', '--json'],
    runs: 5,
  },
];

/** The `bin` package.json names; AMICLEANER_BIN overrides it (e.g. a local compiled build). */
function binPath(): string {
  const override = process.env.AMICLEANER_BIN;
  if (override) return resolve(override);
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    bin: string | Record<string, string>;
  };
  const bin = typeof manifest.bin === 'string' ? manifest.bin : manifest.bin.amicleaner;
  if (!bin) throw new Error('package.json has no bin.amicleaner');
  return join(ROOT, bin);
}

/** Wall-clock seconds of one whole process; fails loudly if the CLI does. */
function timeOnce(bin: string | undefined, args: readonly string[]): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, bin === undefined ? args : [bin, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    // Hermetic: no real account, no developer terminal width.
    env: { ...process.env, AWS_REGION: 'eu-west-1', COLUMNS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} exited ${result.status}: ${result.stderr.split('\n')[0]}`);
  }
  return seconds;
}

export async function runCliStartup(): Promise<SummaryRow[]> {
  const bin = binPath();
  const label = bin.startsWith(ROOT) ? bin.slice(ROOT.length + 1) : bin;
  // One untimed run each: tsx's transform cache and the OS file cache are warm, as they are
  // for anyone who has run the CLI once.
  const binOf = (c: (typeof CASES)[number]) => ('bin' in c && c.bin === false ? undefined : bin);
  for (const c of CASES) timeOnce(binOf(c), c.args);
  const rows: Row[] = [];
  const summary: SummaryRow[] = [];
  for (const c of CASES) {
    const times = Array.from({ length: c.runs }, () => timeOnce(binOf(c), c.args));
    const med = median(times);
    rows.push({
      command: c.name,
      runs: c.runs,
      median: `${med.toFixed(3)} s`,
      min: `${Math.min(...times).toFixed(3)} s`,
      max: `${Math.max(...times).toFixed(3)} s`,
    });
    summary.push({
      bench: 'cli-startup',
      case: c.name,
      figure: `median ${med.toFixed(3)} s (${binOf(c) === undefined ? 'node' : label})`,
    });
  }
  const load = (await import('node:os')).loadavg()[0]?.toFixed(1);
  printTable(
    `CLI start-up: whole processes, node ${label} (target: start-up < 0.35 s; load average ${load})`,
    rows,
  );
  return summary;
}
