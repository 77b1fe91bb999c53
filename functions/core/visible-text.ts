/**
 * Text from the account (AMI names, tag values) and from the command line reaches a terminal or
 * a browser. Control characters (ESC sequences, NUL, BEL, carriage returns) and format
 * characters such as bidi overrides are shown as `\u….` escapes instead: the text stays
 * readable and cannot move a cursor, recolour, plant a hyperlink or reverse what follows it.
 */
export function visible(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
