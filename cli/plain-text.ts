/**
 * Text from the account (AMI names, tag values) and from the command line reaches the terminal.
 * A terminal interprets ESC sequences, NULs, carriage returns and bidi overrides, so those are
 * shown as `\u….` escapes instead: the text stays readable and cannot move the cursor, recolour,
 * plant a hyperlink or reverse what follows it.
 */
export function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
