// vectors_recommend.test.mjs - the web client's recommendation and patient-card codec
// (clients/web/src/protocol/recommend.js) against every vector of protocol/vectors/recommend.json
// (PROTOCOL.md §16), which tests/unit/gen_rec_vectors.c writes with the C library: names and
// limits, INS keys, canonical bodies byte for byte, other layouts, refused bodies (code and
// ses_rec_body_problem's words), and the checks (code, words, field). A missing or unreadable
// vector file fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import {
  DISCLAIMER_DEFAULT, INS_KINDS, ITEM_TYPES, QUESTION_CODES, REC_BODY_MAX, REC_ITEMS_MAX,
  REC_LIST_MAX, REC_LONG_MAX, REC_SHORT_MAX, REC_STATES, REC_TEXT_MAX, RecError, encodePatientCard,
  encodeRecDoc, insKindOfOid, insOid, insValid, isMedItem, parsePatientCard, parseRecDoc,
  patientCardCheck, recDocCheck, recDocLine,
} from '../../clients/web/src/protocol/recommend.js';

const VECTORS = new URL('../../protocol/vectors/recommend.json', import.meta.url);
const V = JSON.parse(readFileSync(VECTORS, 'utf8'));
const enc = new TextEncoder();

const hexBytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
const bodyOf = (v) => (v.body !== undefined ? enc.encode(v.body) : hexBytes(v.body_hex));

function section(name, min) {
  assert.ok(Array.isArray(V[name]), `recommend.json has no section ${name}`);
  assert.ok(V[name].length >= min, `${name}: ${V[name].length} vectors, want >= ${min}`);
  return V[name];
}

/** What fn throws, as {code, problem, field}; 'no error' when it returns. */
function refusal(fn) {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RecError, `not a RecError: ${e}`);
    return { code: e.code, problem: e.problem, field: e.field };
  }
  return 'no error';
}

test('names, limits and the disclaimer are the C library\'s', () => {
  assert.deepEqual(V.limits, { REC_BODY_MAX, REC_ITEMS_MAX, REC_TEXT_MAX, REC_LONG_MAX,
    REC_SHORT_MAX, REC_LIST_MAX, INS_LEN: 15 });
  assert.equal(DISCLAIMER_DEFAULT, V.disclaimer_default);
  assert.deepEqual([...ITEM_TYPES], V.item_types);
  assert.deepEqual(ITEM_TYPES.filter(isMedItem), V.med_item_types);
  assert.equal(isMedItem('med_start'), false);
  assert.equal(isMedItem(undefined), false);
  assert.deepEqual([...QUESTION_CODES], V.question_codes);
  assert.deepEqual([...REC_STATES], V.states);
  assert.deepEqual(INS_KINDS.slice(1), Object.keys(V.ins_oids));
  for (const [kind, oid] of Object.entries(V.ins_oids)) {
    assert.equal(insOid(kind), oid, kind);
    assert.equal(insKindOfOid(oid), kind, oid);
  }
  assert.equal(insOid('none'), null);
  assert.equal(insOid('toString'), null);
  assert.equal(insKindOfOid('1.2.250.1.213.1.4.2'), 'none');
  assert.equal(insKindOfOid(''), 'none');
});

test('ins: every key as ses_ins_valid judges it', () => {
  for (const v of section('ins', 20)) {
    assert.equal(insValid(v.ins), v.valid, `${v.ins}: ${v.about}`);
  }
  assert.equal(insValid(280017512345610), false, 'a number is not an INS');
});

test('docs: the exact bytes, the line, and parsed back', () => {
  for (const v of section('docs', 20)) {
    assert.equal(recDocCheck(v.doc), null, `${v.name}: check`);
    assert.equal(recDocLine(v.doc), v.line, `${v.name}: line`);
    const bytes = encodeRecDoc(v.doc);
    assert.equal(bytes.length, v.len, `${v.name}: length`);
    assert.deepEqual(bytes, enc.encode(v.body), `${v.name}: bytes`);
    assert.deepEqual(parseRecDoc(bytes), v.doc, `${v.name}: parsed back`);
  }
  assert.ok(V.docs.some((v) => v.len === REC_BODY_MAX), 'a body of exactly REC_BODY_MAX bytes');
});

test('doc_parse: other layouts, key orders and unknown keys give the document C reads', () => {
  for (const v of section('doc_parse', 10)) {
    assert.deepEqual(parseRecDoc(bodyOf(v)), v.doc, v.name);
  }
});

test('doc_reject: every refused body, with the code and ses_rec_body_problem\'s words', () => {
  for (const v of section('doc_reject', 100)) {
    const got = refusal(() => parseRecDoc(bodyOf(v)));
    assert.notEqual(got, 'no error', `${v.name}: accepted`);
    assert.equal(got.code, v.error, `${v.name}: code`);
    assert.equal(got.problem, v.problem, `${v.name}: problem`);
  }
});

