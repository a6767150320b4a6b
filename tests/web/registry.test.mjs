// registry.test.mjs - the web client's caseload registry (clients/web/src/protocol/registry.js)
// on the cases of tests/unit/test_registry.c with the same inputs and expected outputs: figures
// in date order, not improving at ten weeks, overdue contacts and reviews by phase, the "needs
// attention" order as an exact list, trend and sparkline, the indicators Q1..Q15 and Q11, bad
// input; then the caseload rows, order and cells of `sesame caseload` (cmd_caseload.c).
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  CASELOAD_COLUMNS, DAY_MS, SES_REGISTRY_TREND_MAX, attentionCompare, caseloadCells,
  caseloadRow, dayOfMs, registryIndicators, registryQ11, registryRow, sortCaseload, sparkline,
} from '../../clients/web/src/protocol/registry.js';
import { dayFormat } from '../../clients/web/src/protocol/scales.js';
import { codeOf } from './lib/codes.mjs';

const D0 = 20000; /* a day */

/* A PHQ-9 of total t (items 1..8 filled first, item 9 as given) on day. */
function phq9(day, t, item9) {
  const items = [];
  let left = t - item9;
  for (let i = 0; i < 8; i++) {
    const v = Math.min(left, 3);
    items.push(v);
    left -= v;
  }
  return { kind: 'scales', date: dayFormat(day), phq9: [...items, item9] };
}

const plan = (day) => ({ kind: 'plan', date: dayFormat(day), antidepressant: true });

function facts(records, today) {
  return { records, today, enrolled_day: D0, last_contact_day: today - 3,
    last_review_day: D0 + 10, first_review_day: D0 + 10, next_review_day: null,
    relapse_prevention: false, closed: false, open_safety: false };
}


test('figures in date order (test_registry.c figures_in_date_order)', () => {
  /* entered out of date order: the first by date is the baseline */
  const recs = [phq9(D0 + 14, 16, 0), phq9(D0, 20, 1), phq9(D0 + 28, 9, 0)];
  recs[2].gad7 = Array(7).fill(1);
  const r = registryRow(facts(recs, D0 + 30));
  assert.equal(r.phq9_baseline, 20);
  assert.equal(r.phq9_baseline_day, D0);
  assert.equal(r.phq9_latest, 9);
  assert.equal(r.phq9_latest_day, D0 + 28);
  assert.notEqual(r.change, null);
  assert.equal(r.change.pct, 55);
  assert.equal(r.change.response, true);
  assert.equal(r.phq9_band, 'PHQ_MILD');
  assert.deepEqual(r.trend, [20, 16, 9]);
  assert.deepEqual(r.item9, { value: 0, day: D0 + 28 }); /* the latest PHQ-9's */
  assert.equal(r.gad7_latest, 7);
  assert.equal(r.weeks_in_care, 4);
  assert.equal(r.attention, 'rest');
  /* an unanswered item 9 on the latest PHQ-9 is reported as such */
  recs[2].phq9[8] = null;
  assert.equal(registryRow(facts(recs, D0 + 30)).item9.value, null);
});

test('not improving at ten weeks (test_registry.c not_improving_at_ten_weeks)', () => {
  const recs = [plan(D0)];
  [18, 18, 17, 16, 15].forEach((t, i) => recs.push(phq9(D0 + 14 * i, t, 0)));
  recs.push(phq9(D0 + 70, 14, 0)); /* 10 weeks on the plan, 22 % better */
  const f = facts(recs, D0 + 71);
  let r = registryRow(f);
  assert.equal(r.weeks_on_plan, 10);
  assert.equal(r.not_improving, true);
  assert.equal(r.attention, 'not_improving');
  recs[recs.length - 1] = phq9(D0 + 70, 9, 0); /* at 50 % the patient has improved enough */
  assert.equal(registryRow(f).not_improving, false);
  recs[recs.length - 1] = phq9(D0 + 63, 14, 0); /* at 9 weeks it is too early to say */
  r = registryRow({ ...f, today: D0 + 64 });
  assert.equal(r.not_improving, false);
});

