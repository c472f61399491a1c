// The web app in a real headless Chromium (Debian's), driven by playwright-core: an
// editor signs in, creates a title, uploads a clip with the progress bar (tus-js-client,
// which resumes after a cut connection), waits for the live transcode to reach "ready",
// sees the clip's audio and subtitle tracks in the studio, publishes, plays it (time
// advances, at least two renditions offered), switches to the second audio language, turns
// subtitles on and sees a cue, and after a reload playback resumes where it stopped with
// the audio language it chose; a visitor who is not signed in lands on browse.
// Usage: node tests/browser/e2e.mjs <edge url> <editor email> <password> <clip path> [artifacts dir]
import { launch, openPage, run, signIn, step } from './harness.mjs';

const [url, email, password, clip, artifacts] = process.argv.slice(2);
const browser = await launch({ autoplay: true });
const { page, shot } = await openPage(browser, artifacts);
await run(browser, shot, async () => {
  await signIn(page, url, email, password);
  await page.getByTestId('studio-link').waitFor();
  step('signed in');

  await page.getByTestId('studio-link').click();
  await page.getByTestId('new-title').fill('Browser Test Pattern');
  await page.getByTestId('new-slug').fill('browser-test-pattern');
  await page.getByTestId('file').setInputFiles(clip);
  // The studio uploads with tus-js-client: the first PATCH is cut before it reaches the
  // edge, and the client asks the server's offset (HEAD) and goes on from there.
  if (await page.evaluate(() => typeof window.tus?.Upload) !== 'function') throw new Error('tus-js-client is not loaded');
  const calls = [];
  await page.route('**/api/v1/uploads/*', route => {
    const method = route.request().method();
    calls.push(method);
    return method === 'PATCH' && calls.filter(m => m === 'PATCH').length === 1 ? route.abort('connectionreset') : route.fallback();
  });
  await page.getByTestId('create-upload').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=upload-progress]')?.value === 100, null, { timeout: 60_000 });
  await page.unroute('**/api/v1/uploads/*');
  if (!/^PATCH HEAD PATCH( PATCH)*$/.test(calls.join(' '))) throw new Error(`expected a cut PATCH, then HEAD and PATCH, got ${calls.join(' ')}`);
  step('uploaded with tus-js-client, resumed after a cut connection');
  await page.waitForFunction(() => document.querySelector('[data-testid=job-phase]')?.textContent === 'ready', null, { timeout: 180_000 });
  step('transcoded, as the live progress showed');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=audio-tracks] li').length === 2, null, { timeout: 30_000 });
  step(`studio lists the tracks: ${(await page.getByTestId('subtitle-tracks').textContent()).trim()}`);
  const rungs = await page.evaluate(() => [...document.querySelectorAll('[data-testid=ladder] li')].map(li => li.textContent));
  if (rungs.length < 2 || !rungs.every(r => /[1-9]\d*(\.\d)? (kB|MB)/.test(r))) throw new Error(`expected each rung with its size, got ${rungs}`);
  const size = (await page.getByTestId('ladder-size').textContent()).trim();
  if (!/ in storage · .+ per hour of content$/.test(size)) throw new Error(`expected the ladder's size, got ${size}`);
  step(`studio shows the ladder's bytes: ${size}`);
  await page.getByTestId('publish').click();
  await page.getByTestId('open-title').click();
  await page.getByTestId('play').click();

  await page.waitForFunction(() => document.querySelector('video')?.currentTime > 2, null, { timeout: 60_000 });
  const levels = await page.evaluate(() => window.ottrPlayer.levels.map(l => l.height));
  if (levels.length < 2) throw new Error(`expected at least two renditions, got ${levels}`);
  await shot('playing');
  step(`playing; renditions offered: ${levels.join(', ')}`);

  const tracks = await page.evaluate(() => window.ottrPlayer.audioTracks.map(t => `${t.lang}:${t.name}`));
  if (tracks.length !== 2) throw new Error(`expected two audio languages, got ${tracks}`);
  await page.getByTestId('audio').selectOption('1');
  await page.waitForFunction(() => window.ottrPlayer.audioTrack === 1, null, { timeout: 15_000 });
  const at = await page.evaluate(() => document.querySelector('video').currentTime);
  await page.waitForFunction(t => document.querySelector('video').currentTime > t + 1, at, { timeout: 30_000 });
  step(`switched audio from ${tracks[0]} to ${tracks[1]}; still playing`);
  await page.getByTestId('subtitles').selectOption('0');
  const cue = await page.waitForFunction(() => {
    for (const track of document.querySelector('video').textTracks) {
      if (track.mode === 'showing' && track.activeCues && track.activeCues.length) return track.activeCues[0].text;
    }
    return false;
  }, null, { timeout: 30_000 });
  step(`subtitle cue shown: ${await cue.jsonValue()}`);
  await page.waitForFunction(() => Number(document.querySelector('video')?.dataset.reported || 0) > 2, null, { timeout: 30_000 });
  const reported = await page.evaluate(() => Number(document.querySelector('video').dataset.reported));
  step(`position reported: ${reported.toFixed(1)} s`);

  await page.reload();
  await page.waitForFunction(() => document.querySelector('video')?.dataset.resumedFrom !== undefined, null, { timeout: 30_000 });
  const resumed = await page.evaluate(() => Number(document.querySelector('video').dataset.resumedFrom));
  if (!(resumed >= 2)) throw new Error(`playback did not resume (from ${resumed} s)`);
  step(`resumed from ${resumed.toFixed(1)} s`);
  await page.waitForFunction(() => window.ottrPlayer.audioTracks.length === 2 && window.ottrPlayer.audioTrack === 1, null, { timeout: 30_000 });
  step('audio choice remembered for the profile');

  // A visitor who is not signed in (a new browser context: nothing stored) lands on
  // browse, finds the published title, and is asked to sign in to play it.
  const visitor = await browser.newPage();
  await visitor.goto(`${url}/`);
  await visitor.getByTestId('visitor-hint').waitFor();
  const names = await visitor.evaluate(() => [...document.querySelectorAll('[data-testid=title-card] strong')].map(s => s.textContent));
  if (!names.includes('Browser Test Pattern')) throw new Error(`the visitor's browse page lists ${names}`);
  await visitor.getByTestId('title-card').filter({ hasText: 'Browser Test Pattern' }).click();
  const play = (await visitor.getByTestId('play').textContent()).trim();
  if (play !== 'Sign in to play' || await visitor.getByTestId('watchlist').count() !== 0) throw new Error(`visitor's title page: ${play}`);
  step('a visitor lands on browse and is asked to sign in to play');
});
