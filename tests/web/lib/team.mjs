// team.mjs - what the browser tests of a care team share (client, review, recs): the web root
// built from clients/web, one real sesamed and one Chromium per test file, the real CLI with one
// home per user (its clock moved like the daemon's), browser devices enrolled from a link or as a
// second device of a user's CLI (`sesame device link`), the axe-core audit with its French and
// English screenshots, moving the daemon's clock (lib/clock.mjs: a `test_clock` request over a
// throw-away admin device, no restart), and the checks of an IHE XDM package's CDA that the
// CLI's own tests make (tests/integration/test_cli_recs.c).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { startDaemon } from './daemon.mjs';
import { launchBrowser, saveScreenshot, seriousViolations } from './browser.mjs';
import { advanceClock } from './clock.mjs';

/** execFile as a promise: resolves with {stdout, stderr}, rejects with the exit code in `code`. */
export const run = promisify(execFile);
export const LIVE_MS = 10_000; // a push reaching another browser, a page reconnecting
export const DAY_MS = 86_400_000;
export const CLI_TIMEOUT_MS = 20_000;
const BUILD = fileURLToPath(new URL('../../../clients/web/build.mjs', import.meta.url));

/** The sesame CLI named by $SESAME_CLI; throws a clear error when it is unset. */
export function cliPath() {
  const bin = process.env.SESAME_CLI;
  if (!bin) throw new Error('SESAME_CLI is not set: point it at the built CLI (e.g. build/clients/cli/sesame)');
  return bin;
}

/**
 * Builds the web client (clients/web/build.mjs) into dir, the daemon's --web-root.
 * @param {string} dir an empty or missing folder
 */
export async function buildWebRoot(dir) {
  await run(process.execPath, [BUILD, '--out', dir], { timeout: 60_000 });
}

/** Resolves once the page's connection indicator says online (bounded by LIVE_MS). */
export const online = (page) => page.locator('.conn[data-state="online"]').waitFor({ timeout: LIVE_MS });

/**
 * Checks a screen with axe-core and screenshots it, in French then English (SCREEN.fr.png,
 * SCREEN.en.png); fails on any serious or critical violation. Leaves the page in English.
 * @param {import('playwright-core').Page} page
 * @param {string} screen the screenshot's name
 */
export async function audit(page, screen) {
  const language = () => page.getByRole('combobox', { name: /Langue|Language/ }).first();
  for (const lang of ['fr', 'en']) {
    await language().selectOption(lang);
    await page.waitForFunction((l) => document.documentElement.lang === l, lang);
    const bad = await seriousViolations(page);
    assert.deepEqual(bad, [], `axe on ${screen} (${lang}): ${JSON.stringify(bad, null, 1)}`);
    await saveScreenshot(page, screen, lang);
  }
  await language().selectOption('en');
  await page.waitForFunction(() => document.documentElement.lang === 'en');
}

/** An ISO date (YYYY-MM-DD) of a day number (days since 1970-01-01, UTC). */
export const isoOfDay = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);

/**
 * A team's test bench: one daemon (with --test-hooks when testHooks), one Chromium trusting its
 * CA, a temporary folder holding the web root and the CLI homes. Stop it in `after`.
 * @param {{testHooks?: boolean}} [options] testHooks: the daemon accepts test_clock (advanceClock)
 * @returns {Promise<Team>}
 */