test('overdue by phase (test_registry.c overdue_by_phase)', () => {
  const rec = [phq9(D0 + 1, 12, 0)];
  let f = facts(rec, D0 + 60);
  f.last_contact_day = D0 + 60 - 21; /* active: 21 days is not yet overdue, 22 is */
  assert.equal(registryRow(f).contact_overdue, false);
  f.last_contact_day--;
  let r = registryRow(f);
  assert.equal(r.contact_overdue, true);
  assert.equal(r.attention, 'overdue');
  assert.equal(r.next_contact_day, f.last_contact_day + 14); /* the cadence proposes */
  f.relapse_prevention = true; /* monthly: 44 days */
  r = registryRow(f);
  assert.equal(r.contact_overdue, false);
  assert.equal(r.next_contact_day, f.last_contact_day + 30);
  f.closed = true;
  assert.equal(registryRow(f).next_contact_day, null);
  f.closed = false;
  f.last_contact_day = D0 + 60 - 45;
  assert.equal(registryRow(f).contact_overdue, true);
  f.closed = true; // an ended episode is never overdue
  assert.equal(registryRow(f).contact_overdue, false);
  assert.equal(registryRow(f).review_overdue, false);
  f.closed = false;
  /* reviews: the next review date passed; a new patient after 28 days; 12 weeks after one */
  f = facts(rec, D0 + 60);
  f.next_review_day = D0 + 59;
  assert.equal(registryRow(f).review_overdue, true);
  f.next_review_day = null;
  f.last_review_day = null;
  f.today = D0 + 28;
  assert.equal(registryRow(f).review_overdue, false);
  f.today = D0 + 29;
  assert.equal(registryRow(f).review_overdue, true);
  f.last_review_day = D0 + 10;
  f.today = D0 + 10 + 84;
  assert.equal(registryRow(f).review_overdue, false);
  f.today++;
  assert.equal(registryRow(f).review_overdue, true);
  /* no contact yet: 28 days from the enrolment */
  f = { ...facts(rec, D0 + 28), last_contact_day: null };
  assert.equal(registryRow(f).contact_overdue, false);
  assert.equal(registryRow({ ...f, today: D0 + 29 }).contact_overdue, true);
});

test('the "needs attention" order (test_registry.c attention_order)', () => {
  const worse = phq9(D0 + 1, 22, 0);
  const mild = phq9(D0 + 1, 7, 0);
  const names = ['rest', 'overdue', 'closed', 'safety-b', 'safety-a', 'no-score'];
  const list = names.map((name, i) => {
    const f = facts(i === 5 ? [] : [i === 1 ? worse : mild], D0 + 10);
    if (i === 1) f.last_contact_day = D0 - 30;
    f.closed = i === 2;
    f.open_safety = i === 3 || i === 4;
    return { name, row: registryRow(f) };
  });
  list.sort((x, y) => attentionCompare(x.row, x.name, y.row, y.name));
  assert.deepEqual(list.map((x) => x.name),
    ['safety-a', 'safety-b', 'overdue', 'rest', 'no-score', 'closed']);
  /* within a class, the higher latest PHQ-9 first */
  const a = registryRow(facts([worse], D0 + 2));
  const b = registryRow(facts([mild], D0 + 2));
  assert.ok(attentionCompare(a, 'z', b, 'a') < 0);
});

test('trend and sparkline (test_registry.c trend_and_sparkline)', () => {
  const recs = Array.from({ length: 30 }, (_, i) => phq9(D0 + i, i % 28, 0));
  const r = registryRow(facts(recs, D0 + 30));
  assert.equal(r.trend.length, SES_REGISTRY_TREND_MAX); /* the latest 26 */
  assert.equal(r.trend[0], 4);
  assert.equal(r.trend[SES_REGISTRY_TREND_MAX - 1], 1);
  assert.equal(sparkline([0, 27, 14]), '\u2581\u2588\u2585');
  assert.equal(sparkline([0, 27, 14], 2), '\u2581\u2588'); /* room for two */
});

