/**
 * Tables fit the terminal: at a given width (`COLUMNS`, else the terminal's), free text wraps,
 * headers wrap at words, and the least useful columns go, with a line saying which; `--wide`
 * shows them all. Checked on the ledger of a real demo run and on the layout rules themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliDeps } from '../../cli/deps.ts';
import { demoEnvironment } from '../../cli/environment.ts';
import { bufferIo, terminalColumns } from '../../cli/io.ts';
import { describeLocation } from '../../cli/ledger-location.ts';
import { type LocalLedger, startLocalLedger } from '../../cli/local-ledger.ts';
import { main } from '../../cli/main.ts';
import { layoutColumns, renderedWidth, wrapText } from '../../cli/table-layout.ts';

let local: LocalLedger;
let runId: string;

const deps = (): CliDeps => ({
  awsEnvironment: () => Promise.reject(new Error('never a real account')),
  demoEnvironment,
  openLedger: async () => {
    const location = { type: 'local' as const, path: '/demo/.amicleaner/ledger' };
    return { ledger: local.ledger, location, where: describeLocation(location), close: async () => {} };
  },
});

async function runCli(args: string[], columns?: number) {
  const io = bufferIo(columns === undefined ? {} : { columns });
  const code = await main(args, io, deps());
  return { code, stdout: io.stdout(), stderr: io.stderr() };
}

const widest = (text: string) => Math.max(...text.split('\n').map((line) => [...line].length));
const tableLines = (text: string) => text.split('\n').filter((line) => /^[|+]/.test(line));

beforeAll(async () => {
  local = await startLocalLedger();
  // Two real runs: one that deleted, one dry run.
  expect((await runCli(['demo', '--yes'])).code).toBe(0);
  expect((await runCli(['demo', '--dry-run'])).code).toBe(0);
  const runs = await local.ledger.listRuns();
  runId = runs.find((r) => r.status === 'COMPLETED')?.runId ?? '';
});

afterAll(async () => {
  await local.stop();
});

describe('history fits the terminal', () => {
  it('is far wider than a terminal with no width to fit (a pipe), and --wide keeps that', async () => {
    // Act
    const unlimited = await runCli(['history']);
    const wide = await runCli(['history', '--wide'], 80);

    // Assess
    expect(widest(unlimited.stdout)).toBeGreaterThan(160);
    expect(wide.stdout).toBe(unlimited.stdout);
    expect(wide.stdout).not.toContain('not shown to fit');
  });

  it.each([80, 100, 132, 160])(
    'history at %i columns: every line fits, ids and statuses whole',
    async (width) => {
      // Act
      const { code, stdout } = await runCli(['history'], width);

      // Assess
      expect(code).toBe(0);
      expect(widest(stdout)).toBeLessThanOrEqual(width);
      expect(stdout).toContain(runId);
      expect(stdout).toMatch(/\| COMPLETED +\|/);
      expect(stdout).toMatch(/\| DRY_RUN +\|/);
    },
  );

  it.each([80, 100, 132, 160])(
    'history --run at %i columns: every line fits, every item listed',
    async (width) => {
      // Prepare
      const items = await local.ledger.listItems(runId);

      // Act
      const { code, stdout } = await runCli(['history', '--run', runId], width);

      // Assess
      expect(code).toBe(0);
      expect(widest(stdout)).toBeLessThanOrEqual(width);
      for (const item of items) expect(stdout).toContain(item.id);
    },
  );

  it('says which columns it left out, and leaves out fewer as the terminal widens', async () => {
    // Act
    const narrow = await runCli(['history', '--run', runId], 80);
    const wider = await runCli(['history', '--run', runId], 160);
    const full = await runCli(['history', '--run', runId]);

    // Assess
    const note = (text: string) =>
      /\(([^()]+) not shown to fit (\d+) columns; --wide shows every column\)/.exec(
        text.replace(/\s+/g, ' '),
      );
    expect(note(narrow.stdout)?.[2]).toBe('80');
    const droppedAt80 = note(narrow.stdout)?.[1]?.split(', ') ?? [];
    const droppedAt160 = note(wider.stdout)?.[1]?.split(', ') ?? [];
    expect(droppedAt80.length).toBeGreaterThan(droppedAt160.length);
    expect(droppedAt80).toContain('Started at');
    expect(note(full.stdout)).toBeNull();
    // The header of a left-out column is gone from the table itself.
    expect(tableLines(narrow.stdout).join('\n')).not.toContain('Started at');
    expect(tableLines(full.stdout).join('\n')).toContain('Started at');
  });

  it('wraps the reason text instead of cutting it', async () => {
    // Prepare
    const items = await local.ledger.listItems(runId);
    const stopped = items.find((i) => i.detail?.includes('(stopped)'));
    const reason = `in use: ${stopped?.detail}`;

    // Act
    const { stdout } = await runCli(['history', '--run', runId], 100);

    // Assess: that row's cells in the reason column, read top to bottom, give the whole reason
    expect(stdout).not.toContain('…');
    const lines = tableLines(stdout);
    const header = lines.find((line) => line.includes('Reason')) ?? '';
    const column = header.split('|').findIndex((cell) => cell.trim().startsWith('Reason'));
    const first = lines.findIndex((line) => line.includes(stopped?.id ?? '?'));
    const rowLines = [lines[first] ?? ''];
    for (const line of lines.slice(first + 1)) {
      if (!/^\| +\|/.test(line)) break; // the next row starts with an id
      rowLines.push(line);
    }
    const text = rowLines.map((line) => line.split('|')[column]?.trim()).join('');
    expect(text.replace(/\s/g, '')).toBe(reason.replace(/\s/g, ''));
  });

  it('plan --full-report and the demo report fit too', async () => {
    // Act
    const plan = await runCli(['plan', '--demo', '--full-report'], 90);
    const demo = await runCli(['demo', '--dry-run'], 90);

    // Assess
    expect(plan.code).toBe(0);
    expect(widest(plan.stdout)).toBeLessThanOrEqual(90);
    expect(widest(demo.stdout)).toBeLessThanOrEqual(90);
  });
});

describe('table layout', () => {
  const columns = [
    { head: 'ID' },
    { head: 'Snapshots deleted', dropRank: 2 },
    { head: 'Started at', dropRank: 1 },
    { head: 'Why', wrap: true },
  ];
  const rows = [
    ['ami-0123456789abcdef0', '3', '2026-12-01T07:56:48Z', 'kept because it is one of the newest four'],
  ];

  it('keeps natural widths when they fit', () => {
    // Act
    const layout = layoutColumns(columns, rows, 200);

    // Assess
    expect(layout.dropped).toEqual([]);
    expect(layout.widths).toEqual([21, 17, 20, 41]);
  });

  it('wraps free text first, then a header, then drops the lowest rank', () => {
    // Act
    const textWrapped = layoutColumns(columns, rows, renderedWidth([21, 17, 20, 20]));
    const headerWrapped = layoutColumns(columns, rows, renderedWidth([21, 9, 20, 12]));
    const oneDropped = layoutColumns(columns, rows, renderedWidth([21, 9, 20, 12]) - 1);

    // Assess
    expect(textWrapped).toEqual({ shown: [0, 1, 2, 3], widths: [21, 17, 20, 20], dropped: [] });
    expect(headerWrapped).toEqual({ shown: [0, 1, 2, 3], widths: [21, 9, 20, 12], dropped: [] });
    expect(oneDropped).toEqual({ shown: [0, 1, 3], widths: [21, 17, 26], dropped: ['Started at'] });
  });

  it('never drops a column without a rank, even when nothing fits', () => {
    // Act
    const layout = layoutColumns(columns, rows, 10);

    // Assess
    expect(layout.shown).toEqual([0, 3]);
    expect(layout.widths[0]).toBe(21);
  });

  it('wraps text at spaces and splits only words wider than the column', () => {
    // Act / Assess
    expect(wrapText('in use: instance i-0ff305ff439672e8d (stopped)', 20)).toBe(
      'in use: instance\ni-0ff305ff439672e8d\n(stopped)',
    );
    expect(wrapText('snap-0123456789abcdef0', 10)).toBe('snap-01234\n56789abcde\nf0');
    expect(wrapText('', 5)).toBe('');
  });

  it('takes COLUMNS over the terminal, and no width when there is neither', () => {
    // Act / Assess
    expect(terminalColumns('100', 80)).toBe(100);
    expect(terminalColumns(undefined, 80)).toBe(80);
    expect(terminalColumns('wide', 80)).toBe(80);
    expect(terminalColumns(undefined, undefined)).toBeUndefined();
  });
});
