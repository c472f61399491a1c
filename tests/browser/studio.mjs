// The studio's asset list in a real headless Chromium, driven by playwright-core: an
// editor sees every asset with its state, filters by state, requeues a cancelled job,
// cancels it again while it runs, and deletes an asset (confirming the browser's dialog); the row goes. Then the viewing
// figures: the watched title is the most watched, with a bar for today, and choosing it
// shows its own days. Screenshots of each step go to <artifacts>.
// Usage: node tests/browser/studio.mjs <edge url> <editor email> <password> <ready asset> <cancelled asset> <watched title> <artifacts dir>
import { launch, openPage, run, signIn, step } from './harness.mjs';

const [url, email, password, ready, cancelled, watched, artifacts] = process.argv.slice(2);
const browser = await launch({ autoplay: false });
const { page, shot } = await openPage(browser, artifacts);
const row = id => page.locator(`[data-testid=asset-row][data-asset="${id}"]`);
await run(browser, shot, async () => {
  page.on('dialog', dialog => dialog.accept());
  await signIn(page, url, email, password);
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
  // Only a running job has a Cancel button; the 40 s 1080p source takes far longer to
  // transcode than this test takes to click it.
  await page.waitForFunction(id => /^processing/.test(document.querySelector(`[data-testid=asset-row][data-asset="${id}"] [data-testid=asset-state-cell]`)?.textContent || ''), cancelled, { timeout: 15_000 });
  step('requeued: the job is back in the queue');
  // The source is long enough that its transcode is still running: cancel it from here.
  await row(cancelled).getByTestId('cancel-job').click();
  await page.waitForFunction(id => /^cancelled/.test(document.querySelector(`[data-testid=asset-row][data-asset="${id}"] [data-testid=asset-state-cell]`)?.textContent || ''), cancelled, { timeout: 15_000 });
  step('cancelled from the studio: the job stopped');

  await row(ready).getByTestId('delete-asset').click();
  await row(ready).waitFor({ state: 'detached', timeout: 15_000 });
  await shot('studio-after-delete');
  step('deleted from the studio: the row is gone');

  const top = page.getByTestId('viewing-title').filter({ hasText: watched });
  await top.waitFor({ timeout: 15_000 });
  step(`most watched: ${(await top.locator('td').allTextContents()).map(t => t.trim()).join(' ')}`);
  const bars = page.getByTestId('viewing-bar');
  const today = await bars.last().getAttribute('data-secs');
  step(`viewing chart: ${await bars.count()} days, ${today} s watched today`);
  await top.getByRole('button').click();
  await page.waitForFunction(() => !document.getElementById('viewing-all').hidden);
  step(`one title: ${(await page.getByTestId('viewing-total').textContent()).trim()}`);
  await page.getByTestId('viewing').scrollIntoViewIfNeeded();
  await shot('studio-viewing');

  // Webhooks: an endpoint inside the network is refused with its code; a public one is
  // added, its secret shown once, its (empty or growing) log opened, and it is deleted.
  await page.getByTestId('webhook-url').fill('https://127.0.0.1/hook');
  await page.getByTestId('add-webhook').click();
  await page.waitForFunction(() => /webhook_url_refused/.test(document.querySelector('[data-testid=webhook-error]').textContent));
  step(`refused: ${(await page.getByTestId('webhook-error').textContent()).trim().split(':')[0]}`);
  await page.getByTestId('webhook-url').fill('https://93.184.216.34/hook');
  await page.getByTestId('add-webhook').click();
  await page.getByTestId('webhook-row').waitFor({ timeout: 15_000 });
  const shown = (await page.getByTestId('webhook-secret').textContent()).trim();
  step(`webhook added, secret shown: ${/whsec_[A-Za-z0-9+/=]{40,}/.test(shown)}`);
  await page.getByTestId('webhook-open-log').click();
  await page.getByTestId('webhook-log').locator('h3').waitFor();
  await page.getByTestId('webhooks').scrollIntoViewIfNeeded();
  await shot('studio-webhooks');
  await page.getByTestId('delete-webhook').click();
  await page.getByTestId('webhook-row').waitFor({ state: 'detached', timeout: 15_000 });
  step('webhook deleted');
});
