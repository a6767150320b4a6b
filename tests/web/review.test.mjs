// review.test.mjs - ctest web.review: the psychiatrist's weekly case review in the browser,
// against a real sesamed (test hooks on) and the real CLI for the rest of the team. The admin,
// the nurse and the GP use the CLI: invitations, the patient thread (nurse, GP, psychiatrist), two
// PHQ-9/GAD-7 records and a plan change (the second PHQ-9 raises A04), the nurse's summaries.
// The psychiatrist, in Chromium, adds a weekly session and sees the new patient on its agenda
// as T2 "new patient"; opens the case (summary newest first, chart with the plan change, the open
// A04); is refused an incomplete recommendation in the form (focus on the field at fault, nothing
// sent); adds and cancels an ad hoc session. Then the clock moves past the session, live
// (lib/clock.mjs through lib/team.mjs: the daemon's, the CLI's and the pages' clocks): the
// agenda is frozen, the psychiatrist records the outcome (on that session) and a complete
// recommendation, which `sesame rec show` reads field for field, then the minutes. The GP, on
// another device (a browser linked with `sesame device link` from the GP's CLI), finds the
// letter listed as new, opens it (the question as the psychiatrist typed it), acknowledges and
// accepts it and downloads the XDM package: byte for byte `sesame rec export --format xdm` by
// the GP's CLI, its CDA passing the CLI tests' checks (the thread has a patient card with a test
// INS); the psychiatrist's CLI (a second device) reads the state `accepted`. axe-core finds no
// serious violation on any of these screens, each screenshotted in French and English.
// Run: SESAMED=build/daemon/sesamed SESAME_CLI=build/clients/cli/sesame node --test review.test.mjs
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DAY_MS, LIVE_MS, audit, checkXdm, isoOfDay as iso, online, startTeam } from './lib/team.mjs';

const INS = '280047512345658'; // a test INS (nir-test) on the patient card: the XDM needs one
const BIRTH_NAME = 'LEFORT';

