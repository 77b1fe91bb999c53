/**
 * HTML primitives of the approval page: escaping, the document around every page, tables.
 * No scripts, no external resources.
 */
import { visible } from '../core/visible-text.ts';

/** HTML-escapes a value, after making its control and bidi characters visible (tag text is hostile). */
export function escapeHtml(value: unknown): string {
  return visible(String(value))
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;line-height:1.5;margin:0;color:#1b1b1b;background:#fff}
main{max-width:72rem;margin:0 auto;padding:1rem 1.5rem 3rem}
.scroll{overflow-x:auto}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #8a8a8a;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef0f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}td code{overflow-wrap:normal;white-space:nowrap}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dt{font-weight:600}dd{margin:0}
.notice{border-left:4px solid #8a5a00;background:#fff8e5;padding:.5rem 1rem}
form{margin-top:2rem;padding:1rem;border:2px solid #1b1b1b;max-width:32rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text]{font-size:1rem;padding:.4rem;width:100%;box-sizing:border-box;border:2px solid #555}
.actions{display:flex;gap:1rem;margin-top:1rem}
button{font-size:1rem;padding:.5rem 1.25rem;border:2px solid #1b1b1b;cursor:pointer}
button.approve{background:#0b5d1e;color:#fff}button.reject{background:#fff;color:#8b0000;border-color:#8b0000}
nav.pages{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:1rem 0}
:focus-visible{outline:3px solid #1a5fb4;outline-offset:2px}
`;

export function htmlDocument(title: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · ami-cleaner</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${content}
</main>
</body>
</html>
`;
}

export function renderMessage(title: string, message: string): string {
  return htmlDocument(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(message)}</p>`);
}

export function plural(n: number, word: string): string {
  return `${escapeHtml(n)} ${word}${n === 1 ? '' : 's'}`;
}

export const usd = (n: number): string => `$${n.toFixed(2)}`;

/** A captioned table; `headings` and `caption` are escaped here, `rows` are HTML already. */
export function table(
  caption: string,
  headings: readonly string[],
  rows: readonly string[],
  foot?: string,
): string {
  const head = headings.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  // The wrapper scrolls a wide table on a phone instead of the whole page.
  return `<div class="scroll">\n<table>\n<caption>${escapeHtml(caption)}</caption>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join(
    '\n',
  )}\n</tbody>\n${foot ? `<tfoot>${foot}</tfoot>\n` : ''}</table>\n</div>`;
}
