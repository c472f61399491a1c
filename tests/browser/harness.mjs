// What every Chromium test script shares: Debian's chromium launched headless through
// playwright-core, signing in through the web app's form, screenshots into an artefacts
// folder, and the "N passed, M failed" line the Rust side reads.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

export const step = message => console.log(`browser: ${message}`);

export function launch({ autoplay = false } = {}) {
  const args = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic'];
  if (autoplay) args.push('--autoplay-policy=no-user-gesture-required');
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args });
}

// A page of its own, reporting the app's uncaught errors, with `shot(name)` saving a
// full-page screenshot into `artifacts` (when given).
export async function openPage(browser, artifacts) {
  if (artifacts) mkdirSync(artifacts, { recursive: true });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', error => console.log(`page error: ${error.message}`));
  const shot = name => artifacts ? page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true }) : Promise.resolve();
  return { page, shot };
}

export async function signIn(page, url, email, password) {
  await page.goto(`${url}/#/login`);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
}

// Runs `test`, reports the outcome (with a screenshot of a failure), closes the browser
// and exits with the status the Rust test asserts.
export async function run(browser, shot, test) {
  let failed = false;
  try {
    await test();
  } catch (error) {
    failed = true;
    console.log(`browser: FAILED: ${error.message}`);
    await shot('failure').catch(() => {});
  } finally {
    await browser.close();
  }
  console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
  process.exit(failed ? 1 : 0);
}
