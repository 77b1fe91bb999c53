/**
 * Headless Chromium for the browser tests: Debian's `chromium` package driven by playwright-core
 * (see ../shared/TOOLING.md). `npx playwright install` cannot download a browser here, so the
 * system one is required: when it is missing the tests fail with a message that says how to get
 * it; they are never skipped.
 */
import { existsSync } from 'node:fs';
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core';

/** Debian's chromium by default; CHROMIUM_PATH points elsewhere (another OS, another build). */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that keep Chromium headless, unsandboxed (CI runs as root) and off the network. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}, and the browser tests need it. Install it with ` +
        '`apt-get install -y --no-install-recommends chromium` (`npm test` does this as root on Debian), or set CHROMIUM_PATH.',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS] });
}

/** A page in a fresh context (no cookies or cache shared with other tests), recording its requests. */
export interface BrowserTab {
  readonly context: BrowserContext;
  readonly page: Page;
  /** Every request the context made, including those of pages opened later in it. */
  readonly requests: Request[];
  close(): Promise<void>;
}

export async function openTab(browser: Browser): Promise<BrowserTab> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const requests: Request[] = [];
  context.on('request', (request) => requests.push(request));
  const page = await context.newPage();
  return { context, page, requests, close: () => context.close() };
}
