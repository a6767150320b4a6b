// vectors_scales.test.mjs - the web client's scales module (clients/web/src/protocol/scales.js)
// against every vector of protocol/vectors/scales.json (PROTOCOL.md §14): scoring, change,
// rules (triggers in output order and the whole episode), records (exact bytes and text), parse
// and reject; plus the relapse-prevention plan record of tests/unit/test_scales.c. A missing or
// unreadable vector file fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  SES_RECORD_MAX, changeCompute, contactScales, dayFormat, dayParse, encodeRecord,
  item9Trigger, parseRecord, recordBody, recordCheck, recordText, rules, scoreScale,
  timeOfDayParse,
} from '../../clients/web/src/protocol/scales.js';
import { codeOf } from './lib/codes.mjs';

const VECTORS = new URL('../../protocol/vectors/scales.json', import.meta.url);
const V = JSON.parse(readFileSync(VECTORS, 'utf8'));

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16));

function section(name, min) {
  assert.ok(Array.isArray(V[name]), `scales.json has no section ${name}`);
  assert.ok(V[name].length >= min, `${name}: ${V[name].length} vectors, want >= ${min}`);
  return V[name];
}

test('scoring: every vector, exactly', () => {
  for (const v of section('scoring', 30)) {
    const name = v.name;
    if (v.error !== undefined) {
      assert.equal(codeOf(() => scoreScale(v.scale, v.items, v.cutoff ?? 0)), v.error, name);
      continue;
    }
    const sc = scoreScale(v.scale, v.items, v.cutoff ?? 0);
    assert.deepEqual(sc, { complete: v.complete, prorated: v.prorated, answered: v.answered,
      sum: v.sum, total: v.total, band: v.band, label: v.label }, name);
  }
});

test('change: every vector, exactly', () => {
  for (const v of section('change', 20)) {
    const { baseline, latest, ...want } = v;
    assert.deepEqual(changeCompute(baseline, latest), want, `${baseline} -> ${latest}`);
  }
});

test('rules: triggers in output order and the episode figures of every vector', () => {
  for (const v of section('rules', 40)) {
    const got = rules(v.history, v.latest, v.relapse_prevention, v.config);
    assert.deepEqual(got.triggers.map(({ type, variant }) => ({ type, variant })), v.triggers,
      `${v.name}: triggers`);
    for (const t of got.triggers) assert.ok(t.why.length > 0, `${v.name}: ${t.type} has a why`);
    assert.deepEqual(got.episode, v.episode, `${v.name}: episode`);
  }
});

test('records: the exact body bytes and text of every vector, and back', () => {
  const enc = new TextEncoder();
  for (const v of section('records', 10)) {
    assert.equal(recordText(v.record), v.text, `${v.name}: text`);
    assert.equal(recordBody(v.record), v.body, `${v.name}: body`);
    assert.deepEqual(encodeRecord(v.record), enc.encode(v.body), `${v.name}: bytes`);
    assert.deepEqual(parseRecord(enc.encode(v.body)), { record: v.record, text: v.text },
      `${v.name}: parsed back`);
  }
});

test('parse: every non-canonical but valid body gives its record and text', () => {
  for (const v of section('parse', 4)) {
    const enc = new TextEncoder().encode(v.body);
    assert.deepEqual(parseRecord(enc), { record: v.record, text: v.text }, v.name);
    assert.deepEqual(parseRecord(v.body), { record: v.record, text: v.text }, `${v.name} (text)`);
  }
});

test('reject: every body is refused with BAD_SCALE', () => {
  for (const v of section('reject', 40)) {
    const body = v.body !== undefined ? new TextEncoder().encode(v.body) : hexBytes(v.body_hex);
    assert.equal(codeOf(() => parseRecord(body)), 'BAD_SCALE', v.name);
  }
});