export async function startTeam({ testHooks = false } = {}) {
  const tmp = await mkdtemp(join(tmpdir(), 'sesame-team-'));
  let daemon;
  try {
    await buildWebRoot(join(tmp, 'web'));
    daemon = await startDaemon({ webRoot: join(tmp, 'web'), args: testHooks ? ['--test-hooks'] : [] });
    const chrome = await launchBrowser({ caFile: daemon.caFile });
    return new Team({ tmp, daemon, chrome, testHooks });
  } catch (e) {
    await daemon?.stop();
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** See startTeam. Users are named by a short key (`who`: 'admin', 'nurse', 'gp', ...). */
export class Team {
  constructor({ tmp, daemon, chrome, testHooks }) {
    /** the temporary folder (web root, CLI homes, files a test writes); removed by stop() */
    this.tmp = tmp;
    /** startDaemon's handle */
    this.daemon = daemon;
    /** launchBrowser's handle */
    this.chrome = chrome;
    this.testHooks = testHooks;
    /** @type {Record<string, string>} who -> CLI home */
    this.home = {};
    /** @type {Record<string, string>} who -> user id */
    this.user = {};
    /** @type {Record<string, import('playwright-core').Page>} who -> browser page */
    this.pages = {};
    /** how far the daemon's clock (and the CLI's, and the pages') is ahead of the wall clock */
    this.offsetMs = 0;
  }

  /** Today's day number on the moved clock (days since 1970-01-01, UTC). */
  today() {
    return Math.floor((Date.now() + this.offsetMs) / DAY_MS);
  }

  /** The ISO date `days` days from today on the moved clock. */
  day(days = 0) {
    return isoOfDay(this.today() + days);
  }

  /**
   * Runs the CLI as who (`--home`), its clock moved like the daemon's
   * (SESAME_TEST_CLOCK_OFFSET_MS). With json (the default) it adds --json and resolves with the
   * parsed output (null when empty); otherwise with the standard output as text.
   * @param {string} who
   * @param {string[]} args
   * @param {{json?: boolean}} [options]
   */
  async cli(who, args, { json = true } = {}) {
    if (!this.home[who]) throw new Error(`no CLI home for ${who}: enrol it first`);
    const r = await run(cliPath(), ['--home', this.home[who], ...(json ? ['--json'] : []), ...args], {
      timeout: CLI_TIMEOUT_MS,
      env: { ...process.env, SESAME_TEST_CLOCK_OFFSET_MS: String(this.offsetMs) },
    });
    if (!json) return r.stdout;
    return r.stdout.trim() ? JSON.parse(r.stdout) : null;
  }

  /** The CLI's failure as who: resolves with {status, stderr}; rejects when it succeeds. */
  async cliFails(who, args) {
    try {
      await this.cli(who, args, { json: false });
    } catch (e) {
      return { status: e.code, stderr: e.stderr };
    }
    throw new Error(`sesame ${args.join(' ')} succeeded`);
  }

  /** Enrols a CLI device for who (home TMP/who) with an enrolment code. */
  async enrolCli(who, code) {
    this.home[who] ??= join(this.tmp, who);
    await run(cliPath(), ['--home', this.home[who], 'enroll', '--server', this.daemon.url,
      '--ca', this.daemon.caFile, '--code', code], { timeout: CLI_TIMEOUT_MS });
  }

  /** Enrols the first admin's CLI with the daemon's first code; sets user.admin. */
  async enrolAdmin() {
    await this.enrolCli('admin', this.daemon.adminCode);
    this.user.admin = (await this.cli('admin', ['whoami'])).user;
  }

  /**
   * The admin's CLI invites a user: resolves with `sesame admin invite --json`'s output
   * ({user, code, ...}) and records user[who].
   * @param {string} who
   * @param {string} role nurse, psychiatrist, gp, ...
   * @param {string} name
   * @param {{site?: string}} [options]
   */
  async invite(who, role, name, { site } = {}) {
    const inv = await this.cli('admin', ['admin', 'invite', '--role', role, '--name', name,
      ...(site ? ['--site', site] : [])]);
    this.user[who] = inv.user;
    return inv;
  }

  /** invite, then enrol who's CLI with the code; resolves with the invitation. */
  async addCliUser(who, role, name, options) {
    const inv = await this.invite(who, role, name, options);
    await this.enrolCli(who, inv.code);
    return inv;
  }

  /**
   * A new browser context (its own storage: one per device) and page for who, in English, page
   * errors and console errors logged, dialogs accepted; its clock installed (at the moved time)
   * when the daemon has test hooks, so that advanceClock moves it too. Sets pages[who].
   */
  async newPage(who) {
    const ctx = await this.chrome.newContext({ locale: 'en-GB' });
    if (this.testHooks) await ctx.clock.install({ time: Date.now() + this.offsetMs });
    const page = await ctx.newPage();
    page.on('dialog', (d) => d.accept());
    page.on('pageerror', (e) => console.error(`[${who}] page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && console.error(`[${who}] ${m.text()}`));
    this.pages[who] = page;
    return page;
  }

  /**
   * Enrols a browser for who from an enrolment link (`…/#code=…`): a new context, the enrolment
   * form (the code taken out of the address bar), Enrol, online. With screen, the form is
   * audited first under that name.
   * @param {string} who
   * @param {string} link
   * @param {{screen?: string}} [options]
   * @returns {Promise<import('playwright-core').Page>}
   */
  async enrolBrowser(who, link, { screen } = {}) {
    const page = await this.newPage(who);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Enrol this browser' }).waitFor();
    assert.equal(new URL(page.url()).hash, '#/', 'the code is taken out of the address bar');
    if (screen) await audit(page, screen);
    await page.getByRole('button', { name: 'Enrol' }).click();
    await online(page);
    return page;
  }

  /** A browser as a second device of who's CLI (`sesame device link`); resolves with its page. */
  async linkBrowser(who) {
    const { code } = await this.cli(who, ['device', 'link']);
    return this.enrolBrowser(who, `${this.daemon.origin}/#code=${code}`);
  }

  /** Opens who's page at a route (`#/recs`) and waits until it is online. */
  async go(who, hash) {
    await this.pages[who].goto(`${this.daemon.origin}/${hash}`);
    await online(this.pages[who]);
  }

  /**
   * Moves the daemon's clock forward by ms, live (a `test_clock` request from a throw-away
   * device of the admin, whose CLI must be enrolled), then the CLI's (offsetMs) and every page's.
   * The daemon's timed jobs (escalations, sessions that started, overdue recommendations) run at
   * once on the new time.
   */
  async advanceClock(ms) {
    if (!this.testHooks) throw new Error('advanceClock needs startTeam({testHooks: true})');
    const { code } = await this.cli('admin', ['admin', 'invite', '--user', this.user.admin]);
    await advanceClock(this.daemon, code, this.offsetMs, ms);
    this.offsetMs += ms;
    for (const page of Object.values(this.pages)) {
      await page.context().clock.setSystemTime(Date.now() + this.offsetMs);
    }
  }

  /** Closes the browser, stops the daemon, removes the folder; resolves with the daemon's exit. */
  async stop() {
    await this.chrome.close();
    const status = await this.daemon.stop();
    await rm(this.tmp, { recursive: true, force: true });
    return status;
  }
}

/** string(XPath) of a path under the CDA's root, `h:` standing for the HL7 v3 namespace. */
const cdaXpath = (path) => `string(/*[local-name()='ClinicalDocument']/${path
  .replace(/h:([A-Za-z]+)/g, "*[local-name()='$1']")})`;

/**
 * Checks an IHE XDM package (the ZIP's bytes) as tests/integration/test_cli_recs.c checks the
 * CLI's: its four files, a CDA that xmllint parses, the CDA header (type, template, the LOINC
 * document code, confidentiality, the patient's INS, birth name, sex and birth date, the author, the custodian,
 * a set id and time) and a PDF body in base64. Needs unzip and xmllint.
 * @param {Buffer} xdm the package
 * @param {string} dir a folder to write the ZIP and the CDA in
 * @param {{code: string, ins: string, birthName: string, sex: string, birthTime: string,
 *   authorId: string, authorName: string}} want code: the LOINC code, '34794-8' for a letter
 *   from a case review, else '11488-4' (PROTOCOL.md, exports); birthTime as YYYYMMDD
 * @returns {Promise<string>} the CDA's path
 */
export async function checkXdm(xdm, dir, want) {
  const zip = join(dir, 'checked.IHE_XDM.ZIP');
  await writeFile(zip, xdm);
  const names = (await run('unzip', ['-Z1', zip])).stdout.trim().split('\n').sort();
  assert.deepEqual(names, ['IHE_XDM/SUBSET01/DOC0001.XML', 'IHE_XDM/SUBSET01/METADATA.XML',
    'INDEX.HTM', 'README.TXT']);
  const cda = join(dir, 'checked.DOC0001.XML');
  await writeFile(cda, (await run('unzip', ['-p', zip, 'IHE_XDM/SUBSET01/DOC0001.XML'],
    { encoding: 'buffer', maxBuffer: 1 << 24 })).stdout);
  await run('xmllint', ['--noout', '--nonet', cda]);
  const x = async (path) => (await run('xmllint', ['--nonet', '--xpath', cdaXpath(path), cda],
    { maxBuffer: 1 << 24 })).stdout.trim();
  const header = [
    ['h:typeId/@root', '2.16.840.1.113883.1.3'], ['h:typeId/@extension', 'POCD_HD000040'],
    ['h:templateId[1]/@root', '1.2.250.1.213.1.1.1.1'], ['h:code/@code', want.code],
    ['h:code/@codeSystem', '2.16.840.1.113883.6.1'], ['h:confidentialityCode/@code', 'N'],
    ['h:recordTarget/h:patientRole/h:id[1]/@root', '1.2.250.1.213.1.4.10'],
    ['h:recordTarget/h:patientRole/h:id[1]/@extension', want.ins],
    ["h:recordTarget/h:patientRole/h:patient/h:name/h:family[@qualifier='BR']", want.birthName],
    ['h:recordTarget/h:patientRole/h:patient/h:administrativeGenderCode/@code', want.sex],
    ['h:recordTarget/h:patientRole/h:patient/h:birthTime/@value', want.birthTime],
    ['h:author/h:assignedAuthor/h:id/@extension', want.authorId],
    ['h:author/h:assignedAuthor/h:assignedPerson/h:name', want.authorName],
    ['h:custodian/h:assignedCustodian/h:representedCustodianOrganization/h:id/@root', '1.2.250.1.999.1'],
    ['h:component/h:nonXMLBody/h:text/@mediaType', 'application/pdf'],
    ['h:component/h:nonXMLBody/h:text/@representation', 'B64'],
  ];
  for (const [path, value] of header) assert.equal(await x(path), value, path);
  for (const path of ['h:id/@root', 'h:effectiveTime/@value']) assert.notEqual(await x(path), '', path);
  const body = Buffer.from((await x('h:component/h:nonXMLBody/h:text')).replace(/\s+/g, ''), 'base64');
  assert.equal(body.subarray(0, 5).toString(), '%PDF-', 'the CDA body is the PDF letter');
  return cda;
}
