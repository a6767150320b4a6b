// export_docs.test.mjs - the web client's CDA, XDM and FHIR exports
// (clients/web/src/protocol/export: cda.js, xdm.js, fhir.js, index.js) against the C builders
// of clients/cli/export, byte for byte: every input below goes through gen_export_json (the C
// reference tool, path in GEN_EXPORT_JSON) for cda, xdm and fhir, and through the JS builders;
// the bytes must be identical, or both must refuse with the same SES error name. The CDA is
// also checked around the C tool's own PDF (cdaWithPdf, xdmWithPdf), so that a difference in
// the letter and one in the CDA/XDM wrapping are told apart. A failure names the first
// differing offset and the text around it; XDM packages are unzipped and compared entry by
// entry (names, header fields, content). A missing GEN_EXPORT_JSON fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

import { cdaWithPdf, exportCda } from '../../clients/web/src/protocol/export/cda.js';
import { dumpJson, exportFhir } from '../../clients/web/src/protocol/export/fhir.js';
import {
  DEFAULT_ORG_OID, EXPORT_FILES, buildExport,
} from '../../clients/web/src/protocol/export/index.js';
import { ascii, uuidOid } from '../../clients/web/src/protocol/export/util.js';
import { ENTRY_NAMES, exportXdm, xdmWithPdf } from '../../clients/web/src/protocol/export/xdm.js';

const GEN = process.env.GEN_EXPORT_JSON;
const ROOT = new URL('../../', import.meta.url);
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });

// ---------------------------------------------------------------------------------------------
// Inputs

/** export_sample.h, field by field. */
function sample() {
  return {
    doc: {
      day: 20524, reviewDay: 20522, urgent: false, questionCode: 'not_improving',
      question: 'PHQ-9 still 16 after 10 weeks of sertraline 100 mg: what next?',
      dataBasis: 'PHQ-9 19 → 17 → 16 over 10 weeks; GAD-7 12. Sertraline 100 mg since week 2, '
        + 'good adherence reported by the nurse. Item 9 = 0 at every visit (score ≥ 0).',
      safety: 'No suicidal ideation reported (PHQ-9 item 9 = 0); no safety concern today.',
      diagnosis: 'Major depressive episode, moderate, without psychotic features.',
      items: [
        { type: 'MED_SWITCH', drug: 'venlafaxine LP', dose: '75 mg once daily',
          titration: 'Cross-taper: sertraline 50 mg for 1 week then stop; venlafaxine 37.5 mg for 1 week '
            + 'then 75 mg.',
          monitoring: 'Blood pressure at 4 weeks.', text: '' },
        { type: 'MONITORING', drug: '', dose: '', titration: '', monitoring: '',
          text: 'PHQ-9 every 2 weeks by the care manager; call the psychiatrist if it rises by 5.' },
      ],
      narrative: 'Partial response only; a switch to an SNRI is reasonable before augmentation.',
      contingency: 'If PHQ-9 has not fallen by 5 points in 6 weeks, or on any suicidal ideation, '
        + 'contact the psychiatrist – same-day review for safety.',
      nextReviewDay: 20552,
      disclaimer: "These recommendations are based on a review of the patient's record and "
        + 'discussion with the care manager, without a direct examination of the patient. '
        + 'The treating physician remains responsible for the decision.',
    },
    card: {
      day: 20500, birthName: 'DUPRÉ', givenNames: 'Élodie Marie', firstGiven: 'Élodie',
      usedName: 'MARTIN', birthDay: 3656, sex: 'F', insKind: 'nir_test', ins: '280017512345610',
      birthPlace: '75056',
    },
    recId: '01JQ7ZK4X2M8N5P3R6T9V0W1YA', version: 1, threadId: '01JQ7ZJ0A1B2C3D4E5F6G7H8JK',
    patientRef: 'P-0042', state: 'accepted', decision: 'accepted', reason: null,
    sentMs: 1773325800000, ackedMs: 1773329400000, decidedMs: 1773412200000,
    implementedMs: 0, verifiedMs: 0,
    author: { id: 'AUTH0RPSYCH1ATR1STXXXXXXXX', name: 'Dr Camille Léger' },
    gp: { id: 'GPGENERALPRACT1T10NERXXXXX', name: 'Dr Jean Moreau' },
    nurse: { id: 'NURSECAREMANAGERXXXXXXXXXX', name: '' },
    site: 'Maison de santé des Lilas', orgOid: '1.2.250.1.999.1',
  };
}