describe('web client: the weekly case review', { timeout: 220_000 }, () => {
  let team;
  let user;
  const w = {}; // what the steps share
  let psy;

  before(async () => {
    team = await startTeam({ testHooks: true });
    ({ user } = team);
  });

  after(async () => {
    const status = await team?.stop();
    if (team) assert.deepEqual(status, { code: 0, signal: null }, 'sesamed exits 0 on SIGTERM');
  });

  /** The CLI as one user (its clock moved like the daemon's); --json output parsed. */
  const cli = (who, ...args) => team.cli(who, args);
  const today = () => team.today();

  /** Adds the letter's two actions in the case's form: a dose change, then psychotherapy. */
  const addActions = async () => {
    await psy.getByRole('button', { name: 'Add an action' }).click();
    await psy.getByLabel('Type', { exact: true }).selectOption('MED_DOSE_CHANGE');
    await psy.getByLabel('Drug').fill('sertraline');
    await psy.getByLabel('Dose').fill('100 mg daily');
    await psy.getByLabel(/^Titration/).fill('50 mg to 100 mg after 7 days');
    await psy.getByLabel(/^Monitoring/).fill('nausea and sleep; PHQ-9 in 4 weeks');
    await psy.getByRole('button', { name: 'Add an action' }).click();
    await psy.getByLabel('Type', { exact: true }).nth(1).selectOption('PSYCHOTHERAPY');
    await psy.getByLabel('What to do').fill('Behavioural activation with the nurse, weekly');
  };

  test('the team is set up with the CLI; the psychiatrist enrols in the browser', async () => {
    await team.enrolAdmin();
    await team.addCliUser('nurse', 'nurse', 'Anne Martin');
    await team.addCliUser('gp', 'gp', 'Gilles Petit');
    const inv = await team.invite('psy', 'psychiatrist', 'Paul Durand');
    psy = await team.enrolBrowser('psy', `${team.daemon.origin}/#code=${inv.code}`);
    await psy.getByRole('heading', { name: 'Weekly case review' }).waitFor();
    await psy.getByText('No session is planned').waitFor();
    // the psychiatrist's CLI, a second device (to read the letter's state at the end), and the
    // GP's browser, a second device of the GP's CLI: both before the letter is sent to them
    await team.enrolCli('psy', (await cli('admin', 'admin', 'invite', '--user', user.psy)).code);
    await team.linkBrowser('gp');

    // the nurse opens the patient's thread with the GP and the psychiatrist, 10 days ago
    const th = await cli('nurse', 'thread', 'create', '--patient', 'P-REV1', '--title', 'Marie Lefort',
      '--member', user.gp, '--member', user.psy);
    w.thread = th.thread;
    await cli('nurse', 'thread', 'meta', w.thread, '--enrolled', iso(today() - 10));
    await cli('nurse', 'thread', 'card', w.thread, '--birth-name', BIRTH_NAME, '--given-names', 'Marie',
      '--birth-date', '1980-01-05', '--sex', 'F', '--ins', INS, '--ins-kind', 'nir-test');
    await cli('nurse', 'scale', 'record', w.thread, '--phq9', '3,3,2,2,2,2,2,2,0', '--gad7',
      '2,2,2,2,2,1,1', '--date', iso(today() - 10));
    await cli('nurse', 'plan', 'record', w.thread, '--date', iso(today() - 9), '--antidepressant');
    const second = await cli('nurse', 'scale', 'record', w.thread, '--phq9', '3,3,3,2,3,2,2,2,0',
      '--gad7', '2,2,2,2,2,2,2', '--date', iso(today() - 3));
    assert.deepEqual(second.alerts.map((a) => a.type), ['A04'], 'a PHQ-9 of 20 raises A04');
    await cli('nurse', 'send', w.thread, 'Summary 1: first contact, low mood for 3 months.');
    await cli('nurse', 'send', w.thread, 'Summary 2: PHQ-9 went from 18 to 20 despite sertraline 50 mg.');
  });

  test('a weekly session: the new patient is on its agenda as T2', async () => {
    // tomorrow's weekday in the server's local time (same machine, same zone)
    const tomorrow = new Date(Date.now() + team.offsetMs + DAY_MS);
    const weekday = tomorrow.getDay() === 0 ? 7 : tomorrow.getDay();
    w.start = new Date(tomorrow.getFullYear(), tomorrow.getMonth(), tomorrow.getDate(), 10, 0).getTime();
    await psy.getByLabel('Day of the week').selectOption(String(weekday));
    await psy.getByLabel('Time (server time)').fill('10:00');
    await psy.getByLabel(/Length \(minutes/).fill('60');
    await psy.getByRole('button', { name: 'Add', exact: true }).click();
    await psy.getByRole('status').filter({ hasText: 'Weekly series added' }).waitFor();
    // the row, once the patient's name is decrypted from the thread's title
    const row = psy.locator(`table.agenda tr[data-thread="${w.thread}"]`, { hasText: 'Marie Lefort' });
    await row.waitFor({ timeout: LIVE_MS });
    assert.equal(await row.getAttribute('data-tier'), 'T2');
    const text = await row.textContent();
    assert.match(text, /Marie Lefort/);
    assert.match(text, /T2 · new patient/);
    assert.deepEqual(await row.locator('[data-reason]').evaluateAll((l) => l.map((e) => e.dataset.reason)),
      ['new_patient', 'severe']);
    assert.match(text, /2 slots[\s\S]*within capacity/);
    assert.match(await psy.getByTestId('capacity').textContent(), /2 of 7 slots used/);
    assert.equal(await psy.getByTestId('capacity').locator('[data-frozen]').getAttribute('data-frozen'), 'false');
    const planned = psy.locator('table.sessions tr[data-state="planned"]');
    assert.equal(await planned.count(), 4, 'the next four planned sessions are listed');
    const listed = await cli('nurse', 'session', 'list', '--psychiatrist', user.psy, '--to', iso(today() + 91));
    assert.equal(listed.sessions.length, 12, 'a weekly series is planned 12 weeks ahead');
    await psy.getByRole('button', { name: 'Show all 12 sessions' }).click();
    assert.equal(await planned.count(), 12);
    await psy.getByRole('button', { name: 'Show fewer sessions' }).click();
    assert.equal(await planned.count(), 4);
    // the nurse's CLI sees the same place on the queue
    const q = await cli('nurse', 'queue', 'list', w.thread);
    assert.equal(q.entries[0].tier, 'T2');
    assert.equal(q.entries[0].position, 1);
    assert.equal(q.entries[0].session.start, w.start);
    w.session = q.entries[0].session.session;
    await audit(psy, 'review');
  });

  test('an ad hoc session is added, then cancelled after confirmation', async () => {
    await psy.getByLabel('One ad hoc session').check();
    await psy.getByLabel('Date', { exact: true }).fill(iso(today() + 3));
    await psy.getByLabel('Time', { exact: true }).fill('14:00');
    await psy.getByLabel(/Length \(minutes/).fill('30');
    await psy.getByRole('button', { name: 'Add', exact: true }).click();
    await psy.getByRole('status').filter({ hasText: 'Session added' }).waitFor();
    const adhoc = psy.locator('table.sessions tr', { hasText: 'ad hoc' });
    await adhoc.waitFor();
    assert.match(await adhoc.textContent(), /30 min[\s\S]*3[\s\S]*planned/);
    const id = await adhoc.getAttribute('data-session');
    await adhoc.getByRole('button', { name: /Cancel the session/ }).click();
    const yes = adhoc.getByRole('button', { name: 'Yes, cancel it' });
    await yes.waitFor();
    assert.equal(await yes.evaluate((b) => b === document.activeElement), true, 'focus on the question');
    await audit(psy, 'review-cancel');
    await yes.click();
    await psy.locator(`table.sessions tr[data-session="${id}"][data-state="cancelled"]`).waitFor({ timeout: LIVE_MS });
    const list = await cli('nurse', 'session', 'list', '--psychiatrist', user.psy);
    assert.equal(list.sessions.find((s) => s.session === id)?.state, 'cancelled');
  });

  test('the case: summary, chart with the plan change, open alerts; an incomplete letter is refused', async () => {
    await psy.locator(`table.agenda tr[data-thread="${w.thread}"] a`).click();
    await psy.getByRole('heading', { level: 1, name: /Marie Lefort/ }).waitFor();
    const items = psy.getByTestId('nurse-summary').locator('li');
    await items.first().waitFor();
    assert.equal(await items.count(), 2);
    assert.match(await items.nth(0).textContent(), /latest[\s\S]*Anne Martin[\s\S]*Summary 2/);
    assert.match(await items.nth(1).textContent(), /Summary 1/);
    const fig = psy.locator('figure.chart');
    assert.equal(await fig.getAttribute('data-points'), '2');
    assert.equal(await fig.getAttribute('data-plans'), '1');
    assert.equal(await fig.locator('.s-phq9 circle').count(), 2);
    assert.equal(await fig.locator('.s-gad7 rect').count(), 2);
    assert.equal(await fig.locator('.plan-mark').count(), 1);
    const cells = await fig.locator('table.chart-table tbody tr').evaluateAll((rows) =>
      rows.map((r) => [...r.children].map((c) => c.textContent.trim()).slice(1).join('|')));
    assert.deepEqual(cells, ['18|12|', '||changed: with an antidepressant', '20|14|']);
    await psy.locator('table.case-alerts tr[data-type="A04"]').waitFor();
    assert.match(await psy.getByTestId('queue-entry').textContent(), /#1 · T2 · new patient/);
    await audit(psy, 'case');

    // everything but the safety statement: refused in the form, focus on it, nothing sent
    await psy.getByLabel('Question addressed').fill('Next step after no response to sertraline 50 mg?');
    await psy.getByLabel(/^Data basis/).fill('PHQ-9 18 then 20; GAD-7 12 then 14; sertraline 50 mg for 9 days, taken daily.');
    await addActions();
    await psy.getByLabel(/^If it does not work/).fill('Switch to another SSRI and present again.');
    await psy.getByLabel('Next review', { exact: true }).last().fill(iso(today() + 28));
    await psy.getByRole('button', { name: 'Send the recommendation' }).click();
    const safety = psy.getByLabel('Safety statement');
    await psy.locator('#rec-safety-err').waitFor();
    assert.equal(await safety.getAttribute('aria-invalid'), 'true');
    assert.equal(await safety.evaluate((e) => e === document.activeElement), true, 'focus on the field at fault');
    assert.equal(await psy.locator('#rec-safety-err').textContent(), 'Write the safety statement (1000 bytes at most).');
    assert.equal(await safety.getAttribute('aria-describedby'), 'rec-safety-err');
    assert.deepEqual((await cli('nurse', 'rec', 'list')).recs, [], 'nothing was registered');
    const shown = await cli('nurse', 'thread', 'show', w.thread);
    assert.equal(JSON.stringify(shown).includes('sertraline 50 mg?'), false, 'nothing was sent');
    await audit(psy, 'case-refused');
  });

  test('after the session starts: frozen agenda, outcome, recommendation read by the CLI, minutes', async () => {
    // the daemon's clock moves (live) to an hour past the session's start; the CLI's and the page's too
    await team.advanceClock(Math.ceil((w.start + 3600e3 - Date.now() - team.offsetMs) / 1000) * 1000);
    await online(psy);
    assert.ok(await psy.evaluate((t) => Date.now() >= t, w.start), 'the page\'s clock moved too');
    await psy.goto(`${team.daemon.origin}/#/review`);
    const held = psy.locator(`table.sessions tr[data-session="${w.session}"][data-state="held"]`);
    await held.waitFor({ timeout: LIVE_MS });
    await held.getByRole('button', { name: /Show its agenda/ }).click();
    await psy.locator('[data-frozen="true"]').waitFor();
    const row = psy.locator(`table.agenda tr[data-thread="${w.thread}"]`);
    assert.match(await row.textContent(), /T2 · new patient[\s\S]*within capacity/);
    await row.locator('a').click();
    await psy.getByRole('heading', { level: 1, name: /Marie Lefort/ }).waitFor();

    // the outcome: the date is required (checked here), then recorded on the held session
    await psy.getByLabel('Outcome', { exact: true }).selectOption('RECOMMENDATION');
    await psy.getByRole('button', { name: 'Record the outcome' }).click();
    const next = psy.locator('form.outcome input[type="date"]');
    assert.equal(await next.getAttribute('aria-invalid'), 'true');
    assert.equal(await next.evaluate((e) => e === document.activeElement), true);
    await next.fill(iso(today() + 28));
    await psy.getByRole('button', { name: 'Record the outcome' }).click();
    await psy.getByTestId('outcome-result').filter({ hasText: 'Recorded on the session’s agenda' }).waitFor();
    const meta = await cli('nurse', 'thread', 'meta', w.thread);
    assert.equal((meta.meta ?? meta).next_review, (today() + 28) * DAY_MS);
    assert.ok((meta.meta ?? meta).last_review > w.start, 'reviewed at the moved time, after the start');

    // the complete letter
    const f = {
      question: 'Next step after no response to sertraline 50 mg?',
      data_basis: 'PHQ-9 18 then 20; GAD-7 12 then 14; sertraline 50 mg for 9 days, taken daily.',
      safety: 'No suicidal ideation (item 9 = 0 twice); no plan, protective factors present.',
      diagnosis: 'Major depressive episode, moderate to severe',
      narrative: 'Seen at the weekly case review with the care manager.',
      contingency: 'Switch to another SSRI and present again.',
    };
    await psy.getByLabel('Question addressed').fill(f.question);
    await psy.getByLabel(/^Data basis/).fill(f.data_basis);
    await psy.getByLabel('Safety statement').fill(f.safety);
    await psy.getByLabel(/^Diagnosis/).fill(f.diagnosis);
    await addActions();
    await psy.getByLabel(/^Narrative/).fill(f.narrative);
    await psy.getByLabel(/^If it does not work/).fill(f.contingency);
    await psy.locator('#rec-nextReviewDay').fill(iso(today() + 28));
    await psy.getByLabel(/^Urgent/).check();
    await psy.getByRole('button', { name: 'Send the recommendation' }).click();
    const result = psy.getByTestId('rec-result');
    await result.waitFor({ timeout: LIVE_MS });
    assert.match(await result.textContent(), /Recommendation sent \(version 1\)[\s\S]*sent · urgent[\s\S]*acknowledgement is due/);
    const recId = await result.getAttribute('data-rec');
    w.rec = recId;
    w.question = f.question;
    await psy.locator(`table.case-recs tr[data-rec="${recId}"][data-state="sent"]`).waitFor({ timeout: LIVE_MS });

    const shown = await cli('gp', 'rec', 'show', recId);
    assert.equal(shown.rec.urgent, true);
    assert.equal(shown.rec.gp, user.gp);
    assert.equal(shown.rec.author, user.psy);
    assert.equal(shown.rec.thread, w.thread);
    const d = shown.doc;
    for (const k of Object.keys(f)) assert.equal(d[k], f[k], k);
    assert.equal(d.urgency, 'urgent');
    assert.equal(d.question_code, 'new_patient');
    assert.equal(d.date, iso(today()));
    assert.equal(d.review_date, iso(Math.floor(w.start / DAY_MS)));
    assert.equal(d.next_review, iso(today() + 28));
    assert.deepEqual(d.items, [
      { type: 'MED_DOSE_CHANGE', drug: 'sertraline', dose: '100 mg daily',
        titration: '50 mg to 100 mg after 7 days', monitoring: 'nausea and sleep; PHQ-9 in 4 weeks' },
      { type: 'PSYCHOTHERAPY', text: 'Behavioural activation with the nurse, weekly' },
    ]);
    assert.match(d.disclaimer, /^These recommendations rest on the care manager/);
    await audit(psy, 'case-sent');

    // the minutes: the psychiatrist and the nurse attended; the case was discussed
    await psy.getByRole('link', { name: 'Back to the agenda' }).click();
    const heldRow = psy.locator(`table.sessions tr[data-session="${w.session}"]`);
    await heldRow.getByRole('button', { name: /Show its agenda/ }).click();
    await psy.locator(`table.agenda tr[data-thread="${w.thread}"]`, { hasText: 'recommendation to the GP' })
      .waitFor({ timeout: LIVE_MS });
    await psy.getByLabel(/Anne Martin/).check();
    await psy.getByRole('button', { name: 'Record the minutes' }).click();
    const minutes = psy.getByTestId('minutes-result');
    await minutes.waitFor({ timeout: LIVE_MS });
    assert.match(await minutes.textContent(), /Attended: (Paul Durand, Anne Martin|Anne Martin, Paul Durand)/);
    const disc = minutes.locator(`tr[data-thread="${w.thread}"]`, { hasText: 'Marie Lefort' });
    await disc.waitFor({ timeout: LIVE_MS }); // once the title is decrypted
    assert.match(await disc.textContent(), /Marie Lefort[\s\S]*recommendation to the GP/);
    assert.equal(await minutes.locator('tbody tr').count(), 1);
    await audit(psy, 'review-minutes');

    // the recorded minutes come back with the held session's agenda after a reload
    await psy.reload();
    const again = psy.locator(`table.sessions tr[data-session="${w.session}"]`);
    await again.getByRole('button', { name: /Show its agenda/ }).click();
    const attended = /Attended: (Paul Durand, Anne Martin|Anne Martin, Paul Durand)/;
    // shown once the directory's names and the patient's title have arrived
    const stored = psy.getByTestId('minutes-result').filter({ hasText: attended });
    await stored.waitFor({ timeout: LIVE_MS });
    await stored.locator(`tr[data-thread="${w.thread}"]`, { hasText: 'Marie Lefort' })
      .waitFor({ timeout: LIVE_MS });
    assert.match(await stored.locator(`tr[data-thread="${w.thread}"]`).textContent(),
      /Marie Lefort[\s\S]*recommendation to the GP/);
    assert.equal(await psy.getByLabel(/Anne Martin/).isChecked(), true);
  });

  test('the GP\'s other device: the letter in the inbox, acknowledged, accepted; its XDM is the CLI\'s', async () => {
    const gp = team.pages.gp; // a second device of the GP, in its own browser context
    await team.go('gp', '#/recs');
    await gp.getByRole('heading', { name: 'Recommendations from psychiatry' }).waitFor();
    const row = gp.locator(`section[data-group="new"] tr[data-rec="${w.rec}"]`, { hasText: 'Marie Lefort' });
    await row.waitFor({ timeout: LIVE_MS });
    assert.match(await row.textContent(), /Marie Lefort[\s\S]*sent[\s\S]*urgent[\s\S]*Paul Durand/);

    await row.getByRole('link').click();
    const question = gp.getByTestId('rec-question');
    await question.waitFor({ timeout: LIVE_MS });
    const badge = await question.locator('.badge').textContent();
    assert.equal((await question.textContent()).trim(), `${badge} ${w.question}`,
      'the letter shows the question the psychiatrist typed');
    assert.equal((await cli('gp', 'rec', 'show', w.rec)).rec.state, 'sent', 'reading is not acknowledging');
    await audit(gp, 'rec-urgent-gp');
    await gp.getByRole('button', { name: 'Acknowledge' }).click();
    await gp.locator('[data-testid="rec-state"] [data-state="acknowledged"]').waitFor({ timeout: LIVE_MS });
    await gp.getByLabel('accepted', { exact: true }).check();
    await gp.getByRole('button', { name: 'Record the decision' }).click();
    await gp.locator('[data-testid="rec-state"] [data-state="accepted"]').waitFor({ timeout: LIVE_MS });

    // the XDM package built in the browser, byte for byte the GP's CLI's, its CDA checked
    await gp.locator('li.rec-export[data-format="xdm"]').getByRole('button').click();
    const link = gp.getByTestId('download-xdm');
    await link.waitFor({ timeout: LIVE_MS });
    await audit(gp, 'rec-accepted-gp');
    const [dl] = await Promise.all([gp.waitForEvent('download'), link.click()]);
    assert.equal(dl.suggestedFilename(), 'IHE_XDM.ZIP');
    const got = await readFile(await dl.path());
    const out = join(team.tmp, 'cli.IHE_XDM.ZIP');
    await cli('gp', 'rec', 'export', w.rec, '--format', 'xdm', '--out', out);
    const want = await readFile(out);
    assert.ok(got.length > 100, `xdm: ${got.length} bytes`);
    assert.ok(Buffer.compare(got, want) === 0, `the browser's ${got.length} bytes equal the CLI's ${want.length}`);
    // written at a case review: LOINC 34794-8 (recs.test.mjs checks an ad hoc one's 11488-4)
    await checkXdm(got, team.tmp, { code: '34794-8', ins: INS, birthName: BIRTH_NAME, sex: 'F',
      birthTime: '19800105', authorId: user.psy, authorName: 'Paul Durand' });

    const seen = await cli('psy', 'rec', 'show', w.rec);
    assert.equal(seen.rec.state, 'accepted', 'the psychiatrist\'s CLI reads the GP\'s decision');
    assert.equal(seen.rec.decision, 'accepted');
  });
});
