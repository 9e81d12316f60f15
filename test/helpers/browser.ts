// Real headless Chromium for the tests that drive web pages (Debian's `chromium`, driven by
// playwright-core). Missing under CI=true is a failure with the reason; elsewhere the test skips
// and says how to get it.

import { existsSync } from 'node:fs';
import type { Test } from 'tap';
import { chromium, type Browser } from 'playwright-core';

const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The browser, or null (after failing under CI, or skipping elsewhere) when it is not installed. */
export async function launchChromium(t: Test): Promise<Browser | null> {
  if (!existsSync(EXECUTABLE)) {
    const why = `no Chromium at ${EXECUTABLE}: apt-get install chromium (or set CHROMIUM_PATH)`;
    if (process.env.CI === 'true') t.fail(why);
    else t.plan(0, why); // tap reports a test planned at 0 as skipped, with the reason
    return null;
  }
  const browser = await chromium.launch({
    executablePath: EXECUTABLE,
    // the machine's network is closed: no background connections, no component updates
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.teardown(() => browser.close());
  return browser;
}
