// A kids profile in a real headless Chromium, driven by playwright-core: a viewer adds a
// kids profile (up to PG) and chooses it; browse and search then show the G-rated title
// and not the R-rated one, and the R-rated title's page is not found; back on the
// grown-up profile, both are there. Screenshots go to <artifacts>.
// Usage: node tests/browser/kids.mjs <edge url> <viewer email> <password> <artifacts dir>
import { launch, openPage, run, signIn, step } from './harness.mjs';

const [url, email, password, artifacts] = process.argv.slice(2);
const browser = await launch({ autoplay: false });
const { page, shot } = await openPage(browser, artifacts);
const cards = () => page.evaluate(() => [...document.querySelectorAll('#titles [data-testid=title-card] strong')].map(s => s.textContent));
await run(browser, shot, async () => {
  await signIn(page, url, email, password);
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
});
