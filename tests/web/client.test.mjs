// client.test.mjs - ctest web.client: the web client end to end, built from clients/web and
// served by a real sesamed over real TLS, in real Chromium (one context per user, nothing
// shared). An admin enrols from the first code's link and invites a nurse, a psychiatrist and a
// GP from the admin screen; the nurse and the psychiatrist enrol from their links; the GP uses
// the real CLI. The nurse opens a patient thread; nurse and psychiatrist exchange messages
// live; the CLI reads the browser's messages and the browser reads the CLI's; the nurse records
// a PHQ-9 with item 9 = 2 (the warning shows at once) and the psychiatrist's inbox shows the A01
// alert live and acknowledges it; a psychiatrist raises an imminent-risk alert by hand (the
// emergency numbers show as soon as it is chosen) and it reaches the nurse live; the page keeps
// a draft through a daemon restart and sends it once reconnected; nothing the browsers sent is
// found in clear in the database or the log; axe-core finds no serious violation on any screen
// and every screen is screenshotted in French and English.
// Run: SESAMED=build/daemon/sesamed SESAME_CLI=build/clients/cli/sesame node --test client.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { LIVE_MS, audit, online, run, startTeam } from './lib/team.mjs';

const secret = (what) => `${what} ${Math.random().toString(36).slice(2, 12)}`;

