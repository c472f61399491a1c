// A kids profile in a real headless Chromium, driven by playwright-core: a viewer adds a
// kids profile (up to PG) and chooses it; browse and search then show the G-rated title
// and not the R-rated one, and the R-rated title's page is not found; back on the
// grown-up profile, both are there. Screenshots go to <artifacts>.
// Usage: node tests/browser/kids.mjs <edge url> <viewer email> <password> <artifacts dir>
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [url, email, password, artifacts] = process.argv.slice(2);
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
const cards = () => page.evaluate(() => [...document.querySelectorAll('#titles [data-testid=title-card] strong')].map(s => s.textContent));
try {
  page.on('pageerror', error => console.log(`page error: ${error.message}`));
  await page.goto(`${url}/#/login`);
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('title-card').first().waitFor();
  const grownUp = await cards();
  if (!grownUp.includes('Thriller') || !grownUp.includes('Cartoon')) throw new Error(`the grown-up profile sees ${grownUp}`);
  step(`grown-up profile browses: ${grownUp.sort().join(', ')}`);

  await page.getByTestId('profiles-link').click();
  await page.getByTestId('profile-name').fill('Kid');
  await page.getByTestId('profile-kids').check();
  await page.getByTestId('profile-rating').selectOption('PG');
  await page.getByTestId('add-profile').click();
  await page.locator('[data-testid=profile-list] li', { hasText: 'Kid' }).getByTestId('choose-profile').click();
  await page.getByTestId('title-card').first().waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=profiles-link]')?.textContent.includes('(kids)'));
  const kids = await cards();
  await shot('kids-browse');
  if (kids.includes('Thriller') || !kids.includes('Cartoon')) throw new Error(`the kids profile sees ${kids}`);
  step(`kids profile browses: ${kids.join(', ')}`);

  await page.getByTestId('search').fill('thriller');
  await page.getByTestId('search').press('Enter');
  await page.waitForFunction(() => document.getElementById('list-heading')?.textContent.startsWith('Results'));
  if ((await cards()).length !== 0) throw new Error('the kids profile found the R-rated title');
  await page.goto(`${url}/#/title/thriller`);
  await page.getByTestId('page-error').waitFor({ timeout: 15_000 });
  await shot('kids-mature-title');
  step('the R-rated title is neither found nor opened on the kids profile');

  await page.goto(`${url}/#/profiles`);
  await page.locator('[data-testid=profile-list] li', { hasText: 'Main' }).getByTestId('choose-profile').click();
  await page.waitForFunction(() => [...document.querySelectorAll('#titles [data-testid=title-card] strong')].some(s => s.textContent === 'Thriller'), null, { timeout: 15_000 });
  step('back on the grown-up profile, the R-rated title is there again');
} catch (error) {
  failed = true;
  console.log(`browser: FAILED: ${error.message}`);
  await shot('failure').catch(() => {});
} finally {
  await browser.close();
}
console.log(failed ? '0 passed, 1 failed' : '1 passed, 0 failed');
process.exit(failed ? 1 : 0);