test('indicators Q1..Q15 (test_registry.c indicators)', () => {
  const to = D0 + 200;
  const a = [phq9(D0, 20, 0), phq9(D0 + 14, 18, 0), phq9(D0 + 70, 18, 0), plan(D0 + 80),
    phq9(D0 + 180, 8, 0)];
  const b = [phq9(D0 + 5, 12, 0), phq9(D0 + 40, 11, 0), phq9(D0 + 190, 4, 0)];
  const ps = [
    { facts: { ...facts(a, to), last_review_day: D0 + 75, last_contact_day: D0 + 195 },
      contacts: 5 },
    { facts: { ...facts(b, to), enrolled_day: D0 + 5, last_review_day: null,
      first_review_day: null, last_contact_day: D0 + 120 }, contacts: 2 },
    { facts: { ...facts([], to), enrolled_day: D0 + 150, last_contact_day: null,
      first_review_day: null }, contacts: 0 },
    { facts: { ...facts(a, to), enrolled_day: D0 - 100, closed: true }, contacts: 0 },
  ];
  const held = [{ slots: 7, used: 6 }, { slots: 7, used: 7 }, { slots: 1, used: 0 }];
  const q = registryIndicators(ps, held, D0 - 10, to);
  const want = [[1, 2], [1, 3], [1, 3], [2, 2], [1, 1], [1, 1], [1, 2], [2, 2], [1, 2], [1, 3],
    [0, 0], [1, 3], [0, 1], [3, 1], [13, 15]];
  assert.equal(q.length, 15);
  q.forEach((qi, k) => {
    assert.equal(qi.code, `Q${k + 1}`);
    assert.equal(qi.available, true);
    assert.deepEqual([qi.num, qi.den], want[k], qi.code);
  });
  // Q13 counts only those enrolled by the window's end (the closed patient: D0 - 100)
  assert.equal(registryIndicators(ps, [], D0 - 130, D0 - 101)[12].den, 0);
  assert.equal(registryIndicators(ps, [], D0 - 130, D0 - 100)[12].den, 1);
  assert.equal(codeOf(() => registryIndicators(ps, [], to, D0)), 'INVALID_ARG');
  assert.equal(codeOf(() => registryIndicators(null, [], D0, to)), 'INVALID_ARG');
  assert.equal(registryIndicators([], [], D0, to)[1].den, 0);
  const bad = [{ facts: facts([{ kind: 'scales', date: dayFormat(D0),
    phq9: Array(9).fill(null) }], to), contacts: 0 }];
  assert.equal(codeOf(() => registryIndicators(bad, [], D0, to)), 'BAD_SCALE');
  /* beyond the C test: Q8 and Q9 read the last PHQ-9 of days 152..212, not the first */
  const six = [{ facts: facts([phq9(D0, 20, 0), phq9(D0 + 160, 15, 0), phq9(D0 + 200, 4, 0)],
    to), contacts: 3 }];
  const q6 = registryIndicators(six, [], D0, to);
  assert.deepEqual([q6[7].num, q6[7].den, q6[8].num, q6[8].den], [1, 1, 1, 1]);
});

