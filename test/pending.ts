/**
 * Rows of the counted suites (fault matrix, hostile inputs) that break an invariant on this
 * branch because their fix belongs to a change still in flight (issue 7 §1–§3). Each entry names
 * the row, what broke, and the fix it waits for; the row is left out of the run until then.
 * Delete the entry when the fix lands (branch `fault-pending` has this list empty, so every row
 * runs there). `bench/safety.ts` reports how many rows wait here: they are not counted as held.
 */
export interface PendingFix {
  /** The row's test name, without the parenthesised detail the fault matrix appends. */
  readonly row: string;
  readonly broken: string;
  readonly awaits: string;
}

export const PENDING_FIXES: readonly PendingFix[] = [
  {
    row: 'hostile: AMI name and tag, approval page HTML: control characters and a forged header',
    broken: "the page's HTML carries the name's NUL and BEL characters raw",
    awaits: 'nobody yet: approval-page.ts renders names (bind edits that file; not touched here)',
  },
  {
    row: 'hostile: AMI name and tag, approval page HTML: ANSI colour and an OSC 8 hyperlink',
    broken: "the page's HTML carries ESC sequences raw",
    awaits: 'nobody yet: approval-page.ts renders names (bind edits that file; not touched here)',
  },
  {
    row: 'hostile: AMI name and tag, approval page HTML: a right-to-left override',
    broken: "the page's HTML carries the U+202E override raw",
    awaits: 'nobody yet: approval-page.ts renders names (bind edits that file; not touched here)',
  },
  {
    row: 'hostile: AMI name and tag, approval email: control characters and a forged header',
    broken: 'the email carries NUL, BEL and CR, and a line that starts with Bcc:',
    awaits: 'bind: email sanitising (issue 7 §1, The email is plain data)',
  },
  {
    row: 'hostile: AMI name and tag, approval email: ANSI colour and an OSC 8 hyperlink',
    broken: 'the email carries ESC sequences',
    awaits: 'bind: email sanitising (issue 7 §1, The email is plain data)',
  },
  {
    row: 'hostile: AMI name and tag, approval email: a spreadsheet formula',
    broken: 'an email line starts with =HYPERLINK(...)',
    awaits: 'bind: email sanitising (issue 7 §1, The email is plain data)',
  },
  {
    row: 'hostile: AMI name and tag, approval email: a 256-character value',
    broken: 'the email repeats a 256-character tag value uncapped',
    awaits: 'bind: email sanitising (issue 7 §1, The email is plain data)',
  },
  {
    row: 'hostile: AMI name and tag, approval email: a right-to-left override',
    broken: 'the email carries the U+202E override',
    awaits: 'bind: email sanitising (issue 7 §1, The email is plain data)',
  },
  {
    row: 'hostile: AMI name and tag, approval email: an instruction with a link',
    broken:
      'the email carries https://evil.example from a tag value (the local runner even takes it for the approval link)',
    awaits: 'bind: email sanitising (issue 7 §1, The email is plain data)',
  },
];

const pending = new Set(PENDING_FIXES.map((fix) => fix.row));

export function isPending(row: string): boolean {
  return pending.has(row);
}
