/**
 * Tag-derived text (group names, AMI names) for a plain-text email. Anyone with
 * `ec2:CreateTags` chooses it, so it must stay inert data: no control characters (line breaks
 * could forge lines), a capped length, nothing a mail client turns into a link or an address,
 * and quoted, so it never reads as the email's own words.
 */
const CONTROL = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu;
export const MAX_TAG_TEXT = 60;

export function inertText(value: unknown, max: number = MAX_TAG_TEXT): string {
  const flat = String(value).replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  const defanged = flat
    .replace(/http/gi, (m) => `${m[0]}xx${m.slice(3)}`)
    .replace(/:\/\//g, '[:]//')
    .replace(/www\./gi, (w) => `${w.slice(0, 3)}[.]`)
    .replace(/@/g, '[at]')
    .replaceAll('"', "'");
  const capped = defanged.length <= max ? defanged : `${defanged.slice(0, max - 3)}...`;
  return `"${capped}"`;
}

/** "1 AMI", "2 AMIs": a count in plain text (the HTML views escape it through `html.ts`). */
export function pluralText(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