test('doc_check: recDocCheck and the encoder refuse with C\'s words, and the field', () => {
  for (const v of section('doc_check', 40)) {
    const want = { code: v.error, problem: v.problem, field: v.field };
    assert.deepEqual(recDocCheck(v.doc), want, `${v.name}: check`);
    assert.deepEqual(refusal(() => encodeRecDoc(v.doc)), want, `${v.name}: encode`);
  }
});

test('doc_too_large: accepted by the checks, refused by the encoder', () => {
  for (const v of section('doc_too_large', 2)) {
    assert.equal(recDocCheck(v.doc), null, v.name);
    assert.equal(refusal(() => encodeRecDoc(v.doc)).code, v.error, v.name);
  }
});

test('cards: the exact bytes and parsed back', () => {
  for (const v of section('cards', 8)) {
    assert.equal(patientCardCheck(v.card), null, `${v.name}: check`);
    const bytes = encodePatientCard(v.card);
    assert.deepEqual(bytes, enc.encode(v.body), `${v.name}: bytes`);
    assert.deepEqual(parsePatientCard(bytes), v.card, `${v.name}: parsed back`);
  }
});

test('card_parse and card_reject: what ses_patient_card_parse accepts and refuses', () => {
  for (const v of section('card_parse', 3)) {
    assert.deepEqual(parsePatientCard(bodyOf(v)), v.card, v.name);
  }
  for (const v of section('card_reject', 40)) {
    const got = refusal(() => parsePatientCard(bodyOf(v)));
    assert.notEqual(got, 'no error', `${v.name}: accepted`);
    assert.equal(got.code, v.error, `${v.name}: code`);
  }
});

test('card_check: patientCardCheck and the encoder refuse with C\'s code and the field', () => {
  for (const v of section('card_check', 20)) {
    const got = patientCardCheck(v.card);
    assert.ok(got !== null, `${v.name}: accepted`);
    assert.equal(got.code, v.error, `${v.name}: code`);
    assert.equal(got.field, v.field, `${v.name}: field`);
    assert.ok(typeof got.problem === 'string' && got.problem.length > 0, `${v.name}: words`);
    assert.deepEqual(refusal(() => encodePatientCard(v.card)), got, `${v.name}: encode`);
  }
});

/* What the C structure cannot hold, and the JavaScript values it never sees. */
test('values C cannot hold are refused, never encoded', () => {
  const base = V.docs[0].doc;
  const lone = { ...base, question: 'a lone surrogate \ud800' };
  assert.deepEqual(recDocCheck(lone), { code: 'BAD_FIELD', field: 'question',
    problem: 'the question addressed is missing or too long (1000 bytes at most)' });
  assert.equal(recDocCheck({ ...base, safety: 'with a NUL \0' }).field, 'safety');
  assert.equal(recDocCheck({ ...base, question: 'x'.repeat(5000) }).field, 'question');
  assert.equal(recDocCheck({ ...base, question: 7 }).field, 'question');
  assert.equal(recDocCheck({ ...base, day: 20522.5 }).field, 'day');
  assert.equal(recDocCheck({ ...base, nextReviewDay: '20600' }).field, 'nextReviewDay');
  assert.equal(recDocCheck({ ...base, questionCode: 'NOT_IMPROVING' }).field, 'questionCode');
  const items = [...base.items, { ...base.items[1], type: 'lab' }];
  assert.equal(recDocCheck({ ...base, items }).field, 'items[2].type');
  assert.equal(recDocCheck({ ...base, items: [null] }).field, 'items[0].type');
  assert.equal(recDocCheck({ ...base, urgent: 'yes' }).code, 'INVALID_ARG');
  assert.equal(recDocCheck({ ...base, items: {} }).code, 'INVALID_ARG');
  assert.equal(recDocCheck(null).code, 'INVALID_ARG');
  assert.equal(refusal(() => encodeRecDoc(undefined)).code, 'INVALID_ARG');
  /* absent optional strings are read as '' */
  const { diagnosis, narrative, ...sparse } = base;
  assert.deepEqual(encodeRecDoc(sparse), encodeRecDoc({ ...base, diagnosis: '', narrative: '' }));
  assert.ok(diagnosis.length > 0 && narrative === '');
  const card = V.cards[0].card;
  assert.equal(patientCardCheck({ ...card, sex: 'female' }).field, 'sex');
  assert.equal(patientCardCheck({ ...card, insKind: 'NIR' }).field, 'insKind');
  assert.equal(patientCardCheck({ ...card, birthPlace: 75112 }).field, 'birthPlace');
  assert.equal(patientCardCheck(null).code, 'INVALID_ARG');
});

test('bodies as text or ArrayBuffer are read as their bytes; other inputs are refused', () => {
  const v = V.docs[0];
  assert.deepEqual(parseRecDoc(v.body), v.doc);
  assert.deepEqual(parseRecDoc(enc.encode(v.body).buffer), v.doc);
  const notObject = 'it is not one JSON object within 16384 bytes';
  assert.equal(refusal(() => parseRecDoc(null)).problem, notObject);
  assert.equal(refusal(() => parseRecDoc(42)).problem, notObject);
  assert.equal(refusal(() => parsePatientCard(null)).code, 'BAD_FIELD');
});
