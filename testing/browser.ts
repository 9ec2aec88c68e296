// Chromium for the web UI tests: Debian's package at /usr/bin/chromium (scripts/install-browser.sh),
// driven by playwright-core, which never downloads a browser of its own. Under CI a missing
// browser is an error; elsewhere the tests skip and say why.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.FLOWSCOPE_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];

/** Why the browser tests cannot run here, or undefined when they can. Throws under CI=true. */
export function browserMissing(): string | undefined {
  if (fs.existsSync(CHROMIUM_PATH)) return undefined;
  const why = `chromium not found at ${CHROMIUM_PATH}: run scripts/install-browser.sh (or set FLOWSCOPE_CHROMIUM)`;
  if (process.env.CI === 'true') throw new Error(why);
  console.log(`# SKIP browser tests: ${why}`);
  return why;
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: ARGS, headless: true, timeout: 180_000 });
}
