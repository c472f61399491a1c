// Episodes in a real headless Chromium, driven by playwright-core: a viewer opens a
// series, plays its first episode, and at its end is offered the next, which plays; back
// on browse (a featured title, genre rows, poster frames), the seek bar's storyboard
// previews, the continue-watching row (with a progress bar) holds that episode, and opening it resumes where
// it stopped. Screenshots of each step go to <artifacts>.
// Usage: node tests/browser/episodes.mjs <edge url> <viewer email> <password> <series slug> <artifacts dir>
import { launch, openPage, run, signIn, step } from './harness.mjs';

const [url, email, password, slug, artifacts] = process.argv.slice(2);
const browser = await launch({ autoplay: true });
const { page, shot } = await openPage(browser, artifacts);
await run(browser, shot, async () => {
  await signIn(page, url, email, password);
  await page.getByTestId('title-card').first().waitFor();
  step('signed in');
  // Browse shows pictures: the series has no artwork of its own, so its first episode's
  // poster frame stands in, in the featured banner and in its genre's row.
  await page.getByTestId('featured').waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=genre-row] img.poster')].some(i => i.complete && i.naturalWidth > 0), null, { timeout: 15_000 });
  const genres = await page.locator('[data-testid=genre-row]').count();
  await shot('browse');
  step(`browse shows a featured title and ${genres} genre row(s) with poster frames`);

  await page.goto(`${url}/#/title/${slug}`);
  await page.getByTestId('play-episode').first().waitFor();
  await shot('series-page');
  await page.getByTestId('play-episode').first().click();
  await page.waitForFunction(() => document.querySelector('[data-testid=episode-label]')?.textContent.startsWith('S1 E1'), null, { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelector('video')?.currentTime > 0.5, null, { timeout: 60_000 });
  step('episode 1 plays');
  // Hovering the seek bar shows the storyboard tile of that moment.
  const bar = await page.getByTestId('scrub').boundingBox();
  await page.mouse.move(bar.x + bar.width * 0.6, bar.y + bar.height / 2);
  await page.getByTestId('preview').waitFor({ state: 'visible', timeout: 15_000 });
  const tile = await page.evaluate(() => getComputedStyle(document.querySelector('[data-testid=preview]')).backgroundImage);
  if (!tile.includes('storyboard.jpg')) throw new Error(`the preview shows ${tile}`);
  await shot('seek-preview');
  step('hovering the seek bar previews the storyboard');

  // To its end: the next episode is offered, with a countdown.
  await page.evaluate(() => { const v = document.querySelector('video'); v.currentTime = v.duration - 0.3; });
  await page.getByTestId('up-next').waitFor({ state: 'visible', timeout: 30_000 });
  const offered = (await page.getByTestId('up-next').textContent()).replace(/\s+/g, ' ').trim();
  if (!offered.includes('S1 E2')) throw new Error(`expected S1 E2 to be offered, got ${offered}`);
  await shot('up-next');
  step(`at the end: ${offered}`);
  await page.getByTestId('next-episode').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=episode-label]')?.textContent.startsWith('S1 E2'), null, { timeout: 15_000 });
  await page.waitForFunction(() => document.querySelector('video')?.currentTime > 1, null, { timeout: 60_000 });
  await page.evaluate(() => document.querySelector('video').pause());
  await page.waitForFunction(() => Number(document.querySelector('video')?.dataset.reported || 0) > 1, null, { timeout: 30_000 });
  const stopped = await page.evaluate(() => Number(document.querySelector('video').dataset.reported));
  await shot('episode-2');
  step(`went on to the next episode; stopped at ${stopped.toFixed(1)} s`);

  await page.goto(`${url}/#/`);
  const card = page.getByTestId('resume-card').filter({ hasText: 'S1 E2' });
  await card.waitFor({ timeout: 15_000 });
  const done = Number(await card.getByTestId('resume-progress').getAttribute('value'));
  if (!(done > 0)) throw new Error(`the continue-watching card shows ${done}% watched`);
  await shot('continue-watching');
  await card.click();
  await page.waitForFunction(() => document.querySelector('video')?.dataset.resumedFrom !== undefined, null, { timeout: 30_000 });
  const resumed = await page.evaluate(() => Number(document.querySelector('video').dataset.resumedFrom));
  const label = await page.getByTestId('episode-label').textContent();
  if (!label.startsWith('S1 E2') || !(Math.abs(resumed - stopped) < 1.5)) throw new Error(`continue watching opened ${label} at ${resumed} s`);
  step(`continue watching resumed the episode at ${resumed.toFixed(1)} s`);
});
