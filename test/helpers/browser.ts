import { type Browser, chromium } from 'playwright-core';

/** Where .ci/run installs Debian's Chromium; the tests never download a browser. */
const chromiumPath = process.env.JOBYARD_CHROMIUM ?? '/usr/bin/chromium';

/**
 * launchBrowser starts Debian's Chromium headless for a browser test. The flags keep it off the
 * network (this machine refuses outside connections, and Chromium would retry them at every start).
 */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
