// browser.mjs - Debian's Chromium driven by playwright-core for the browser tests: launch (headless,
// trusting the development CA and nothing else), independent contexts for independent users, an
// axe-core audit of a page, and screenshots named by screen and language.
//
// Certificate trust: Chromium on Linux takes its locally added trust anchors from the NSS database
// in $HOME/.pki/nssdb. The browser is started with HOME set to a fresh temporary folder whose NSS
// database holds the test daemon's CA (certutil, Debian package libnss3-tools), so TLS is verified
// for real (chain, name 127.0.0.1, validity) with ignoreHTTPSErrors false; no certificate error is
// ignored or pinned away.
import { chromium } from 'playwright-core';
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync, rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const require = createRequire(import.meta.url);

export const LAUNCH_TIMEOUT_MS = 20_000;
export const ACTION_TIMEOUT_MS = 5_000; // every wait of a page or context, unless a test says so

/** Chromium's executable: $CHROMIUM, else Debian's /usr/bin/chromium; a clear error if absent. */
export function chromiumPath() {
  const exe = process.env.CHROMIUM || '/usr/bin/chromium';
  try {
    accessSync(exe, constants.X_OK);
  } catch {
    throw new Error(`Chromium not found at ${exe}: install Debian's package \`chromium\` ` +
      '(apt-get install chromium; scripts/deps.sh does) or set CHROMIUM to its executable. ' +
      'Never a downloaded browser build.');
  }
  return exe;
}

// The throw-away homes still in use, removed if the test process exits without close()
// (playwright itself kills the browsers it launched when the process exits).
const homes = new Set();
process.on('exit', () => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

// A throw-away $HOME whose NSS database trusts caFile for TLS servers only ("C,,").
async function homeTrusting(caFile) {
  const home = await mkdtemp(join(tmpdir(), 'sesame-chromium-'));
  homes.add(home);
  const db = `sql:${join(home, '.pki', 'nssdb')}`;
  await mkdir(join(home, '.pki', 'nssdb'), { recursive: true });
  try {
    await run('certutil', ['-N', '-d', db, '--empty-password'], { timeout: 10_000 });
    await run('certutil', ['-A', '-d', db, '-n', 'Sesame test CA', '-t', 'C,,', '-i', caFile],
      { timeout: 10_000 });
  } catch (e) {
    await dropHome(home);
    if (e.code === 'ENOENT') {
      throw new Error('certutil not found: install Debian\'s package `libnss3-tools` ' +
        '(scripts/deps.sh does); the browser trusts the test CA through its NSS database');
    }
    throw e;
  }
  return home;
}

async function dropHome(home) {
  homes.delete(home);
  await rm(home, { recursive: true, force: true });
}

/**
 * Launches headless Chromium trusting caFile (the test daemon's CA). Returns {browser,
 * newContext(options), close()}. Chromium's sandbox is switched off (--no-sandbox) only when
 * running as root, where Chromium refuses to start with it (CI runs as root).
 */
export async function launchBrowser({ caFile }) {
  const executablePath = chromiumPath();
  const home = await homeTrusting(caFile);
  let browser;
  try {
    browser = await chromium.launch({
      executablePath,
      headless: true,
      chromiumSandbox: process.getuid?.() !== 0, // false adds --no-sandbox
      env: { ...process.env, HOME: home },
      timeout: LAUNCH_TIMEOUT_MS,
    });
  } catch (e) {
    await dropHome(home);
    throw e;
  }
  return {
    browser,
    /**
     * A new, independent browser context (its own cookies, storage and IndexedDB: one per user).
     * locale defaults to fr-FR, the client's first language.
     */
    async newContext({ locale = 'fr-FR', ...more } = {}) {
      const ctx = await browser.newContext({
        locale,
        ignoreHTTPSErrors: false,
        viewport: { width: 1280, height: 800 },
        ...more,
      });
      ctx.setDefaultTimeout(ACTION_TIMEOUT_MS);
      ctx.setDefaultNavigationTimeout(ACTION_TIMEOUT_MS);
      return ctx;
    },
    async close() {
      try {
        let timer;
        await Promise.race([browser.close(),
          new Promise((r) => { timer = setTimeout(r, 10_000); })]);
        clearTimeout(timer);
      } finally {
        await dropHome(home);
      }
    },
  };
}

let axeSource;
/**
 * Runs axe-core in the page and returns its violations (each with id, impact, help, nodes).
 * The page's CSP forbids inline scripts, so page.addScriptTag({content}) would be refused. Rather
 * than bypassCSP (which would audit a page whose policy is switched off), axe's source is handed
 * to page.evaluate: playwright runs it through the DevTools protocol (Runtime.evaluate), which
 * the page's CSP does not govern, so the page keeps its real policy during the audit.
 */
export async function axeViolations(page, { tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } = {}) {
  axeSource ??= readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.evaluate(axeSource);
  const result = await page.evaluate(
    (runOnly) => window.axe.run(document, { runOnly: { type: 'tag', values: runOnly } }),
    tags);
  if (result.passes.length === 0) throw new Error('axe-core checked nothing on this page');
  return result.violations.map(({ id, impact, help, nodes }) => ({
    id, impact, help, targets: nodes.map((n) => n.target.join(' ')),
  }));
}

/** The violations of impact serious or critical, the ones a test refuses. */
export async function seriousViolations(page, options) {
  return (await axeViolations(page, options)).filter((v) => v.impact === 'serious' ||
    v.impact === 'critical');
}

/** The folder screenshots go to: $WEB_TEST_OUT, else tests/web/out (git-ignored). */
export function outDir() {
  return process.env.WEB_TEST_OUT || fileURLToPath(new URL('../out', import.meta.url));
}

/** Saves a full-page screenshot as OUT/<screen>.<lang>.png and returns its path. */
export async function saveScreenshot(page, screen, lang) {
  const safe = (s) => String(s).replace(/[^A-Za-z0-9_-]+/g, '-');
  const dir = outDir();
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${safe(screen)}.${safe(lang)}.png`);
  await page.screenshot({ path: file, fullPage: true, timeout: ACTION_TIMEOUT_MS });
  return file;
}
