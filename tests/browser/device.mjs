// TV sign-in in a real headless Chromium, driven by playwright-core: the viewer opens the
// link a TV shows (with its code), is asked to sign in, lands back on the activation page
// with the code filled in, and approves; the TV's poll then gets its session (checked by
// the Rust side). Screenshots go to <artifacts>.
// Usage: node tests/browser/device.mjs <edge url> <viewer email> <password> <user code> <artifacts dir>
import { launch, openPage, run, step } from './harness.mjs';

const [url, email, password, code, artifacts] = process.argv.slice(2);
const browser = await launch();
const { page, shot } = await openPage(browser, artifacts);
await run(browser, shot, async () => {
  await page.goto(`${url}/#/activate?code=${encodeURIComponent(code)}`);
  await page.getByTestId('email').waitFor();
  await page.getByTestId('email').fill(email);
  await page.getByTestId('password').fill(password);
  await page.getByTestId('sign-in').click();
  await page.getByTestId('device-code').waitFor();
  const shown = await page.getByTestId('device-code').inputValue();
  if (shown !== code) throw new Error(`the activation page shows ${shown}, not ${code}`);
  step('signing in led back to the activation page, code filled in');
  await page.getByTestId('approve-device').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=activate-said]')?.textContent.startsWith('Done'), null, { timeout: 15_000 });
  await shot('device-approved');
  step('approved the TV');
});