/** The sample with changes: a function of a deep copy. */
function variant(change) {
  const v = structuredClone(sample());
  change(v);
  return v;
}

const ITEM_TYPES = ['MED_START', 'MED_DOSE_CHANGE', 'MED_SWITCH', 'MED_AUGMENT', 'MED_STOP', 'LAB',
  'PSYCHOTHERAPY', 'REFERRAL', 'GP_VISIT', 'MONITORING'];
const STATES = ['sent', 'acknowledged', 'accepted', 'modified', 'declined', 'implemented',
  'verified', 'superseded'];

/** s cut to at most max UTF-8 bytes, on a character boundary. */
function fit(s, max) {
  let out = '';
  for (const ch of s) {
    if (enc.encode(out + ch).length > max) break;
    out += ch;
  }
  return out;
}

/** Every free text of an input set by f(name) (cut to what its C field holds). */
function everyText(v, full) {
  const f = (k) => fit(full(k), /^(drug|dose)\d|^(birthName|givenNames|firstGiven|usedName)$/.test(k) ? 120 : 1000);
  const d = v.doc;
  for (const k of ['question', 'dataBasis', 'safety', 'diagnosis', 'narrative', 'contingency',
    'disclaimer']) d[k] = f(k);
  d.items = ITEM_TYPES.map((type, i) => ({ type, drug: f(`drug${i}`), dose: f(`dose${i}`),
    titration: f(`titration${i}`), monitoring: f(`monitoring${i}`), text: f(`text${i}`) }));
  for (const k of ['birthName', 'givenNames', 'firstGiven', 'usedName']) v.card[k] = f(k);
  v.author = { id: f('authorId'), name: f('author') };
  v.gp = { id: f('gpId'), name: f('gp') };
  v.nurse = { id: f('nurseId'), name: f('nurse') };
  v.site = f('site');
  v.patientRef = f('patientRef');
  v.threadId = f('threadId');
  v.reason = f('reason');
  v.decision = 'modified';
  v.state = 'modified';
}

const XML_META = '& < > " \' \r\n\t end';
const ACCENTS = 'àâäçéèêëîïôöùûüÿñ ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸÑ æœÆŒß ×÷ ÐÞðþ Øø';
const CP1252 = '€ ‚ ƒ „ … † ‡ ˆ ‰ Š ‹ Œ Ž ‘ ’ “ ” • – — ˜ ™ š › œ ž Ÿ ¡ ¢ £ ¤ ¥ § ¨ © « ® ° ± ² ³ µ ¶ · ¹ º » ¼ ½ ¾ ¿\u00a0';
const NON_BMP = 'emoji 😀 clef 𝄞 cjk 𠀀 math 𝔸';
const CONTROL = 'ctl \u0001\u0008\u000b\u000c\u001b\u001f\u007f back\\slash /slash';

