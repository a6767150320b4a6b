// recs.test.mjs - ctest web.recs: the recommendation loop, the review queue and the quality
// indicators in the web client (clients/web/src/ui/recs*.js, queue.js, indicators*.js) against a
// real sesamed started with --test-hooks, whose clock the test moves (lib/team.mjs), with the
// real CLI for what is not these screens' (enrolment, the patient threads, the patient card with
// a test INS, PHQ-9s, the psychiatrist's `sesame rec send`). The GP's browser is a second device
// of the GP whose CLI is the first; the nurse and the psychiatrist likewise.
//
//  - the GP's inbox lists the new recommendations; opening one shows the decrypted letter and
//    does not acknowledge it; the GP acknowledges, a decline without a reason is refused by the
//    form (nothing sent) and by the server (REASON_REQUIRED through the CLI), then accepts and
//    marks it implemented;
//  - the XDM package, the FHIR Bundle and the PDF downloaded from the browser are byte for byte
//    `sesame rec export --format xdm|fhir|pdf` of the same recommendation by the GP's CLI; the
//    XDM's CDA passes the CLI tests' header checks (tests/integration/test_cli_recs.c) with
//    xmllint, the Bundle tests/fhir/validate.mjs; a thread without a card says why XDM cannot be
//    built;
//  - a decline with its reason sends it encrypted, worded as `sesame rec decide` words it;
//  - 8 days later (daemon, CLI and page clocks moved), the nurse sees the unacknowledged one as
//    overdue and verifies the implemented one; she puts a patient on the queue and sees its
//    tier as the server computes it; the indicators Q1-Q15 equal `sesame caseload --indicators`;
//  - axe-core finds no serious violation on each screen, screenshotted in French and English.
// Run: SESAMED=build/daemon/sesamed SESAME_CLI=build/clients/cli/sesame node --test recs.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { DAY_MS, LIVE_MS, audit, checkXdm, run, startTeam } from './lib/team.mjs';

const FHIR_VALIDATE = fileURLToPath(new URL('../fhir/validate.mjs', import.meta.url));
const INS = '280047512345658';
const BIRTH_NAME = 'DUPRÉ-TESTNAME';
const DRUG = 'Sertralinum-test';
const DOSE = '100 mg once daily';
const REASON = 'Patient prefers to stay on 50 mg until the spring';

