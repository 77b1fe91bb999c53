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

/**
 * Through bash, for its `times` builtin: the CPU seconds (user + system) the process used. On a
 * machine shared with other jobs wall time is mostly waiting for a core; CPU time is what the
 * process itself costs, and about its wall time on an idle machine.
 */
const TIMED =
  't0=$EPOCHREALTIME; "$0" "$@" >/dev/null; s=$?; t1=$EPOCHREALTIME; echo "$t0 $t1"; times; exit $s';

interface Timing {
  readonly wall: number;
  readonly cpu: number;
}

/** Wall-clock and CPU seconds of one whole process; fails loudly if the CLI does. */
function timeOnce(bin: string | undefined, args: readonly string[]): Timing {
  const nodeArgs = bin === undefined ? args : [bin, ...args];
  const result = spawnSync('bash', ['-c', TIMED, process.execPath, ...nodeArgs], {
    cwd: ROOT,
    encoding: 'utf8',
    // Hermetic: no real account, no developer terminal width.
    env: { ...process.env, AWS_REGION: 'eu-west-1', COLUMNS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`${bin} ${args.join(' ')} exited ${result.status}: ${result.stderr.split('\n')[0]}`);
  }
  const [clock, , children] = result.stdout.trim().split('\n');
  const [t0, t1] = (clock ?? '').split(' ').map(Number);
  const cpu = (children ?? '').split(' ').reduce((sum, field) => sum + bashSeconds(field), 0);
  if (t0 === undefined || t1 === undefined || !Number.isFinite(t1 - t0) || !Number.isFinite(cpu)) {
    throw new Error(`could not read the timing of ${args.join(' ')}: ${result.stdout}`);
  }
  return { wall: t1 - t0, cpu };
}

/** `1m0.130s`, as bash's `times` prints it. */
function bashSeconds(field: string): number {
  const match = /^(\d+)m([\d.]+)s$/.exec(field);
  return match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
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
    const timings = Array.from({ length: c.runs }, () => timeOnce(binOf(c), c.args));
    const times = timings.map((t) => t.wall);
    const med = median(times);
    const cpu = median(timings.map((t) => t.cpu));
    rows.push({
      command: c.name,
      runs: c.runs,
      median: `${med.toFixed(3)} s`,
      min: `${Math.min(...times).toFixed(3)} s`,
      max: `${Math.max(...times).toFixed(3)} s`,
      'median CPU (user+sys)': `${cpu.toFixed(3)} s`,
    });
    summary.push({
      bench: 'cli-startup',
      case: c.name,
      figure: `median ${med.toFixed(3)} s, CPU ${cpu.toFixed(3)} s (${binOf(c) === undefined ? 'node' : label})`,
    });
  }
  const load = (await import('node:os'))
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  printTable(
    `CLI start-up: whole processes, node ${label} (target: start-up < 0.35 s; load average over 1, 5, 15 min: ${load}, on ${(await import('node:os')).availableParallelism()} cores)`,
    rows,
  );
  return summary;
}