/** [name, input] of every case compared with the C builders. */
function cases() {
  const c = [];
  const add = (name, input) => c.push([name, input]);
  add('sample', sample());
  add('urgent', variant((v) => { v.doc.urgent = true; }));
  add('ad hoc (no review day)', variant((v) => { v.doc.reviewDay = -1; }));
  add('ad hoc and urgent', variant((v) => { v.doc.reviewDay = -1; v.doc.urgent = true; }));
  add('every item type', variant((v) => {
    v.doc.items = ITEM_TYPES.map((type, i) => ({ type, drug: `drug ${i}`, dose: `${i} mg`,
      titration: `titration ${i}`, monitoring: `monitoring ${i}`, text: `text ${i}` }));
  }));
  for (const type of ITEM_TYPES) {
    add(`one ${type} item, text only`, variant((v) => {
      v.doc.items = [{ type, drug: '', dose: '', titration: '', monitoring: '', text: `Do ${type}.` }];
    }));
  }
  add('medication items: dose only, titration only, neither, monitoring only, text only', variant((v) => {
    v.doc.items = [
      { type: 'MED_START', drug: 'a', dose: '5 mg', titration: '', monitoring: '', text: '' },
      { type: 'MED_DOSE_CHANGE', drug: 'b', dose: '', titration: 'slowly', monitoring: '', text: '' },
      { type: 'MED_STOP', drug: 'c', dose: '', titration: '', monitoring: '', text: '' },
      { type: 'MED_AUGMENT', drug: 'd', dose: '1 mg', titration: '', monitoring: 'ECG', text: '' },
      { type: 'MED_SWITCH', drug: 'e', dose: '2 mg', titration: '', monitoring: '', text: 'why' },
      { type: 'GP_VISIT', drug: '', dose: '', titration: '', monitoring: 'weekly', text: 'see the GP' },
    ];
  }));
  add('no item, narrative only', variant((v) => { v.doc.items = []; }));
  add('twenty items of long text', variant((v) => {
    v.doc.items = Array.from({ length: 20 }, (_, i) => ({ type: ITEM_TYPES[i % 10],
      drug: `drug ${i}`.padEnd(120, 'x'), dose: `${i} mg`.padEnd(120, 'y'),
      titration: `titration ${i} `.repeat(60).slice(0, 1000), monitoring: `watch ${i} `.repeat(100).slice(0, 1000),
      text: `item ${i} é€😀 `.repeat(50).slice(0, 600) }));
    v.doc.dataBasis = 'PHQ-9 '.repeat(333).slice(0, 1998);
    v.doc.narrative = 'narrative '.repeat(199);
    v.doc.disclaimer = 'disclaimer '.repeat(181);
  }));
  add('every field at its largest, in varied words (deflate blocks of more than 16K symbols)', variant((v) => {
    let seed = 12345;
    const words = (n) => {
      let out = '';
      while (enc.encode(out).length < n) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        out += `w${(seed >> 8).toString(36)} `;
      }
      return fit(out, n);
    };
    const d = v.doc;
    for (const k of ['question', 'safety', 'diagnosis', 'contingency']) d[k] = words(1000);
    for (const k of ['dataBasis', 'narrative', 'disclaimer']) d[k] = words(2000);
    d.items = Array.from({ length: 20 }, (_, i) => ({ type: ITEM_TYPES[i % 10], drug: words(120),
      dose: words(120), titration: words(1000), monitoring: words(1000), text: words(1000) }));
  }));
  add('unknown item type and question code', variant((v) => {
    v.doc.items[0].type = 'BOGUS';
    v.doc.questionCode = 'bogus';
  }));
  for (const state of STATES) {
    add(`state ${state}`, variant((v) => {
      v.state = state;
      v.reason = state === 'declined' || state === 'modified' ? `reason for ${state}` : null;
      v.decision = ['accepted', 'modified', 'declined'].includes(state) ? state : null;
      v.implementedMs = ['implemented', 'verified'].includes(state) ? 1773500000000 : 0;
      v.verifiedMs = state === 'verified' ? 1773600000000 : 0;
    }));
  }
  add('state unknown', variant((v) => { v.state = 'bogus'; }));
  add('declined with an empty reason', variant((v) => { v.state = 'declined'; v.reason = ''; }));
  add('accepted with a reason', variant((v) => { v.reason = 'ignored'; }));
  add('no card', variant((v) => { v.card = null; }));
  add('card without an INS', variant((v) => { v.card.insKind = 'none'; v.card.ins = ''; }));
  add('card with an INS kind but no number', variant((v) => { v.card.insKind = 'nir'; v.card.ins = ''; }));
  add('card with a number but kind none', variant((v) => { v.card.insKind = 'none'; }));
  for (const [kind, sex] of [['nir', 'M'], ['nia', 'U'], ['nia_test', 'F']]) {
    add(`INS kind ${kind}, sex ${sex}`, variant((v) => { v.card.insKind = kind; v.card.sex = sex; }));
  }
  add('accents in every text', variant((v) => everyText(v, (k) => `${k}: ${ACCENTS}`)));
  add('CP1252 in every text', variant((v) => everyText(v, (k) => `${k}: ${CP1252}`)));
  add('non-BMP in every text', variant((v) => everyText(v, (k) => `${k}: ${NON_BMP}`)));
  add('XML metacharacters in every text', variant((v) => everyText(v, (k) => `${k} ${XML_META}`)));
  add('control characters in every text', variant((v) => everyText(v, (k) => `${k} ${CONTROL}`)));
  add('XML metacharacters in the ids and the OID', variant((v) => {
    v.recId = 'REC&<>"\'\r\n\tID';
    v.orgOid = '1.2.250&<>"\'\r\n\t.1';
    v.card.ins = '1&<>"\'\r\n\t';
  }));
  add('empty optional fields', variant((v) => {
    v.doc.diagnosis = '';
    v.doc.narrative = '';
    v.card.usedName = '';
    v.card.firstGiven = '';
    v.card.birthPlace = '';
    v.site = '';
    v.patientRef = '';
    v.threadId = null;
    v.reason = null;
    v.decision = null;
    v.author = { id: 'AUTHORID', name: '' };
    v.gp = { id: '', name: '' };
    v.nurse = { id: '', name: '' };
  }));
  add('absent optional keys', variant((v) => {
    delete v.doc.diagnosis;
    delete v.doc.narrative;
    delete v.card.usedName;
    delete v.site;
    delete v.patientRef;
    delete v.threadId;
    delete v.reason;
    delete v.decision;
    delete v.nurse;
    delete v.gp;
  }));
  add('times: not yet sent (0), acknowledged after the decision', variant((v) => {
    v.sentMs = 0;
    v.ackedMs = 1773500000000;
    v.decidedMs = 1773400000000;
  }));
  add('times: before 1970, not on a second', variant((v) => { v.sentMs = -1500; v.ackedMs = -1; v.decidedMs = 0; }));
  add('times: odd second, year 2107 and after', variant((v) => { v.sentMs = 4354819199000; }));
  add('times: year 2200', variant((v) => { v.sentMs = 7258118400123; }));
  add('days: out of range birth day, day 0', variant((v) => { v.card.birthDay = -5; v.doc.day = 0; v.doc.reviewDay = 2932897; }));
  add('version 7', variant((v) => { v.version = 7; }));
  add('long record id (truncated in the UUID texts)', variant((v) => { v.recId = 'R'.repeat(300); }));
  add('long OID (truncated in the FHIR systems and CDA ids)', variant((v) => { v.orgOid = '1.2.'.repeat(60); }));
  add('record id cut inside a character in the FHIR identifier', variant((v) => { v.recId = 'A'.repeat(158) + 'é'; }));
  add('missing doc', variant((v) => { v.doc = null; }));
  add('version 0', variant((v) => { v.version = 0; }));
  add('empty record id', variant((v) => { v.recId = ''; }));
  add('no record id', variant((v) => { v.recId = null; }));
  add('empty OID', variant((v) => { v.orgOid = ''; }));
  return c;
}