describe('web client: enrol, threads, scales, alerts, CLI interop, restart', { timeout: 200_000 }, () => {
  let team;
  let daemon;
  let pages;
  const sent = []; // every plaintext a browser or the CLI sent: none may reach the disk
  const w = {}; // the invitation links, the thread

  before(async () => {
    team = await startTeam();
    ({ daemon, pages } = team);
  });

  after(async () => {
    const status = await team?.stop();
    if (team) assert.deepEqual(status, { code: 0, signal: null }, 'sesamed exits 0 on SIGTERM');
  });

  /** The GP's CLI; resolves with its standard output (text). */
  const cli = (...args) => team.cli('gp', args, { json: false });

  /** Enrols a new browser context from an enrolment link (the admin's form audited); returns its page. */
  const enrol = (link, who) => team.enrolBrowser(who, link, who === 'admin' ? { screen: 'enrol' } : {});

  /** The admin's browser invites a user from the admin screen; returns the enrolment link. */
  const invite = async (role, name) => {
    const page = pages.admin;
    await page.getByLabel('Role').selectOption(role);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.getByRole('button', { name: 'Invite', exact: true }).click();
    // the result of this invitation, not the one before it still on the screen
    const shown = page.locator(`.invite-result[data-name="${name}"]`);
    await shown.waitFor({ timeout: LIVE_MS });
    const link = await shown.getByTestId('invite-link').textContent();
    assert.match(link, /^https:\/\/127\.0\.0\.1:\d+\/#code=[A-Z2-7]{8}-[A-Z2-7]{26}$/);
    return link;
  };

  test('the admin enrols from the first link and invites the team', async () => {
    const page = await enrol(`${daemon.origin}/#code=${daemon.adminCode}`, 'admin');
    await page.getByRole('heading', { name: 'Administration' }).waitFor();
    w.links = {
      nurse: await invite('nurse', 'Anne Martin'),
      psy: await invite('psychiatrist', 'Paul Durand'),
      gp: await invite('gp', 'Gilles Petit'),
      auditor: await invite('auditor', 'Alice Contrôle'),
    };
    await page.locator('img.qr').waitFor();
    await audit(page, 'admin');
    await page.getByRole('link', { name: 'My devices' }).click();
    await page.getByTestId('device-fingerprint').waitFor();
    await audit(page, 'devices');
  });

  test('nurse and psychiatrist enrol in their browsers, the GP with the CLI', async () => {
    await enrol(w.links.nurse, 'nurse');
    await enrol(w.links.psy, 'psy');
    const code = /#code=(.*)$/.exec(w.links.gp)[1];
    await team.enrolCli('gp', code);
    assert.match(await cli('whoami'), /Gilles Petit/);
    await pages.nurse.getByRole('heading', { name: 'Caseload' }).waitFor();
    await audit(pages.nurse, 'caseload-empty');
    await pages.nurse.getByRole('link', { name: 'Safety numbers' }).click();
    await pages.nurse.getByRole('button', { name: /Paul Durand/ }).click();
    await pages.nurse.getByTestId('safety-number').locator('p.big').first().waitFor();
    const n1 = (await pages.nurse.getByTestId('safety-number').locator('p.big').allTextContents()).join(' ');
    await pages.psy.getByRole('link', { name: 'Safety numbers' }).click();
    await pages.psy.getByRole('button', { name: /Anne Martin/ }).click();
    await pages.psy.getByTestId('safety-number').locator('p.big').first().waitFor();
    const n2 = (await pages.psy.getByTestId('safety-number').locator('p.big').allTextContents()).join(' ');
    assert.match(n1, /^(\d{5} ){11}\d{5}$/);
    assert.equal(n1, n2, 'both sides see the same safety number');
    await audit(pages.nurse, 'safety-numbers');
  });

  test('the nurse opens a thread; messages cross browsers live and the CLI', async () => {
    const page = pages.nurse;
    await page.getByRole('link', { name: 'Caseload' }).click();
    await page.getByText('Open a patient thread').click();
    await page.getByLabel(/Pseudonymous reference/).fill('P-WEB1');
    const title = secret('Claire Dubois');
    sent.push(title);
    await page.getByLabel(/Patient's name/).fill(title);
    await page.getByLabel(/Paul Durand/).check();
    await page.getByLabel(/Gilles Petit/).check();
    await page.getByRole('button', { name: 'Open the thread' }).click();
    await page.getByRole('heading', { name: new RegExp(title) }).waitFor();
    const thread = /#\/thread\/([a-z2-7]{26})/.exec(page.url())[1];
    w.thread = thread;

    const hello = secret('Bonjour, point sur Mme D.');
    sent.push(hello);
    await page.getByLabel(/Message \(end-to-end/).fill(hello);
    await page.getByRole('button', { name: 'Send' }).click();
    await page.locator('ol.messages li', { hasText: hello }).waitFor();

    const psy = pages.psy;
    await psy.goto(`${daemon.origin}/#/thread/${thread}`);
    await psy.locator('ol.messages li', { hasText: hello }).waitFor({ timeout: LIVE_MS });
    const reply = secret('Vu, je la mets à l’ordre du jour');
    sent.push(reply);
    await psy.getByLabel(/Message \(end-to-end/).fill(reply);
    await psy.getByRole('button', { name: 'Send' }).click();
    await page.locator('ol.messages li', { hasText: reply }).waitFor({ timeout: LIVE_MS });

    const shown = await cli('thread', 'show', thread);
    assert.ok(shown.includes(hello) && shown.includes(reply) && shown.includes(title),
      `the CLI reads what the browsers sent:\n${shown}`);
    const fromCli = secret('GP: traitement inchangé');
    sent.push(fromCli);
    await cli('send', thread, fromCli);
    await page.locator('ol.messages li', { hasText: fromCli }).waitFor({ timeout: LIVE_MS });
    await audit(page, 'thread');
  });

  test('a PHQ-9 with item 9 = 2 warns at once and reaches the psychiatrist live', async () => {
    const page = pages.nurse;
    const psy = pages.psy;
    await psy.getByRole('link', { name: 'Alerts' }).click();
    await psy.getByRole('heading', { name: 'Alerts' }).waitFor();
    await page.getByRole('tab', { name: 'PHQ-9 and GAD-7' }).click();
    const answers = [2, 2, 1, 2, 1, 2, 1, 1, 2];
    for (const [i, v] of answers.entries()) {
      await page.locator(`input[name="phq9-${i}"][value="${v}"]`).check();
      if (i === 8) {
        await page.getByTestId('item9-warning').waitFor();
        assert.equal(await page.getByTestId('item9-warning').getAttribute('data-variant'), 'item9_2');
      }
    }
    assert.match(await page.getByTestId('score-PHQ-9').textContent(), /9\/9 answered · 14/);
    await audit(page, 'scale-form');
    await page.getByRole('button', { name: 'Send the record' }).click();
    await page.getByText(/Alert A01\/item9_2 raised/).waitFor({ timeout: LIVE_MS });

    const row = psy.locator('tr[data-type="A01"]');
    await row.waitFor({ timeout: LIVE_MS });
    assert.match(await row.textContent(), /P1/);
    await audit(psy, 'alerts');
    // A01 item9_2 is the nurse's to acknowledge (§13: owners only); the psychiatrist is copied
    // and may resolve it, with the risk outcome and an encrypted note.
    await page.getByRole('link', { name: 'Alerts' }).click();
    const mine = page.locator('tr[data-type="A01"]');
    await mine.getByRole('button', { name: 'Acknowledge' }).click();
    await psy.locator('tr[data-type="A01"]', { hasText: 'acknowledged' }).waitFor({ timeout: LIVE_MS });
    await row.getByRole('link').click();
    await psy.getByRole('heading', { name: /Item 9/ }).waitFor();
    assert.equal(await psy.getByRole('button', { name: 'Acknowledge' }).count(), 0,
      'a copied psychiatrist is not offered the acknowledgement');
    await psy.getByLabel(/Risk outcome/).selectOption('imminent');
    await psy.getByRole('alert').filter({ hasText: 'Phone now' }).waitFor();
    await psy.getByLabel(/Risk outcome/).selectOption('moderate');
    await audit(psy, 'alert-detail');
    await psy.getByRole('button', { name: 'Resolve the alert' }).click();
    await psy.getByText(/OUTCOME_REQUIRED|note of the assessment/).waitFor();
    const note = secret('Appel fait, pas de plan suicidaire, revu demain');
    sent.push(note);
    await psy.getByLabel(/Note of the assessment/).fill(note);
    await psy.getByRole('button', { name: 'Resolve the alert' }).click();
    await psy.locator('dd', { hasText: 'risk assessed' }).waitFor({ timeout: LIVE_MS });
    const shown = await cli('--json', 'alert', 'list').catch((e) => e.stdout);
    assert.match(shown, /"state":\s*"resolved"/, `the server has it resolved: ${shown}`);
    assert.match(shown, /"acked_by":\s*"[a-z2-7]{26}"/);

    // the caseload shows the patient with the score, its band and item 9
    await page.getByRole('link', { name: 'Caseload' }).click();
    const line = page.locator(`tr[data-thread="${w.thread}"]`);
    await line.waitFor({ timeout: LIVE_MS });
    assert.match(await line.textContent(), /14 \(moderate\)[\s\S]*item 9 = 2/);
    await audit(page, 'caseload');
  });

  test('an alert raised by hand: the types of each role, and imminent risk shows the numbers', async () => {
    const nurse = pages.nurse;
    const psy = pages.psy;
    await nurse.goto(`${daemon.origin}/#/thread/${w.thread}`);
    await nurse.getByRole('tab', { name: 'Raise an alert' }).click();
    const offered = async (page) =>
      (await page.getByLabel('Alert', { exact: true }).locator('option').allTextContents())
        .map((o) => o.split(' ')[0]);
    assert.deepEqual(await offered(nurse), ['—', 'A02', 'A03', 'A13/routine', 'A13/urgent', 'A17']);
    assert.equal(await nurse.getByRole('button', { name: 'Raise the alert' }).isDisabled(), true,
      'nothing is raised before a type is chosen');

    await psy.goto(`${daemon.origin}/#/thread/${w.thread}`);
    await psy.getByRole('tab', { name: 'Raise an alert' }).click();
    assert.deepEqual(await offered(psy), ['—', 'A02', 'A03', 'A18']);
    await psy.getByLabel('Alert', { exact: true }).selectOption('A03');
    assert.deepEqual(await psy.getByLabel(/Severity/).locator('option').allTextContents(), ['P1', 'P0']);
    assert.equal(await psy.getByRole('alert').filter({ hasText: 'Phone now' }).count(), 0);
    await psy.getByLabel('Alert', { exact: true }).selectOption('A02');
    await psy.getByRole('alert').filter({ hasText: 'Phone now' }).waitFor();
    const note = secret('Menace de passage a l acte ce soir, pompiers appeles');
    sent.push(note);
    await psy.getByLabel(/Note for the owners/).fill(note);
    await audit(psy, 'raise');
    await nurse.getByRole('link', { name: 'Alerts' }).click();
    await psy.getByRole('button', { name: 'Raise the alert' }).click();
    const done = psy.getByRole('status').filter({ hasText: 'Alert A02 raised' });
    await done.waitFor({ timeout: LIVE_MS });
    await done.getByRole('alert').filter({ hasText: 'Phone now' }).waitFor();

    // the nurse is copied: the alert reaches her inbox live, with the emergency numbers
    const row = nurse.locator('tr[data-type="A02"]');
    await row.waitFor({ timeout: LIVE_MS });
    assert.match(await row.textContent(), /P0/);
    await nurse.getByRole('alert').filter({ hasText: 'Phone now' }).waitFor();
    const shown = JSON.parse(await cli('--json', 'alert', 'list', '--open'));
    const a02 = (shown.alerts ?? shown).find((a) => a.type === 'A02');
    assert.equal(a02?.severity, 'P0', JSON.stringify(shown));
    assert.equal(a02.origin, 'manual');
    assert.ok(Number.isInteger(a02.msg_seq), 'the note went first and is named by the raise');
  });

  test('a draft survives a daemon restart and is sent once reconnected', async () => {
    const page = pages.nurse;
    await page.goto(`${daemon.origin}/#/thread/${w.thread}`);
    await page.getByRole('tab', { name: 'Messages' }).click();
    const draft = secret('brouillon pendant la coupure');
    sent.push(draft);
    await page.getByLabel(/Message \(end-to-end/).fill(draft);
    await daemon.restart(async () => {
      await page.locator('.conn[data-state="offline"]').waitFor({ timeout: LIVE_MS });
      assert.equal(await page.getByLabel(/Message \(end-to-end/).inputValue(), draft);
    });
    await online(page);
    assert.equal(await page.getByLabel(/Message \(end-to-end/).inputValue(), draft, 'draft kept');
    await page.getByRole('button', { name: 'Send' }).click();
    await pages.psy.goto(`${daemon.origin}/#/thread/${w.thread}`);
    await pages.psy.getByRole('tab', { name: 'Messages' }).click();
    await pages.psy.locator('ol.messages li', { hasText: draft }).waitFor({ timeout: LIVE_MS });
  });

  test('the auditor verifies the log in the browser; after tampering it fails', async () => {
    const page = await enrol(w.links.auditor, 'auditor');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    const { stdout } = await run(process.env.SESAMED, ['log-key', '--data', daemon.dataDir]);
    await page.getByLabel(/Log key/).fill(stdout.trim());
    await page.getByRole('button', { name: 'Pin this key' }).click();
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    const result = page.getByTestId('verify-result');
    await result.waitFor({ timeout: LIVE_MS });
    assert.equal(await result.getAttribute('data-ok'), 'true', await result.textContent());
    await page.locator('table.audit tr[data-seq="1"]').waitFor();
    await audit(page, 'audit');
    await page.locator('table.audit tr[data-seq="2"] a').click();
    await page.getByRole('heading', { name: 'Record 2' }).waitFor();
    await page.getByText('the bytes match it').waitFor();
    await audit(page, 'audit-record');

    // someone edits a record's bytes in the database while the daemon is stopped
    await daemon.restart(async () => {
      await run('sqlite3', [join(daemon.dataDir, 'sesame.db'),
        "UPDATE audit SET record = CAST(replace(CAST(record AS TEXT), 'auth.login', 'auth.logon') " +
        'AS BLOB) WHERE seq = (SELECT min(seq) FROM audit WHERE action = \'auth.login\')']);
    });
    await online(page);
    await page.goto(`${daemon.origin}/#/audit`);
    await page.getByRole('button', { name: 'Verify', exact: true }).click();
    await result.waitFor({ timeout: LIVE_MS });
    assert.equal(await result.getAttribute('data-ok'), 'false');
    assert.match(await result.textContent(), /DOES NOT VERIFY[\s\S]*leaf_hash/);
  });

  test('nothing the clients sent is in clear on the server', async () => {
    const files = (await readdir(daemon.dataDir)).map((f) => join(daemon.dataDir, f));
    files.push(daemon.logFile);
    for (const f of files) {
      const bytes = await readFile(f).catch(() => null);
      if (!bytes) continue;
      for (const s of sent) {
        assert.equal(bytes.includes(Buffer.from(s)), false, `"${s}" found in clear in ${f}`);
      }
    }
    assert.ok(sent.length >= 6);
  });
});
