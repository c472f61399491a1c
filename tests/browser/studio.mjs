// The studio's asset list in a real headless Chromium, driven by playwright-core: an
// editor sees every asset with its state, filters by state, requeues a cancelled job
// and deletes an asset (confirming the browser's dialog); the row goes. Screenshots of
// each step go to <artifacts>.
// Usage: node tests/browser/studio.mjs <edge url> <editor email> <password> <ready asset> <cancelled asset> <artifacts dir>
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [url, email, password, ready, cancelled, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const step = message => console.log(`browser: ${message}`);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--no-first-run', '--disable-sync', '--disable-quic'],
});
let failed = false;
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
const shot = name => page.screenshot({ path: `${artifacts}/${name}.png`, fullPage: true });
const row = id => page.locator(`[data-testid=asset-row][data-asset="${id}"]`);
try {
  page.on('pageerror', error => console.log(`page error: ${error.message}`));
  page.on('dialog', dialog => dialog.accept());
  await page.goto(`${url}/#/login`);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('studio-link').click();
  await row(ready).waitFor({ timeout: 15_000 });
  await row(cancelled).waitFor();
  const states = await page.locator('[data-testid=asset-state-cell]').allTextContents();
  step(`studio lists ${states.length} assets: ${states.map(s => s.trim().split(/\s/)[0]).join(', ')}`);
  await shot('studio-assets');

  await page.getByTestId('asset-state').selectOption('cancelled');
  await page.waitForFunction(id => document.querySelectorAll('[data-testid=asset-row]').length === 1
    && document.querySelector(`[data-testid=asset-row][data-asset="${id}"]`), cancelled, { timeout: 15_000 });
  step('the filter shows the cancelled asset alone');
  await row(cancelled).getByTestId('requeue-job').click();
  await page.getByTestId('asset-state').selectOption('');
  await page.waitForFunction(id => /^(processing|ready)/.test(document.querySelector(`[data-testid=asset-row][data-asset="${id}"] [data-testid=asset-state-cell]`)?.textContent || ''), cancelled, { timeout: 15_000 });
  step('requeued: the job is back in the queue');

  await row(ready).getByTestId('delete-asset').click();
  await row(ready).waitFor({ state: 'detached', timeout: 15_000 });
  await shot('studio-after-delete');
  step('deleted from the studio: the row is gone');
} catch (error) {
  failed = true;
  console.log(`browser: FAILED: ${error.message}`);
  await shot('failure').catch(() => {});
} finally {
  await browser.close();
}
console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