/** [name, input] the C tool cannot represent (it exits 2): the JS must refuse with BAD_FIELD. */
function jsOnlyRefusals() {
  return [
    ['21 items', variant((v) => { v.doc.items = Array.from({ length: 21 }, () => ({ ...v.doc.items[1] })); })],
    ['a question of 1001 bytes', variant((v) => { v.doc.question = 'q'.repeat(1001); })],
    ['a drug of 121 bytes (60 é and one more)', variant((v) => { v.doc.items[0].drug = 'é'.repeat(60) + 'x'; })],
    ['a birth name of 121 bytes', variant((v) => { v.card.birthName = 'N'.repeat(121); })],
    ['an INS of 16 characters', variant((v) => { v.card.ins = '2800175123456101'; })],
    ['a lone surrogate in the safety statement', variant((v) => { v.doc.safety = 'bad \ud800 text'; })],
    ['a lone low surrogate in the author name', variant((v) => { v.author.name = '\udc00'; })],
    ['U+0000 in the site', variant((v) => { v.site = 'a\u0000b'; })],
    ['a non-integer version', variant((v) => { v.version = 1.5; })],
    ['a day that is not an integer', variant((v) => { v.doc.day = 'x'; })],
  ];
}

// ---------------------------------------------------------------------------------------------
// The C reference and the comparison

let dir;
function tmp() {
  dir ??= mkdtempSync(join(tmpdir(), 'sesame-export-docs-'));
  return dir;
}

let seq = 0;
/** gen_export_json FORMAT on input: {bytes} or {error: NAME} or {exit: 2, stderr}. */
function runC(format, input) {
  const n = ++seq;
  const inPath = join(tmp(), `in${n}.json`);
  const outPath = join(tmp(), `out${n}.${format}`);
  writeFileSync(inPath, JSON.stringify(input));
  const r = spawnSync(GEN, [format, inPath, outPath], { encoding: 'buffer' });
  assert.equal(r.error, undefined, `cannot run ${GEN}: ${r.error}`);
  const stderr = r.stderr.toString('utf8').trim();
  if (r.status === 0) return { bytes: new Uint8Array(readFileSync(outPath)) };
  if (r.status === 1) return { error: stderr };
  return { exit: r.status, stderr };
}

