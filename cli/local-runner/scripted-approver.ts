/**
 * Answers an approval link the way a person's browser does: GET the page (which changes
 * nothing), read its form, and POST the chosen button. Used by `--yes` and `-f/--force-delete`,
 * so automation goes through the very same checks as a click.
 */
export type ScriptedDecision = 'APPROVE' | 'REJECT';

export class ScriptedApprovalError extends Error {
  override readonly name = 'ScriptedApprovalError';
}

export async function answerApprovalLink(
  link: string,
  decision: ScriptedDecision,
  approver: string,
): Promise<void> {
  const page = await fetch(link);
  const html = await page.text();
  if (!page.ok)
    throw new ScriptedApprovalError(`the approval page answered ${page.status}: ${pageHeading(html)}`);
  const form = new URLSearchParams();
  for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(unescapeHtml(match[1] ?? ''), unescapeHtml(match[2] ?? ''));
  }
  if (!form.has('formToken')) throw new ScriptedApprovalError('the approval page has no approval form');
  form.set('approver', approver);
  form.set('decision', decision);
  const answer = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  if (!answer.ok) {
    throw new ScriptedApprovalError(
      `the approval page refused the ${decision}: ${answer.status} ${pageHeading(await answer.text())}`,
    );
  }
}

function pageHeading(html: string): string {
  return unescapeHtml(/<h1[^>]*>([^<]*)<\/h1>/.exec(html)?.[1] ?? '').trim();
}

function unescapeHtml(text: string): string {
  return text
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}