test('Q11, the recommendation loop (test_registry.c q11)', () => {
  const h = 3600000;
  const t0 = D0 * DAY_MS;
  const rec = (sent, acked, implemented, superseded) => ({ sent_ms: sent, acked_ms: acked,
    implemented_ms: implemented, superseded });
  const recs = [
    rec(t0, t0 + 10 * h, t0 + 30 * h, false), /* implemented, acked in 10 h */
    rec(t0 + 2 * h, t0 + 40 * h, 0, false), /* acked in 38 h */
    rec(t0 + 3 * h, 0, 0, false), /* never acked */
    rec(t0 + 4 * h, t0 + 5 * h, t0 + 6 * h, true), /* superseded */
    rec(t0 + 20 * DAY_MS, t0 + 20 * DAY_MS + h, 1, false), /* after the window */
    rec(t0 + 5 * h, t0 + 25 * h, t0 + 50 * h, false), /* implemented, acked in 20 h */
  ];
  let q = registryQ11(recs, D0, D0 + 10);
  assert.equal(q.code, 'Q11');
  assert.equal(q.available, true);
  assert.deepEqual([q.num, q.den, q.median_hours], [2, 4, 20]); /* of 10, 20, 38 */
  assert.equal(registryQ11(recs.slice(0, 2), D0, D0 + 10).median_hours, 24); /* of 10 and 38 */
  q = registryQ11([], D0, D0);
  assert.deepEqual([q.den, q.median_hours], [0, -1]);
  assert.equal(codeOf(() => registryQ11(null, D0, D0)), 'INVALID_ARG');
  assert.equal(codeOf(() => registryQ11(recs, D0 + 1, D0)), 'INVALID_ARG');
});

test('bad input (test_registry.c bad_input)', () => {
  assert.equal(codeOf(() => registryRow(null)), 'INVALID_ARG');
  assert.equal(codeOf(() => registryRow({ ...facts(null, D0) })), 'INVALID_ARG');
  const bad = phq9(D0, 5, 0);
  bad.phq9[0] = 9; /* out of range */
  assert.equal(codeOf(() => registryRow(facts([bad], D0))), 'BAD_SCALE');
});

/* --- the caseload of `sesame caseload` ----------------------------------------------------- */

const ms = (day) => day * DAY_MS;

function patientInput(thread, patient, records, meta, extra = {}) {
  return {
    thread, patient, records, title: `Patient ${patient}`,
    members: [{ user: 'PSY1', name: 'Dr Psy', role: 'psychiatrist' },
      { user: 'N1', name: 'Anne Martin', role: 'nurse' }],
    meta: { enrolled: ms(D0), phase: 'active', last_contact: ms(D0 + 27), contacts: 3,
      last_review: ms(D0 + 10), sequence_type: null, sequence_due: null, last_phq9: null,
      closed: null, closed_reason: null, next_review: ms(D0 + 60), review_deferrals: 0,
      first_review: ms(D0 + 10), ...meta },
    alerts: [], queue: [], recs: [], directory: [{ user: 'N1', site: 'Lyon' }],
    today_ms: ms(D0 + 30) + 5 * 3600000, ...extra,
  };
}