/** What fn gives: {bytes} or {error: code}. */
async function runJs(fn) {
  try {
    const out = await fn();
    return { bytes: typeof out === 'string' ? enc.encode(out) : out };
  } catch (e) {
    if (e && typeof e.code === 'string' && e.name === 'ExportError') return { error: e.code };
    throw e;
  }
}

function firstDiff(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

function around(bytes, at) {
  const lo = Math.max(0, at - 60);
  return JSON.stringify(dec.decode(bytes.subarray(lo, Math.min(bytes.length, at + 60))));
}

/** '' when equal, else where and how a and b differ. */
function describeDiff(what, js, c) {
  const at = firstDiff(js, c);
  if (at < 0) return '';
  return `${what}: JS ${js.length} bytes, C ${c.length} bytes, first difference at offset ${at}\n`
    + `  JS: ${around(js, at)}\n  C:  ${around(c, at)}`;
}

/** A ZIP archive's entries, from its central directory. */
function unzip(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const eocd = bytes.length - 22;
  if (eocd < 0 || v.getUint32(eocd, true) !== 0x06054b50) throw new Error('no end record at the end');
  const count = v.getUint16(eocd + 10, true);
  let p = v.getUint32(eocd + 16, true);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (v.getUint32(p, true) !== 0x02014b50) throw new Error(`no central header ${i}`);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    const off = v.getUint32(p + 42, true);
    const name = dec.decode(bytes.subarray(p + 46, p + 46 + nameLen));
    const central = Array.from(bytes.subarray(p, p + 46));
    const lNameLen = v.getUint16(off + 26, true);
    const lExtraLen = v.getUint16(off + 28, true);
    const csize = v.getUint32(p + 20, true);
    const start = off + 30 + lNameLen + lExtraLen;
    const comp = bytes.subarray(start, start + csize);
    entries.push({ name, central, local: Array.from(bytes.subarray(off, off + 30)), comp,
      data: new Uint8Array(inflateRawSync(comp)) });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/** '' when the packages are equal, else why not, entry by entry. */
function describeZipDiff(what, js, c) {
  if (firstDiff(js, c) < 0) return '';
  const out = [];
  let a, b;
  try {
    a = unzip(js);
  } catch (e) {
    return `${what}: the JS package does not unzip: ${e.message}\n${describeDiff(what, js, c)}`;
  }
  b = unzip(c);
  const names = (l) => l.map((e) => e.name).join(', ');
  if (names(a) !== names(b)) out.push(`${what}: entries JS [${names(a)}], C [${names(b)}]`);
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const n = b[i].name;
    const d = describeDiff(`${what} ${n} content`, a[i].data, b[i].data);
    if (d) out.push(d);
    else if (firstDiff(a[i].comp, b[i].comp) >= 0)
      out.push(`${what} ${n}: same content, different deflate stream (${a[i].comp.length} vs ${b[i].comp.length} bytes)`);
    if (a[i].local.join() !== b[i].local.join())
      out.push(`${what} ${n}: local headers differ: JS ${a[i].local} C ${b[i].local}`);
    if (a[i].central.join() !== b[i].central.join())
      out.push(`${what} ${n}: central headers differ: JS ${a[i].central} C ${b[i].central}`);
  }
  out.push(describeDiff(`${what} (whole archive)`, js, c));
  return out.join('\n');
}

/** Asserts JS and C give the same bytes or the same refusal. */
function same(what, js, c, zip = false) {
  assert.notEqual(c.exit, 2, `${what}: gen_export_json refused the input: ${c.stderr}`);
  if (c.error !== undefined || js.error !== undefined) {
    assert.deepEqual({ error: js.error }, { error: c.error },
      `${what}: JS ${js.error ? 'refuses with ' + js.error : 'builds'}, C ${c.error ? 'refuses with ' + c.error : 'builds'}`);
    return;
  }
  const why = zip ? describeZipDiff(what, js.bytes, c.bytes) : describeDiff(what, js.bytes, c.bytes);
  assert.equal(why, '', why);
  assert.equal(js.bytes.length, c.bytes.length);
}

test('GEN_EXPORT_JSON names the C reference tool', () => {
  assert.ok(GEN, 'set GEN_EXPORT_JSON to the gen_export_json executable (ctest does)');
  const r = spawnSync(GEN, [], { encoding: 'utf8' });
  assert.equal(r.status, 2, `gen_export_json without arguments: ${r.error ?? r.stderr}`);
});

test('the case list: every item type, every state, refusals and successes', () => {
  const all = cases();
  const types = new Set(all.flatMap(([, v]) => (v.doc?.items ?? []).map((i) => i.type)));
  for (const t of ITEM_TYPES) assert.ok(types.has(t), t);
  const states = new Set(all.map(([, v]) => v.state));
  for (const s of STATES) assert.ok(states.has(s), s);
  assert.ok(all.length >= 50, `${all.length} cases`);
});

for (const [name, input] of cases()) {
  test(`same bytes as the C builders: ${name}`, async () => {
    const cPdf = runC('pdf', input);
    const cCda = runC('cda', input);
    const cXdm = runC('xdm', input);
    const cFhir = runC('fhir', input);
    same(`${name}: fhir`, await runJs(() => exportFhir(input)), cFhir);
    // the CDA and XDM wrapping around the C letter, then the whole chain with pdf.js
    if (cPdf.bytes !== undefined) {
      same(`${name}: cda around the C letter`, await runJs(() => cdaWithPdf(input, cPdf.bytes)), cCda);
      same(`${name}: xdm around the C letter`, await runJs(() => xdmWithPdf(input, cPdf.bytes)), cXdm, true);
    }
    same(`${name}: cda`, await runJs(() => exportCda(input)), cCda);
    same(`${name}: xdm`, await runJs(() => exportXdm(input)), cXdm, true);
  });
}

test('refusals: the expected cases refuse on both sides, with the expected names', async () => {
  const want = {
    'no card': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: null },
    'card without an INS': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: null },
    'card with an INS kind but no number': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: null },
    'missing doc': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: 'BAD_FIELD' },
    'version 0': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: 'BAD_FIELD' },
    'empty OID': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: 'BAD_FIELD' },
    'no record id': { cda: 'BAD_FIELD', xdm: 'BAD_FIELD', fhir: 'BAD_FIELD' },
    'record id cut inside a character in the FHIR identifier': { cda: null, xdm: null, fhir: 'NOMEM' },
    sample: { cda: null, xdm: null, fhir: null },
  };
  const byName = new Map(cases());
  for (const [name, formats] of Object.entries(want)) {
    const input = byName.get(name);
    assert.ok(input, name);
    for (const [format, code] of Object.entries(formats)) {
      const fn = { cda: () => exportCda(input), xdm: () => exportXdm(input), fhir: () => exportFhir(input) }[format];
      const js = await runJs(fn);
      assert.equal(js.error ?? null, code, `${name}: ${format} in JS`);
      assert.equal(runC(format, input).error ?? null, code, `${name}: ${format} in C`);
    }
  }
});