test('the reader refuses what jansson refuses beyond the vectors', () => {
  const ok = '{"v":1,"kind":"plan","date":"2026-11-01","antidepressant":true,"text":"t"';
  const bad = [
    `${ok},"x":01}`, `${ok},"x":1.}`, `${ok},"x":.5}`, `${ok},"x":1e400}`, `${ok},"x":-}`,
    `${ok},"x":99999999999999999999}`, `${ok},"x":"\t"}`, `${ok},"x":"\\x"}`,
    `${ok},"x":"\\udc00"}`, `${ok},"x":"\\ud800\\u0041"}`, `${ok},"x":tru}`, `${ok},}`,
    `\ufeff${ok}}`, `${ok},"x":[1,]}`, `${ok},"\\u0000":1}`, `${ok},"o":{"a":1,"a":2}}`,
  ];
  for (const b of bad) assert.equal(codeOf(() => parseRecord(b)), 'BAD_SCALE', b);
  assert.equal(codeOf(() => parseRecord(new Uint8Array([...new TextEncoder().encode(`${ok}}`),
    0]))), 'BAD_SCALE', 'a NUL byte after the object');
  assert.equal(codeOf(() => parseRecord('{"v":1,"text":"\ud800"}')), 'BAD_SCALE', 'lone char');
  const good = [`${ok},"x":-0}`, `${ok},"x":1e-400}`, `${ok},"x":-9223372036854775808}`,
    `${ok},"x":"\\u00E9\\uD83D\\uDE00"}`, `${ok},"x":1.5E+3}`];
  for (const b of good) assert.equal(parseRecord(b).record.kind, 'plan', b);
  assert.equal(codeOf(() => parseRecord(`{"v":1,"kind":"scales","date":"2026-11-23",`
    + '"phq9":[1,1,1,1,1,1,1,1,-0],"text":"t"}')), 'no error', '-0 is the integer 0');
});

test('size: a body of exactly SES_RECORD_MAX bytes is read, one more is refused', () => {
  const head = '{"v":1,"kind":"plan","date":"2026-11-01","antidepressant":true,"text":"';
  const body = (n) => `${head}${'x'.repeat(n - head.length - 2)}"}`;
  assert.equal(parseRecord(body(SES_RECORD_MAX)).record.kind, 'plan');
  assert.equal(codeOf(() => parseRecord(body(SES_RECORD_MAX + 1))), 'BAD_SCALE');
});

test('encoder refuses what the parser refuses (ses_record_check)', () => {
  const bad = [
    { kind: 'scales', date: '2026-11-23' },
    { kind: 'scales', date: '2026-11-23', phq9: Array(9).fill(null) },
    { kind: 'scales', date: '2026-11-23', phq9: [1, 1, 1, 1, 1, 1, 1, 1] },
    { kind: 'scales', date: '2026-11-23', phq9: [1, 1, 1, 1, 1, 1, 1, 1, 4] },
    { kind: 'scales', date: '2026-11-23', gad7: [1, 1, 1, 1, 1, 1, 1.5] },
    { kind: 'scales', date: '2026-02-29', phq2: [1, 1] },
    { kind: 'scales', date: '2026-11-23', phq2: [1, 1], antidepressant: true },
    { kind: 'plan', date: '2026-11-01' },
    { kind: 'plan', date: '2026-11-01', antidepressant: true, phq2: [1, 1] },
    { kind: 'medication', date: '2026-11-01' },
  ];
  for (const r of bad) assert.equal(codeOf(() => encodeRecord(r)), 'BAD_SCALE', JSON.stringify(r));
  assert.equal(codeOf(() => recordCheck({ kind: 'scales', date: '2026-11-23', phq2: [0, null] })),
    'no error');
});

test('the relapse-prevention plan record (test_scales.c test_rp_plan_record)', () => {
  const r = { kind: 'rp_plan', date: '2026-11-30', triggers: 'conflict at work, "anniversaries"',
    warning_signs: 'sleep <5 h\nwithdrawal', coping: 'walk daily, call a friend',
    supports: 'sister; GP Dr Petit', emergency: '3114 or the nurse, \u00e0 toute heure' };
  const want = '{"v":1,"kind":"rp_plan","date":"2026-11-30","triggers":"conflict at work, '
    + '\\"anniversaries\\"","warning_signs":"sleep <5 h\\nwithdrawal","coping":"walk '
    + 'daily, call a friend","supports":"sister; GP Dr Petit","emergency":"3114 or the '
    + 'nurse, \u00e0 toute heure","text":"Relapse-prevention plan written on 2026-11-30"}';
  assert.equal(recordBody(r), want);
  assert.deepEqual(parseRecord(encodeRecord(r)),
    { record: r, text: 'Relapse-prevention plan written on 2026-11-30' });
  assert.equal(codeOf(() => recordCheck({ ...r, coping: '' })), 'BAD_SCALE');
  assert.equal(codeOf(() => recordCheck({ ...r, supports: 'a'.repeat(600) })), 'no error');
  assert.equal(codeOf(() => recordCheck({ ...r, supports: '\u00e9'.repeat(301) })), 'BAD_SCALE');
  assert.equal(codeOf(() => recordCheck({ ...r, triggers: 'surrogate \ud800' })), 'BAD_SCALE');
  const refused = [
    '{"v":1,"kind":"rp_plan","date":"2026-11-30","triggers":"a","warning_signs":"b",'
      + '"coping":"c","supports":"d","text":"x"}',
    '{"v":1,"kind":"rp_plan","date":"2026-11-30","triggers":"","warning_signs":"b",'
      + '"coping":"c","supports":"d","emergency":"e","text":"x"}',
    '{"v":1,"kind":"rp_plan","date":"2026-11-30","triggers":"a","warning_signs":"b",'
      + '"coping":"c","supports":"d","emergency":"e","antidepressant":true,"text":"x"}',
    '{"v":1,"kind":"rp_plan","date":"2026-11-30","triggers":7,"warning_signs":"b",'
      + '"coping":"c","supports":"d","emergency":"e","text":"x"}',
  ];
  for (const b of refused) assert.equal(codeOf(() => parseRecord(b)), 'BAD_SCALE', b);
  /* in an episode's history the plan is neither a score nor a treatment change */
  const latest = { kind: 'scales', date: '2026-12-01', phq9: Array(9).fill(0) };
  const { episode } = rules([r], latest, true);
  assert.equal(episode.previous, null);
  assert.equal(episode.plan_recorded, false);
});