describe('web recommendations, queue and indicators', { timeout: 280_000 }, () => {
  let team;
  let tmp;
  let user;
  let pages;
  const w = {}; // threads and recommendations

  before(async () => {
    team = await startTeam({ testHooks: true });
    ({ tmp, user, pages } = team);
  });

  after(async () => {
    const status = await team?.stop();
    if (team) assert.deepEqual(status, { code: 0, signal: null }, 'sesamed exits 0 on SIGTERM');
  });

  const cli = (who, args, options) => team.cli(who, args, options);
  const cliFails = (who, args) => team.cliFails(who, args);
  const go = (who, hash) => team.go(who, hash);
  const day = (off) => team.day(off);

  test('setup: the team with the CLI, a browser for the GP, the nurse and the psychiatrist', async () => {
    await team.enrolAdmin();
    await team.addCliUser('nurse', 'nurse', 'Anne Martin');
    await team.addCliUser('psy', 'psychiatrist', 'Hugo Roux');
    await team.addCliUser('gp', 'gp', 'Claire Petit', { site: 'Cabinet Voltaire' });
    for (const who of ['gp', 'nurse', 'psy']) await team.linkBrowser(who);

    // two patients enrolled 80 days ago, PHQ-9s since; a card with a test INS on the first only
    for (const [k, ref, title] of [['t1', 'P-0042', 'Marie D.'], ['t2', 'P-0043', 'Jean B.']]) {
      const r = await cli('nurse', ['thread', 'create', '--patient', ref, '--title', title,
        '--member', user.gp, '--member', user.psy]);
      w[k] = r.thread;
      await cli('nurse', ['thread', 'meta', w[k], '--enrolled', day(-80)]);
      await cli('nurse', ['scale', 'record', w[k], '--phq9', '2,2,2,2,2,2,2,2,0', '--date', day(-80)]);
    }
    await cli('nurse', ['scale', 'record', w.t1, '--phq9', '2,2,2,2,2,1,1,1,0', '--date', day(-60)]);
    await cli('nurse', ['scale', 'record', w.t1, '--phq9', '1,1,1,1,1,1,1,1,0', '--date', day(-5)]);
    await cli('nurse', ['thread', 'card', w.t1, '--birth-name', BIRTH_NAME, '--given-names',
      'Marie Louise', '--birth-date', '1980-01-05', '--sex', 'F', '--ins', INS, '--ins-kind', 'nir-test']);

    const recFile = join(tmp, 'rec.json');
    await writeFile(recFile, JSON.stringify({
      question_code: 'not_improving', question: 'PHQ-9 still 16 after 10 weeks of treatment',
      data_basis: 'PHQ-9 18 then 16 over 10 weeks, adherent, no side effects',
      safety: 'No suicidal ideation: item 9 was 0 at the last three contacts',
      items: [{ type: 'MED_DOSE_CHANGE', drug: DRUG, dose: DOSE, titration: '75 mg for one week, then 100 mg' },
        { type: 'LAB', text: 'Sodium level at week 2' }],
      contingency: 'If PHQ-9 has not fallen by 5 points at week 6, discuss a switch',
      next_review: day(28),
    }));
    const send = async (thread) => (await cli('psy', ['rec', 'send', thread, '--file', recFile,
      '--gp', user.gp])).rec.rec;
    w.a = await send(w.t1); // the loop, then the exports
    w.b = await send(w.t2); // left unacknowledged: overdue after 7 days
    w.c = await send(w.t1); // declined with a reason
  });

  test('the GP sees the new recommendations, opens one (no acknowledgement) and acknowledges', async () => {
    const page = pages.gp;
    await go('gp', '#/recs');
    await page.getByRole('heading', { name: 'Recommendations from psychiatry' }).waitFor();
    const fresh = page.locator('section[data-group="new"] tbody tr');
    await fresh.nth(2).waitFor({ timeout: LIVE_MS });
    assert.deepEqual((await fresh.evaluateAll((rs) => rs.map((r) => r.dataset.rec))).sort(),
      [w.a, w.b, w.c].sort());
    assert.equal(await page.locator('section[data-group="overdue"]').count(), 0);
    const named = page.locator(`tr[data-rec="${w.b}"]`, { hasText: 'Jean B.' }); // title decrypted
    await named.waitFor({ timeout: LIVE_MS });
    assert.match(await named.textContent(), /Jean B\..*sent.*routine/s);
    await audit(page, 'recs-inbox-gp');

    await page.locator(`tr[data-rec="${w.a}"] a`).click();
    await page.getByTestId('rec-question').waitFor();
    assert.match(await page.getByTestId('rec-question').textContent(), /not improving.*PHQ-9 still 16/s);
    const items = await page.getByTestId('rec-items').textContent();
    for (const s of [DRUG, DOSE, '75 mg for one week, then 100 mg', 'Sodium level at week 2']) {
      assert.ok(items.includes(s), `item text ${s} in ${items}`);
    }
    assert.match(await page.getByTestId('rec-safety').textContent(), /item 9 was 0/);
    assert.match(await page.getByTestId('rec-contingency').textContent(), /discuss a switch/);
    assert.equal((await cli('gp', ['rec', 'show', w.a])).rec.state, 'sent', 'reading is not acknowledging');
    await audit(page, 'rec-detail-gp');
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.locator('[data-testid="rec-state"] [data-state="acknowledged"]').waitFor();
    assert.equal((await cli('gp', ['rec', 'show', w.a])).rec.state, 'acknowledged');
  });

  test('a decline without a reason is refused by the form and by the server; then accept, implement', async () => {
    const page = pages.gp;
    const before = await cli('gp', ['thread', 'show', w.t1]);
    await page.getByLabel('declined').check();
    await page.getByRole('button', { name: 'Record the decision' }).click();
    assert.equal(await page.getByRole('alert').textContent(),
      'A reason is required to modify or decline a recommendation.');
    const after = await cli('gp', ['thread', 'show', w.t1]);
    assert.ok(before.messages.length >= 6, `the thread's messages: ${before.messages.length}`);
    assert.equal(after.messages.length, before.messages.length, 'nothing was sent to the thread');
    const refused = await cliFails('gp', ['rec', 'decide', w.a, '--decision', 'declined']);
    assert.match(refused.stderr, /REASON_REQUIRED/);
    const still = (await cli('gp', ['rec', 'show', w.a])).rec;
    assert.equal(still.state, 'acknowledged');
    assert.equal(still.reason_seq, null);
    await audit(page, 'rec-decide-gp');

    await page.getByLabel('accepted', { exact: true }).check();
    await page.getByRole('button', { name: 'Record the decision' }).click();
    await page.locator('[data-testid="rec-state"] [data-state="accepted"]').waitFor();
    await page.getByRole('button', { name: 'Mark as implemented' }).click();
    await page.locator('[data-testid="rec-state"] [data-state="implemented"]').waitFor();
    const rec = (await cli('gp', ['rec', 'show', w.a])).rec;
    assert.equal(rec.state, 'implemented');
    assert.equal(rec.decision, 'accepted');
  });

  test('XDM, FHIR and PDF downloads are byte for byte the CLI\'s exports; the CDA checks pass', async () => {
    const page = pages.gp;
    const got = {};
    for (const format of ['xdm', 'fhir', 'pdf']) {
      const box = page.locator(`li.rec-export[data-format="${format}"]`);
      await box.getByRole('button').click();
      const link = page.getByTestId(`download-${format}`);
      await link.waitFor({ timeout: LIVE_MS });
      const [dl] = await Promise.all([page.waitForEvent('download'), link.click()]);
      got[format] = await readFile(await dl.path());
      const out = join(tmp, `cli.${format}`);
      await cli('gp', ['rec', 'export', w.a, '--format', format, '--out', out]);
      const want = await readFile(out);
      assert.ok(got[format].length > 100, `${format}: ${got[format].length} bytes`);
      assert.ok(Buffer.compare(got[format], want) === 0,
        `${format}: the browser's ${got[format].length} bytes equal the CLI's ${want.length}`);
      if (format === 'xdm') assert.equal(dl.suggestedFilename(), 'IHE_XDM.ZIP');
    }
    await audit(page, 'rec-exports-gp');
    assert.equal(got.pdf.subarray(0, 5).toString(), '%PDF-');

    // sent by `sesame rec send` outside a case review: a consultation note (LOINC 11488-4)
    await checkXdm(got.xdm, tmp, { code: '11488-4', ins: INS, birthName: BIRTH_NAME, sex: 'F',
      birthTime: '19800105', authorId: user.psy, authorName: 'Hugo Roux' });

    const bundle = JSON.parse(got.fhir.toString('utf8'));
    assert.equal(bundle.resourceType, 'Bundle');
    const task = bundle.entry.map((e) => e.resource).filter((r) => r.resourceType === 'Task');
    assert.equal(task.length, 1);
    const fhirFile = join(tmp, 'web.fhir.json');
    await writeFile(fhirFile, got.fhir);
    await run(process.execPath, [FHIR_VALIDATE, fhirFile], { timeout: 60_000 });
  });

  test('without a patient card the screen says why XDM cannot be built', async () => {
    const page = pages.gp;
    await go('gp', `#/recs/${w.b}`);
    await page.getByTestId('export-blocked-xdm').waitFor();
    assert.match(await page.getByTestId('export-blocked-xdm').textContent(), /no patient card/);
    assert.equal(await page.locator('li.rec-export[data-format="pdf"] button').count(), 1);
  });

  test('a decline with a reason sends it encrypted, worded as sesame rec decide does', async () => {
    const page = pages.gp;
    await go('gp', `#/recs/${w.c}`);
    await page.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByLabel('declined').check();
    await page.getByLabel(/^Reason/).fill(REASON);
    await page.getByRole('button', { name: 'Record the decision' }).click();
    await page.locator('[data-testid="rec-state"] [data-state="declined"]').waitFor();
    const wording = `Decision on recommendation ${w.c.slice(0, 8)} (declined): ${REASON}`;
    assert.equal(await page.getByTestId('rec-reason').textContent(), wording);
    const shown = await cli('psy', ['rec', 'show', w.c]);
    assert.equal(shown.rec.state, 'declined');
    assert.equal(shown.reason, wording, 'the psychiatrist\'s CLI decrypts the same reason');
  });

  test('8 days later the nurse sees the unacknowledged one overdue and verifies the implemented one', async () => {
    await team.advanceClock(8 * DAY_MS);
    const page = pages.nurse;
    await go('nurse', '#/recs');
    await page.getByRole('heading', { name: 'Recommendations for my patients' }).waitFor();
    const overdue = page.locator('section[data-group="overdue"] tbody tr');
    await overdue.first().waitFor({ timeout: LIVE_MS });
    assert.deepEqual(await overdue.evaluateAll((rs) => rs.map((r) => r.dataset.rec)), [w.b]);
    assert.match(await overdue.first().textContent(), /sent · overdue/);
    assert.match(await overdue.first().getByTestId('rec-overdue').textContent(), /^Overdue since/);
    assert.equal((await cli('nurse', ['rec', 'show', w.b])).rec.overdue, true);
    await audit(page, 'recs-inbox-nurse');

    await page.locator(`tr[data-rec="${w.a}"] a`).click();
    await page.getByRole('button', { name: 'Verified with the patient' }).waitFor();
    await audit(page, 'rec-verify-nurse');
    await page.getByRole('button', { name: 'Verified with the patient' }).click();
    await page.locator('[data-testid="rec-state"] [data-state="verified"]').waitFor();
    const rec = (await cli('nurse', ['rec', 'show', w.a])).rec;
    assert.equal(rec.state, 'verified');
    assert.equal(rec.verified_by, user.nurse);
  });

  test('the nurse puts a patient on the queue and sees its tier and reasons', async () => {
    await cli('psy', ['session', 'add', '--date', day(2), '--time', '10:00', '--minutes', '60']);
    const page = pages.nurse;
    await go('nurse', '#/queue');
    await page.getByRole('heading', { name: 'Case-review queue' }).waitFor();
    await page.getByLabel('Patient', { exact: true }).selectOption(w.t2);
    await page.getByLabel('Reason for the request').selectOption('MEDICATION');
    await page.getByRole('button', { name: 'Put on the queue' }).click();
    assert.equal(await page.getByTestId('queued').textContent(), 'Request recorded (medication).');
    const row = page.locator(`table.queue tr[data-thread="${w.t2}"]`);
    await row.locator('li[data-code="request"]').waitFor({ timeout: LIVE_MS });
    const server = (await cli('nurse', ['queue', 'list'])).entries.find((e) => e.thread === w.t2);
    // never reviewed 88 days after enrolment: the new patient's T2 is past due, moved up to T1
    assert.deepEqual([server.tier, server.base_tier, server.promoted],
      ['T1', 'T2', 'due_before_next_session']);
    assert.deepEqual(server.reasons.map((r) => r.code).sort(), ['new_patient', 'request']);
    assert.equal(await row.getAttribute('data-tier'), 'T1');
    assert.deepEqual(await row.locator('li[data-code]').evaluateAll((ls) => ls.map((l) => l.dataset.code)),
      server.reasons.map((r) => r.code));
    assert.match(await row.textContent(),
      /T1.*most urgent.*new patient, never reviewed.*team request.*moved up from T2: due before the next session/s);
    assert.match(await row.textContent(), /No\. \d+ on the agenda/);
    await audit(page, 'queue-nurse');
  });

  test('the indicators Q1-Q15 equal sesame caseload --indicators, with their trend', async () => {
    const page = pages.nurse;
    await go('nurse', '#/indicators');
    await page.getByRole('heading', { name: 'Quality indicators' }).waitFor();
    const rows = page.locator('table.indicators tbody tr');
    await rows.nth(14).waitFor({ timeout: LIVE_MS });
    const shown = await rows.evaluateAll((rs) => rs.map((r) => ({
      code: r.dataset.code,
      num: r.querySelector('[data-testid="num"]').textContent,
      den: r.querySelector('[data-testid="den"]').textContent,
    })));
    const want = (await cli('nurse', ['caseload', '--indicators'])).indicators;
    assert.deepEqual(shown.map((q) => q.code), Array.from({ length: 15 }, (_, i) => `Q${i + 1}`));
    for (const [i, q] of want.entries()) {
      assert.equal(shown[i].num, String(q.num), `${q.code} numerator`);
      if (q.code !== 'Q14') assert.equal(shown[i].den, String(q.den), `${q.code} denominator`);
    }
    const q11 = want.find((q) => q.code === 'Q11');
    assert.equal(q11.num, 1, 'one recommendation implemented (then verified)');
    assert.equal(q11.den, 3);
    assert.equal(await page.locator('table.ind-trend thead th').count(), 1 + 3);
    await audit(page, 'indicators-nurse');
    await page.getByLabel('Window').selectOption('month');
    await page.locator('table.ind-trend thead th').nth(6).waitFor({ timeout: LIVE_MS });
    assert.equal(await page.locator('table.ind-trend thead th').count(), 1 + 6);
  });

  test('the psychiatrist sees the recommendations they wrote with their states', async () => {
    const page = pages.psy;
    await go('psy', '#/recs');
    await page.getByRole('heading', { name: 'Recommendations I wrote' }).waitFor();
    const state = async (id) => page.locator(`tr[data-rec="${id}"] [data-state]`).getAttribute('data-state');
    await page.locator(`tr[data-rec="${w.c}"]`).waitFor({ timeout: LIVE_MS });
    assert.equal(await state(w.a), 'verified');
    assert.equal(await state(w.b), 'sent');
    assert.equal(await state(w.c), 'declined');
    await audit(page, 'recs-psy');
  });
});