test('inputs the C structs cannot hold: the JS refuses with BAD_FIELD, the C tool rejects them', async () => {
  for (const [name, input] of jsOnlyRefusals()) {
    for (const [format, fn] of [['cda', () => exportCda(input)], ['xdm', () => exportXdm(input)],
      ['fhir', () => exportFhir(input)]]) {
      assert.deepEqual(await runJs(fn), { error: 'BAD_FIELD' }, `${name}: ${format}`);
    }
    // JSON.stringify makes a lone surrogate an escape jansson refuses; the rest does not fit
    assert.equal(runC('fhir', input).exit, 2, `${name}: gen_export_json should reject the input`);
  }
});

test('the sample CDA equals tests/unit/expected/rec_sample_cda.xml', () => {
  const want = new Uint8Array(readFileSync(new URL('tests/unit/expected/rec_sample_cda.xml', ROOT)));
  const got = exportCda(sample());
  const why = describeDiff('rec_sample_cda.xml', got, want);
  assert.equal(why, '', why);
});

test('the sample XDM package: its entries, their order and the document hash', async () => {
  const zip = await exportXdm(sample());
  const entries = unzip(zip);
  assert.deepEqual(entries.map((e) => e.name), [...ENTRY_NAMES]);
  assert.deepEqual(ENTRY_NAMES, ['README.TXT', 'INDEX.HTM', 'IHE_XDM/SUBSET01/METADATA.XML',
    'IHE_XDM/SUBSET01/DOC0001.XML']);
  const doc = entries[3].data;
  assert.equal(firstDiff(doc, exportCda(sample())), -1, 'DOC0001.XML is the CDA');
  const sha1 = Buffer.from(await crypto.subtle.digest('SHA-1', doc)).toString('hex');
  const meta = dec.decode(entries[2].data);
  assert.ok(meta.includes(`<rim:Value>${sha1}</rim:Value>`), 'METADATA.XML has the SHA-1');
  assert.ok(meta.includes(`<rim:Value>${doc.length}</rim:Value>`), 'METADATA.XML has the size');
  const readme = dec.decode(entries[0].data);
  assert.ok(readme.startsWith('IHE XDM package (IHE ITI Cross-Enterprise Document Media Interchange)'));
  assert.ok(readme.includes('Sent by: Dr Camille Leger (psychiatrist), through Sesame, Maison de sante des Lilas'));
  for (const e of entries) {
    assert.equal(e.local[4] | (e.local[5] << 8), 20, `${e.name}: version needed`);
    assert.equal(e.local[6] | (e.local[7] << 8), 2, `${e.name}: flags`);
    assert.equal(e.local[8] | (e.local[9] << 8), 8, `${e.name}: deflate`);
    // 2026-03-12 14:30:00 UTC in DOS time and date
    assert.equal(e.local[10] | (e.local[11] << 8), (14 << 11) | (30 << 5), `${e.name}: DOS time`);
    assert.equal(e.local[12] | (e.local[13] << 8), ((2026 - 1980) << 9) | (3 << 5) | 12, `${e.name}: DOS date`);
  }
});