test('a caseload row is the JSON `sesame caseload` prints', () => {
  const recs = [phq9(D0 + 14, 16, 0), phq9(D0, 20, 1), phq9(D0 + 28, 9, 2)];
  recs[2].gad7 = Array(7).fill(1);
  recs.push({ kind: 'rp_plan', date: dayFormat(D0 + 29), triggers: 'a', warning_signs: 'b',
    coping: 'c', supports: 'd', emergency: 'e' });
  const alerts = [
    { thread: 'T1', type: 'A01', variant: 'item9_2', severity: 'P1', state: 'raised' },
    { thread: 'T1', type: 'A04', variant: '', severity: 'P2', state: 'acked' },
    { thread: 'T2', type: 'A02', variant: '', severity: 'P0', state: 'raised' },
  ];
  const queue = [{ thread: 'T1', tier: 'T1', due: ms(D0 + 31) }];
  const recList = [
    { rec: 'R3', thread: 'T1', state: 'superseded', urgent: false, sent: 3, overdue: false },
    { rec: 'R2', thread: 'T1', state: 'sent', urgent: true, sent: 2, overdue: true },
    { rec: 'R1', thread: 'T1', state: 'implemented', urgent: false, sent: 1, overdue: false },
  ];
  const row = caseloadRow(patientInput('T1', 'P-7F3A', recs, {},
    { alerts, queue, recs: recList }));
  assert.deepEqual(row, {
    thread: 'T1', patient: 'P-7F3A', nurse: 'N1', nurse_name: 'Anne Martin', weeks: 4,
    phase: 'active', last_contact: dayFormat(D0 + 27), next_contact: dayFormat(D0 + 41),
    phq9: { baseline: 20, baseline_date: dayFormat(D0), latest: 9,
      latest_date: dayFormat(D0 + 28), pct: 55, band: 'PHQ_MILD', trend: [20, 16, 9] },
    gad7: { latest: 7, date: dayFormat(D0 + 28) },
    item9: { value: 2, date: dayFormat(D0 + 28) },
    open_alerts: { count: 2, highest: 'P1' }, attention: 'safety', not_improving: false,
    contact_overdue: false, review_overdue: false, weeks_on_plan: 4,
    queue: { tier: 'T1', due: ms(D0 + 31) }, next_review: dayFormat(D0 + 60),
    recommendation: { rec: 'R2', state: 'sent', urgent: true, sent: 2, overdue: true },
    rp_plan: dayFormat(D0 + 29), name: 'Patient P-7F3A', site: 'Lyon',
  });
  assert.equal(CASELOAD_COLUMNS.length, 18);
  assert.deepEqual(caseloadCells(row), ['P-7F3A', 'Anne Martin', 'Lyon', '4', 'active',
    dayFormat(D0 + 27), dayFormat(D0 + 41), `20 -> 9 (${dayFormat(D0 + 28)})`, '-55 %',
    'mild', '\u2586\u2585\u2583', '7', '2', '2 (P1)', 'T1', dayFormat(D0 + 60),
    'sent overdue', 'safety']);
});

test('an empty thread, a closed one, and the caseload order', () => {
  const empty = caseloadRow(patientInput('T3', 'P-0003', [], { last_contact: null,
    next_review: null }, { members: [], directory: [] }));
  assert.equal(empty.phq9, null);
  assert.equal(empty.item9, null);
  assert.equal(empty.nurse, '');
  assert.equal(empty.site, null);
  assert.equal(empty.next_contact, dayFormat(D0 + 14));
  assert.equal(empty.open_alerts.highest, null);
  assert.deepEqual(caseloadCells(empty).slice(1, 3), ['-', '-']);
  assert.deepEqual(caseloadCells(empty).slice(5, 17), ['- overdue', dayFormat(D0 + 14), '-',
    '-', '-', '-', '-', '-', '-', '-', '-', '-']);
  assert.equal(empty.attention, 'overdue');
  const closed = caseloadRow(patientInput('T4', 'P-0004', [phq9(D0 + 1, 25, 0)],
    { closed: ms(D0 + 20), phase: 'relapse_prevention' }));
  assert.equal(closed.attention, 'closed');
  assert.equal(closed.next_contact, null);
  const severe = caseloadRow(patientInput('T5', 'P-0005', [phq9(D0 + 1, 25, 0)], {}));
  const mild = caseloadRow(patientInput('T6', 'P-0006', [phq9(D0 + 1, 6, 0)], {}));
  const rows = [closed, mild, empty, severe];
  assert.deepEqual(sortCaseload(rows).map((r) => r.patient),
    ['P-0003', 'P-0005', 'P-0006', 'P-0004']);
  assert.deepEqual(sortCaseload(rows, 'name').map((r) => r.patient),
    ['P-0003', 'P-0004', 'P-0005', 'P-0006']);
  assert.equal(codeOf(() => sortCaseload(rows, 'size')), 'BAD_FIELD');
  assert.equal(dayOfMs(-1), -1);
  assert.equal(dayOfMs(DAY_MS - 1), 0);
  assert.equal(dayOfMs(null), null);
});
