/**
 * Debian's Chromium driven by playwright-core, for the browser tests (the site, the classic Notebook): its path
 * (/usr/bin/chromium, or $CHROMIUM_PATH) and a headless launch with the flags that work in this container
 * (no sandbox, no GPU, no QUIC, no background traffic: every request a page makes is one the test can see).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium; a clear error naming the package when it is not installed. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