test('helpers: jansson dump format, ASCII transliteration, UUID OID', () => {
  assert.equal(dumpJson({ a: [], b: {}, c: [1, 'x'], d: { e: null, f: true } }),
    '{\n  "a": [],\n  "b": {},\n  "c": [\n    1,\n    "x"\n  ],\n  "d": {\n    "e": null,\n    "f": true\n  }\n}');
  assert.equal(dumpJson('a"\\/\n\u0001é😀\u007f'), '"a\\"\\\\/\\n\\u0001é😀\u007f"');
  assert.equal(ascii('Æsop œuvre ßtraße Ĳ “x” – \u00a0é\r\n\t😀'), 'AEsop oeuvre sstrasse ? "x" -  e\r\n\t?');
  assert.equal(uuidOid('00000000-0000-4000-8000-000000000001'), '2.25.' + (BigInt('0x00000000000040008000000000000001')).toString());
});

test('buildExport: bytes, file names and media types of every format', async () => {
  const input = sample();
  const xdm = await buildExport('xdm', input);
  assert.deepEqual({ filename: xdm.filename, mime: xdm.mime }, { filename: 'IHE_XDM.ZIP', mime: 'application/zip' });
  assert.equal(firstDiff(xdm.bytes, await exportXdm(input)), -1);
  const fhir = await buildExport('fhir', input);
  assert.equal(fhir.filename, EXPORT_FILES.fhir.filename);
  assert.equal(fhir.mime, 'application/fhir+json');
  assert.equal(dec.decode(fhir.bytes), exportFhir(input));
  const cda = await buildExport('cda', input);
  assert.equal(firstDiff(cda.bytes, exportCda(input)), -1);
  assert.equal(cda.mime, 'text/xml');
  const pdf = await buildExport('pdf', input);
  assert.equal(pdf.mime, 'application/pdf');
  assert.equal(pdf.filename, 'recommandation.pdf');
  assert.deepEqual(Array.from(pdf.bytes.subarray(0, 5)), Array.from(enc.encode('%PDF-')));
  await assert.rejects(buildExport('eml', input), (e) => e.code === 'INVALID_ARG');
  await assert.rejects(buildExport('xdm', { ...input, card: null }), (e) => e.code === 'BAD_FIELD');
  await assert.rejects(buildExport('cda', { ...input, card: null }), (e) => e.code === 'BAD_FIELD');
  assert.equal((await buildExport('fhir', { ...input, card: null })).bytes.length > 0, true);
});

test('DEFAULT_ORG_OID is the CLI\'s REC_DEFAULT_ORG_OID', () => {
  const src = readFileSync(new URL('clients/cli/cmd_rec_read.c', ROOT), 'utf8');
  const m = src.match(/#define REC_DEFAULT_ORG_OID "([^"]+)"/);
  assert.ok(m, 'cmd_rec_read.c defines REC_DEFAULT_ORG_OID');
  assert.equal(DEFAULT_ORG_OID, m[1]);
});

test('clean up', () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});
