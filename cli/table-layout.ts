/**
 * Column widths for a table that must fit a terminal: free-text columns wrap, headers wrap at
 * word boundaries, and when that is not enough the least useful columns are left out (the
 * caller says which, and tells the reader). Pure: text in, widths and wrapped cells out.
 */

export interface Column {
  readonly head: string;
  /** Free text that may wrap over several lines (reasons, errors). */
  readonly wrap?: boolean;
  /** Widest a wrapping column grows even when there is room (keeps long reasons readable). */
  readonly maxWidth?: number;
  /** Narrowest a wrapping column gets before other columns are left out; default {@link MIN_WRAP_WIDTH}. */
  readonly minWidth?: number;
  /**
   * Columns with a rank may be left out to fit; the lowest rank goes first. Columns without one
   * are always shown (the ids and statuses a reader cannot do without).
   */
  readonly dropRank?: number;
}

export interface Layout {
  /** Indexes of the columns shown, in their original order. */
  readonly shown: readonly number[];
  /** Content width of each shown column (without the cell padding). */
  readonly widths: readonly number[];
  /** Heads of the columns left out to fit, in the order they were dropped. */
  readonly dropped: readonly string[];
}

/** A wrapping column is never made narrower than this while another column can still go. */
export const MIN_WRAP_WIDTH = 12;

/** `| a | b |`: one border per column plus one, and a space each side of every cell. */
export function renderedWidth(widths: readonly number[]): number {
  return widths.reduce((sum, w) => sum + w + 3, 1);
}

/** Lays out `columns` to fit `width` characters; with no width, every column at its natural size. */
export function layoutColumns(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  width?: number,
): Layout {
  const natural = columns.map((column, i) => {
    const widest = Math.max(textWidth(column.head), ...rows.map((row) => textWidth(row[i] ?? '')));
    return column.wrap && column.maxWidth !== undefined ? Math.min(widest, column.maxWidth) : widest;
  });
  // Narrowest a column can be: data cells never wrap outside free text; headers wrap at words.
  const minimum = columns.map((column, i) => {
    const headWord = longestWord(column.head);
    if (column.wrap)
      return Math.min(natural[i] as number, Math.max(column.minWidth ?? MIN_WRAP_WIDTH, headWord));
    return Math.max(headWord, ...rows.map((row) => textWidth(row[i] ?? '')));
  });

  let shown = columns.map((_, i) => i);
  const dropped: string[] = [];
  for (;;) {
    const widths = fitWidths(shown, columns, natural, minimum, width);
    if (widths) return { shown, widths, dropped };
    const candidates = shown.filter((i) => columns[i]?.dropRank !== undefined);
    if (candidates.length === 0) {
      // Too narrow even for the essential columns: show them at their minimum and let the
      // terminal wrap the lines, rather than hide an id or a status.
      return { shown, widths: shown.map((i) => minimum[i] as number), dropped };
    }
    const next = candidates.reduce((a, b) =>
      (columns[b]?.dropRank as number) < (columns[a]?.dropRank as number) ? b : a,
    );
    dropped.push(columns[next]?.head ?? '');
    shown = shown.filter((i) => i !== next);
  }
}

/** Widths for the shown columns within `width`, or undefined if they cannot fit. */
function fitWidths(
  shown: readonly number[],
  columns: readonly Column[],
  natural: readonly number[],
  minimum: readonly number[],
  width: number | undefined,
): number[] | undefined {
  const widths = new Map(shown.map((i) => [i, natural[i] as number]));
  const result = () => shown.map((i) => widths.get(i) as number);
  if (width === undefined || renderedWidth(result()) <= width) return result();
  const budget = width - renderedWidth(shown.map(() => 0));
  const wrapping = shown.filter((i) => columns[i]?.wrap);
  const fixed = shown.filter((i) => !columns[i]?.wrap);
  const wrapMinimum = wrapping.reduce((sum, i) => sum + (minimum[i] as number), 0);
  // Fixed columns first give up their header width, the widest saving first.
  let fixedTotal = fixed.reduce((sum, i) => sum + (natural[i] as number), 0);
  for (const i of [...fixed].sort((a, b) => slack(b) - slack(a))) {
    if (fixedTotal + wrapMinimum <= budget) break;
    fixedTotal -= slack(i);
    widths.set(i, minimum[i] as number);
  }
  if (fixedTotal + wrapMinimum > budget) return undefined;
  // What is left goes to the wrapping columns, the narrowest satisfied first.
  let left = budget - fixedTotal;
  const byNeed = [...wrapping].sort((a, b) => (natural[a] as number) - (natural[b] as number));
  byNeed.forEach((i, k) => {
    // Never take what the columns still to come need for their own minimum.
    const reserved = byNeed.slice(k + 1).reduce((sum, j) => sum + (minimum[j] as number), 0);
    const share = Math.floor(left / (byNeed.length - k));
    const given = Math.max(minimum[i] as number, Math.min(natural[i] as number, share, left - reserved));
    widths.set(i, given);
    left -= given;
  });
  return result();

  function slack(i: number): number {
    return (natural[i] as number) - (minimum[i] as number);
  }
}

/**
 * Breaks text into lines of at most `width`: at spaces where it can, inside a word only when
 * the word alone is wider (an id is split rather than cut off).
 */
export function wrapText(text: string, width: number): string {
  const limit = Math.max(1, width);
  const lines: string[] = [];
  for (const paragraph of text.split('\n')) {
    let line = '';
    for (const word of paragraph.split(/ +/)) {
      let rest = word;
      while (textWidth(rest) > limit) {
        if (line !== '') {
          lines.push(line);
          line = '';
        }
        const chars = [...rest];
        lines.push(chars.slice(0, limit).join(''));
        rest = chars.slice(limit).join('');
      }
      if (line === '') line = rest;
      else if (textWidth(line) + 1 + textWidth(rest) <= limit) line = `${line} ${rest}`;
      else {
        lines.push(line);
        line = rest;
      }
    }
    lines.push(line);
  }
  return lines.join('\n');
}

/** Width in terminal columns of the widest line (code points; the tables hold no wide glyphs). */
function textWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map((line) => [...line].length));
}

function longestWord(text: string): number {
  return Math.max(0, ...text.split(/\s+/).map((word) => [...word].length));
}
