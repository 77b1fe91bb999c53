/**
 * CSV for spreadsheets, safe against formula injection. Group names come from AMI tags, which
 * anyone who can tag an image controls, so a cell is never left to start a formula.
 */

/**
 * OWASP's CSV injection rule: a text cell starting with `=`, `+`, `-`, `@`, tab or carriage
 * return gets a leading single quote, so a spreadsheet shows it as text. Every text cell is
 * quoted, with its quotes doubled (RFC 4180), so commas and line breaks stay inside the cell.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return `"${text.replace(/"/g, '""')}"`;
}

/** Lines end with CRLF, as RFC 4180 says. */
export function toCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return [header, ...rows].map((row) => `${row.map(csvCell).join(',')}\r\n`).join('');
}
