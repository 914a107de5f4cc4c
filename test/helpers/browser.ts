import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Debian's Chromium (`apt-get install -y chromium`); playwright-core never downloads a browser here. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Whether browser tests can run. Without Chromium they are skipped with a loud warning on a developer's
 * machine; with STOCKSTREAMER_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails the run instead.
 */
export function browserAvailable(): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  const message = `Chromium not found at ${CHROMIUM_PATH}: browser tests cannot run. Install it with: sudo apt-get install -y chromium`;
  if (process.env.STOCKSTREAMER_REQUIRE_BROWSER === '1') throw new Error(message);
  console.warn(`\n\n!!! ${message} — SKIPPING the e2e tier !!!\n\n`);
  return false;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}
