// smoke.test.mjs - ctest web.smoke: the browser harness end to end. A real sesamed serves the tiny
// fixture web root (tests/web/fixture) over real TLS and real Chromium checks: the page loads over
// HTTPS trusting only the test CA, the security headers are there, the CSP refuses an inline
// script, the page's module reaches the WebSocket on its own origin and shows the server's first
// frame (PROTOCOL.md §4: hello), axe-core finds no serious or critical violation, a screenshot is
// written, and two contexts are two users who share no storage.
// Run: SESAMED=build/daemon/sesamed node --test-reporter=spec tests/web/smoke.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { startDaemon } from './lib/daemon.mjs';
import { launchBrowser, saveScreenshot, seriousViolations } from './lib/browser.mjs';

const FIXTURE = fileURLToPath(new URL('./fixture', import.meta.url));
const MODULE = '/assets/app.b438fe70.js';
const STYLES = '/assets/app.a8a199ef.css';

// What sesamed sends on every HTTP response (daemon/transport_ws.c), checked exactly.
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; " +
    "style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
    "manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=31536000',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=()',
};

describe('web smoke: a fixture served by a real sesamed, in real Chromium', { timeout: 30_000 }, () => {
  let daemon;
  let chrome;
  let ctx;

  before(async () => {
    daemon = await startDaemon({ webRoot: FIXTURE });
    chrome = await launchBrowser({ caFile: daemon.caFile });
    ctx = await chrome.newContext({ locale: 'en-GB' });
  });

  after(async () => {
    await chrome?.close();
    const status = await daemon?.stop();
    if (daemon) assert.deepEqual(status, { code: 0, signal: null }, 'sesamed exits 0 on SIGTERM');
  });

  // The daemon's log, for a failure's message.
  const withLog = async (what, fn) => {
    try {
      return await fn();
    } catch (e) {
      e.message += `\n--- sesamed log (${what}) ---\n${daemon.logTail()}`;
      throw e;
    }
  };

  test('the page loads over HTTPS from the daemon, TLS verified against the test CA', async () => {
    const page = await ctx.newPage();
    const assets = new Map();
    page.on('response', (r) => assets.set(new URL(r.url()).pathname, r));
    const res = await page.goto(`${daemon.origin}/`);
    assert.equal(res.status(), 200);
    assert.equal(res.url(), `${daemon.origin}/`);
    assert.deepEqual(await page.evaluate(() => [location.protocol, window.isSecureContext]),
      ['https:', true]);
    const tls = await res.securityDetails();
    assert.equal(tls.issuer, 'Sesame development CA');
    assert.equal(tls.subjectName, 'localhost');
    assert.match(tls.protocol, /^TLS 1\.[23]$/);
    assert.deepEqual(await res.serverAddr(), { ipAddress: '127.0.0.1', port: daemon.port });
    assert.equal(await page.title(), 'Sesame browser smoke test');

    const headers = await res.allHeaders();
    for (const [name, value] of Object.entries(HEADERS)) assert.equal(headers[name], value, name);
    assert.equal(headers['content-type'], 'text/html');

    // the hashed module and the style sheet: same origin, right types, cached for a year
    await page.waitForLoadState('load');
    const js = assets.get(MODULE);
    const css = assets.get(STYLES);
    assert.ok(js && css, `responses seen: ${[...assets.keys()].join(', ')}`);
    assert.equal(js.status(), 200);
    assert.equal((await js.allHeaders())['content-type'], 'text/javascript');
    assert.match((await js.allHeaders())['cache-control'], /max-age=31536000/);
    assert.equal(css.status(), 200);
    assert.equal((await css.allHeaders())['content-type'], 'text/css');
    // nosniff would refuse a style sheet of another type: this proves it applied
    assert.equal(await page.evaluate(() => getComputedStyle(document.body).backgroundColor),
      'rgb(250, 248, 240)');
    await page.close();
  });

  test('the CSP refuses an inline script in a real browser, external scripts still run', async () => {
    const page = await ctx.newPage();
    await page.addInitScript(() => {
      window.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.cspViolations.push({
          directive: e.effectiveDirective, blocked: e.blockedURI, disposition: e.disposition,
        });
      });
    });
    // Chromium also says so on the console (settled either way: no rejection left unhandled)
    const consoleRefusal = page.waitForEvent('console', {
      predicate: (m) => m.type() === 'error' && /Content Security Policy/.test(m.text()),
    }).catch((e) => e);
    const res = await page.goto(`${daemon.origin}/inline.html`);
    assert.equal(res.status(), 200);
    assert.equal((await res.allHeaders())['content-security-policy'],
      HEADERS['content-security-policy']);
    // the external script comes after the inline one: once it ran, the inline one had its turn
    await page.waitForFunction(() => document.body.dataset.external === 'ran');
    assert.equal(await page.evaluate(() => document.body.dataset.inline), undefined,
      'the inline script ran: the CSP was not enforced');
    await page.waitForFunction(() => window.cspViolations.length > 0);
    assert.deepEqual(await page.evaluate(() => window.cspViolations),
      [{ directive: 'script-src-elem', blocked: 'inline', disposition: 'enforce' }]);
    const message = await consoleRefusal;
    assert.ok(!(message instanceof Error), `no CSP message on the console: ${message.message}`);
    assert.match(message.text(), /script-src/);
    await page.close();
  });

  test('the module reaches the WebSocket on its origin and shows the server\'s hello', async () => {
    const page = await ctx.newPage();
    const socket = page.waitForEvent('websocket');
    const t0 = Date.now();
    await page.goto(`${daemon.origin}/`);
    assert.equal((await socket).url(), daemon.url);
    await withLog('websocket', () =>
      page.waitForFunction(() => document.body.dataset.ws !== undefined));
    assert.equal(await page.evaluate(() => document.body.dataset.ws), 'received',
      `the page says: ${await page.locator('#state').textContent()}`);
    assert.equal(await page.locator('#state').textContent(), 'first frame received');
    const frame = page.locator('#frame');
    assert.equal(await frame.getAttribute('data-protocol'), 'sesame.1');
    const hello = JSON.parse(await frame.textContent());
    // PROTOCOL.md §4: {"t":"hello","v":1,"server_id":B64(16),"nonce":B64(32),"time":MS}
    assert.deepEqual(Object.keys(hello).sort(), ['nonce', 'server_id', 't', 'time', 'v']);
    assert.equal(hello.t, 'hello');
    assert.equal(hello.v, 1);
    assert.equal(hello.server_id, daemon.serverId);
    assert.match(hello.nonce, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(Number.isInteger(hello.time) && Math.abs(hello.time - t0) < 60_000,
      `server time ${hello.time}, test time ${t0}`);
    await page.close();
  });

  test('axe-core finds no serious or critical violation; a screenshot is written', async () => {
    const page = await ctx.newPage();
    await page.goto(`${daemon.origin}/`);
    await page.waitForFunction(() => document.body.dataset.ws !== undefined);
    assert.deepEqual(await seriousViolations(page), []);
    const file = await saveScreenshot(page, 'smoke', 'en');
    const png = await readFile(file);
    assert.ok(png.length > 1000, `${file}: ${png.length} bytes`);
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    await page.close();
  });

  test('two contexts are two users: one\'s IndexedDB is not the other\'s', async () => {
    const other = await chrome.newContext({ locale: 'fr-FR' });
    try {
      const a = await ctx.newPage();
      const b = await other.newPage();
      await a.goto(`${daemon.origin}/`);
      await b.goto(`${daemon.origin}/`);
      await a.evaluate(() => new Promise((resolve, reject) => {
        const rq = indexedDB.open('sesame-smoke', 1);
        rq.onupgradeneeded = () => rq.result.createObjectStore('s');
        rq.onsuccess = () => { rq.result.close(); resolve(); };
        rq.onerror = () => reject(rq.error);
      }));
      const names = (p) => p.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
      assert.deepEqual(await names(a), ['sesame-smoke']);
      assert.deepEqual(await names(b), []);
      assert.equal(await b.evaluate(() => navigator.language), 'fr-FR');
      assert.equal(await a.evaluate(() => navigator.language), 'en-GB');
      await a.close();
    } finally {
      await other.close();
    }
  });
});