test('item 9 is never swallowed: the form flag and the rules agree on every answer', () => {
  const base = [1, 1, 1, 1, 1, 1, 1, 1];
  const want = { 0: null, 1: 'item9_1', 2: 'item9_2', 3: 'item9_2', null: 'item9_unanswered' };
  for (const [k, variant] of Object.entries(want)) {
    const item9 = k === 'null' ? null : Number(k);
    const flag = item9Trigger([...base, item9]);
    assert.equal(flag === null ? null : flag.variant, variant, `item 9 = ${k}`);
    /* even when the PHQ-9 is incomplete (no score at all) */
    const phq9 = [null, null, null, 1, 1, 1, 1, 1, item9];
    const a01 = rules([], { kind: 'scales', date: '2026-01-05', phq9 }, false)
      .triggers.filter((t) => t.type === 'A01');
    assert.deepEqual(a01.map((t) => t.variant), variant === null ? [] : [variant], `rules ${k}`);
  }
  assert.equal(item9Trigger([0, 0, 0]).variant, 'item9_unanswered', 'a form not yet at item 9');
  assert.equal(codeOf(() => item9Trigger([0, 0, 0, 0, 0, 0, 0, 0, 4])), 'BAD_SCALE');
});

test('rules arguments are checked (test_scales.c test_rules_arguments)', () => {
  const latest = { kind: 'scales', date: '2026-01-05', phq9: Array(9).fill(1) };
  assert.equal(codeOf(() => rules([], { kind: 'plan', date: '2026-01-05',
    antidepressant: true }, false)), 'INVALID_ARG');
  assert.equal(codeOf(() => rules(null, latest, false)), 'INVALID_ARG');
  assert.equal(codeOf(() => rules([], latest, false, { not_improving_weeks: 521 })),
    'INVALID_ARG');
  assert.equal(codeOf(() => rules([], latest, false, { early_weeks_min: 7 })), 'INVALID_ARG');
  assert.equal(codeOf(() => rules([{ kind: 'scales', date: '2026-01-01', phq2: [9, 0] }],
    latest, false)), 'BAD_SCALE');
  assert.equal(codeOf(() => rules([{ kind: 'x', date: '2026-01-01' }], latest, false)),
    'BAD_SCALE');
  assert.equal(rules([], { kind: 'scales', date: '2026-01-05', gad7: Array(7).fill(null) },
    false).triggers.length, 0, 'an all-unanswered scale is accepted by the rules');
});

test('dates, times and the assessment contact scales', () => {
  for (const [iso, day] of [['1970-01-01', 0], ['9999-12-31', 2932896], ['2024-02-29', 19782],
    ['2000-03-01', 11017]]) {
    assert.equal(dayParse(iso), day, iso);
    assert.equal(dayFormat(day), iso, iso);
  }
  for (const bad of ['1969-12-31', '2026-02-29', '2100-02-29', '2026-1-01', ' 2026-01-01', 7]) {
    assert.equal(codeOf(() => dayParse(bad)), 'BAD_FIELD', String(bad));
  }
  assert.equal(dayFormat(-1), '0000-00-00');
  assert.equal(dayFormat(2932897), '0000-00-00');
  assert.equal(timeOfDayParse('23:59'), 1439);
  assert.equal(timeOfDayParse('24:00'), -1);
  assert.equal(timeOfDayParse('9:00'), -1);
  assert.deepEqual(contactScales({ kind: 'scales', date: '2026-01-01', phq2: [1, 1],
    phq9: [null, null, null, 1, 1, 1, 1, 1, 1], gad7: Array(7).fill(1) }), ['gad7', 'phq2']);
});
