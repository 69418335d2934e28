import { execFileSync } from 'node:child_process';
import type { Browser } from 'puppeteer-core';
import puppeteer from 'puppeteer-core';

/**
 * Debian's chromium, headless, driven by puppeteer-core (which brings no browser of its own).
 * Missing is a failure with the fix, never a skip.
 */
export async function launchChromium(): Promise<Browser> {
  let executablePath: string;
  try {
    executablePath = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error('chromium not found: run `npm run setup` (installs the Debian package chromium)');
  }
  // root in CI: Chromium's sandbox needs user namespaces it may not have there
  return puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}
