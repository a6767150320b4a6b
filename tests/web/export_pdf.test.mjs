// export_pdf.test.mjs - the web client's PDF letter (clients/web/src/protocol/export/pdf.js)
// byte for byte against the C builder exp_pdf (clients/cli/export/export_pdf.c, libhpdf): every
// input is written as JSON, run through gen_export_json (tests/unit/gen_export_json.c, its path
// in the environment variable GEN_EXPORT_JSON) and compared with exportPdf's bytes. A mismatch
// reports the first differing offset and the first differing line of the decompressed content
// streams. Inputs: the sample of tests/unit/export_sample.h, every item type, no card, page
// breaks, words longer than a line, French and CP1252 text, characters outside CP1252, tabs and
// newlines, empty optional fields, every state, urgent and ad hoc, extreme dates, seeded random
// letters, and a boundary case for every field limit the input check enforces.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

import { exportPdf } from '../../clients/web/src/protocol/export/pdf.js';
import { ExportError } from '../../clients/web/src/protocol/export/errors.js';

const GEN = process.env.GEN_EXPORT_JSON;
const DIR = mkdtempSync(join(tmpdir(), 'sesame-export-pdf-'));
process.on('exit', () => rmSync(DIR, { recursive: true, force: true }));

test('GEN_EXPORT_JSON names the gen_export_json program', () => {
  assert.ok(GEN, 'set GEN_EXPORT_JSON to the gen_export_json program (ctest does)');
  const r = spawnSync(GEN, [], { encoding: 'utf8' });
  assert.equal(r.status, 2, `${GEN} without arguments should print its usage and exit 2`);
});

let seq = 0;
/* Runs gen_export_json FORMAT on input: {status, stderr, bytes}. */
function runC(input, format = 'pdf') {
  const n = seq++;
  const inPath = join(DIR, `in${n}.json`);
  const outPath = join(DIR, `out${n}.bin`);
  writeFileSync(inPath, typeof input === 'string' ? input : JSON.stringify(input));
  const r = spawnSync(GEN, [format, inPath, outPath], { encoding: 'buffer', maxBuffer: 1 << 28 });
  const bytes = r.status === 0 ? readFileSync(outPath) : null;
  return { status: r.status, stderr: r.stderr.toString('utf8').trim(), bytes };
}

/* The decompressed content streams of a PDF, as latin1 text. */
function contentStreams(pdf) {
  const s = Buffer.from(pdf).toString('latin1');
  const out = [];
  let at = 0;
  for (;;) {
    const start = s.indexOf('stream\r\n', at);
    if (start < 0) break;
    const end = s.indexOf('\nendstream', start);
    const z = Buffer.from(pdf).subarray(start + 8, end);
    try {
      out.push(inflateSync(z).toString('latin1'));
    } catch (e) {
      out.push(`<not inflatable: ${e.message}>`);
    }
    at = end + 10;
  }
  return out;
}

/* Why a and b differ: the first differing offset with context, and the first differing line of
 * the decompressed content streams. */
function explain(js, c) {
  let i = 0;
  while (i < js.length && i < c.length && js[i] === c[i]) i++;
  const ctx = (b) =>
    JSON.stringify(Buffer.from(b.subarray(Math.max(0, i - 40), i + 40)).toString('latin1'));
  let msg = `lengths js ${js.length}, C ${c.length}; first difference at byte ${i}`;
  msg += `\n  js: ${ctx(js)}\n  C:  ${ctx(c)}`;
  const sj = contentStreams(js);
  const sc = contentStreams(c);
  msg += `\n  content streams: js ${sj.length}, C ${sc.length}`;
  for (let k = 0; k < Math.max(sj.length, sc.length); k++) {
    if (sj[k] === sc[k]) continue;
    const lj = (sj[k] ?? '').split('\n');
    const lc = (sc[k] ?? '').split('\n');
    let l = 0;
    while (l < lj.length && l < lc.length && lj[l] === lc[l]) l++;
    msg += `\n  page ${k + 1}, first differing line ${l + 1}:`;
    msg += `\n    js: ${JSON.stringify(lj.slice(Math.max(0, l - 3), l + 3))}`;
    msg += `\n    C:  ${JSON.stringify(lc.slice(Math.max(0, l - 3), l + 3))}`;
    break;
  }
  return msg;
}

/* Asserts that exportPdf(input) is exactly what exp_pdf writes; returns the bytes. */
function same(name, input) {
  const c = runC(input);
  assert.equal(c.status, 0, `${name}: gen_export_json failed (${c.status}): ${c.stderr}`);
  const js = exportPdf(input);
  assert.ok(js instanceof Uint8Array, `${name}: exportPdf returns a Uint8Array`);
  if (Buffer.compare(Buffer.from(js), c.bytes) !== 0)
    assert.fail(`${name}: ${explain(js, c.bytes)}`);
  return js;
}

/* Asserts that exportPdf refuses input with code and that gen_export_json exits with status
 * (1: the C builder refused with that code; 2: the input does not fit the C structs). */
function refused(name, input, code, status) {
  assert.throws(
    () => exportPdf(input),
    (e) => e instanceof ExportError && e.code === code,
    `${name}: exportPdf should throw ExportError ${code}`,
  );
  const c = runC(input);
  assert.equal(c.status, status, `${name}: gen_export_json exit status (${c.stderr})`);
  if (status === 1) assert.equal(c.stderr, code, `${name}: gen_export_json's error name`);
}

/* ---- inputs ---------------------------------------------------------------------------------- */

const DISCLAIMER =
  "These recommendations are based on a review of the patient's record and discussion with the " +
  'care manager, without a direct examination of the patient. The treating physician remains ' +
  'responsible for the decision.';

/* tests/unit/export_sample.h in the web client's shape. */
function sample() {
  return {
    doc: {
      day: 20524,
      reviewDay: 20522,
      urgent: false,
      questionCode: 'not_improving',
      question: 'PHQ-9 still 16 after 10 weeks of sertraline 100 mg: what next?',
      dataBasis:
        'PHQ-9 19 → 17 → 16 over 10 weeks; GAD-7 12. Sertraline 100 mg since week 2, good ' +
        'adherence reported by the nurse. Item 9 = 0 at every visit (score ≥ 0).',
      safety: 'No suicidal ideation reported (PHQ-9 item 9 = 0); no safety concern today.',
      diagnosis: 'Major depressive episode, moderate, without psychotic features.',
      items: [
        {
          type: 'MED_SWITCH',
          drug: 'venlafaxine LP',
          dose: '75 mg once daily',
          titration:
            'Cross-taper: sertraline 50 mg for 1 week then stop; venlafaxine 37.5 mg for 1 week ' +
            'then 75 mg.',
          monitoring: 'Blood pressure at 4 weeks.',
          text: '',
        },
        {
          type: 'MONITORING',
          drug: '',
          dose: '',
          titration: '',
          monitoring: '',
          text: 'PHQ-9 every 2 weeks by the care manager; call the psychiatrist if it rises by 5.',
        },
      ],
      narrative: 'Partial response only; a switch to an SNRI is reasonable before augmentation.',
      contingency:
        'If PHQ-9 has not fallen by 5 points in 6 weeks, or on any suicidal ideation, contact ' +
        'the psychiatrist – same-day review for safety.',
      nextReviewDay: 20552,
      disclaimer: DISCLAIMER,
    },
    card: {
      day: 20500,
      birthName: 'DUPRÉ',
      givenNames: 'Élodie Marie',
      firstGiven: 'Élodie',
      usedName: 'MARTIN',
      birthDay: 3656,
      sex: 'F',
      insKind: 'nir_test',
      ins: '280017512345610',
      birthPlace: '75056',
    },
    recId: '01JQ7ZK4X2M8N5P3R6T9V0W1YA',
    version: 1,
    threadId: '01JQ7ZJ0A1B2C3D4E5F6G7H8JK',
    patientRef: 'P-0042',
    state: 'accepted',
    decision: 'accepted',
    reason: null,
    sentMs: 1773325800000,
    ackedMs: 1773329400000,
    decidedMs: 1773412200000,
    implementedMs: 0,
    verifiedMs: 0,
    author: { id: 'AUTH0RPSYCH1ATR1STXXXXXXXX', name: 'Dr Camille Léger' },
    gp: { id: 'GPGENERALPRACT1T10NERXXXXX', name: 'Dr Jean Moreau' },
    nurse: { id: 'NURSECAREMANAGERXXXXXXXXXX', name: '' },
    site: 'Maison de santé des Lilas',
    orgOid: '1.2.250.1.999.1',
  };
}

/* sample() with changes; a key set to undefined is removed. */
function variant(change) {
  const s = sample();
  change(s);
  return s;
}

const ITEM_TYPES = [
  'MED_START',
  'MED_DOSE_CHANGE',
  'MED_SWITCH',
  'MED_AUGMENT',
  'MED_STOP',
  'LAB',
  'PSYCHOTHERAPY',
  'REFERRAL',
  'GP_VISIT',
  'MONITORING',
];

const QUESTIONS = ['new_patient', 'not_improving', 'safety', 'request', 'decision_point', 'other'];
const STATES = [
  'sent',
  'acknowledged',
  'accepted',
  'modified',
  'declined',
  'implemented',
  'verified',
  'superseded',
];

const item = (type, extra = {}) => ({
  type,
  drug: '',
  dose: '',
  titration: '',
  monitoring: '',
  text: '',
  ...extra,
});

/* A string of exactly n UTF-8 bytes: ASCII words, then 'é' (2 bytes) as far as it goes. */
function bytesLong(n, word = 'word') {
  let s = '';
  while (s.length + word.length + 1 <= n - 2) s += `${word} `;
  while (Buffer.byteLength(s) + 2 <= n) s += 'é';
  while (Buffer.byteLength(s) < n) s += 'x';
  return s;
}

/* A seeded PRNG (mulberry32), so the random letters are the same on every run. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?()[]{}<>/\\%#@&*+-=_\'"' +
  'éèêëàâäîïôöùûüçÉÈÀÇœŒæÆ€’“”–—…«»°±µ§¶' +
  'ßøØñÑ\u00a0ÿŸžŽšŠ‰†‡•ˆ˜™‹›„‚ƒ' +
  'αβγ中文🙂\u0080\u009f\u007f\r';

const CHARS = [...ALPHABET]; /* code points: an emoji stays whole */

/* Random text of at most maxBytes UTF-8 bytes: characters, spaces, newlines, tabs, runs of
 * spaces and words longer than a line. */
function randomText(r, maxBytes) {
  let s = '';
  const target = Math.floor(r() * maxBytes);
  for (;;) {
    const x = r();
    let piece;
    if (x < 0.15) piece = ' ';
    else if (x < 0.17) piece = '\n';
    else if (x < 0.18) piece = '\t';
    else if (x < 0.185) piece = '   ';
    else if (x < 0.19) piece = 'W'.repeat(1 + Math.floor(r() * 150));
    else piece = CHARS[Math.floor(r() * CHARS.length)];
    if (Buffer.byteLength(s + piece) > target) return s;
    s += piece;
  }
}

function randomInput(seed) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const s = sample();
  const d = s.doc;
  d.urgent = r() < 0.3;
  d.reviewDay = r() < 0.3 ? -1 : 20000 + Math.floor(r() * 1000);
  d.questionCode = pick(QUESTIONS);
  d.question = randomText(r, 1000);
  d.dataBasis = randomText(r, 2000);
  d.safety = randomText(r, 1000);
  d.diagnosis = r() < 0.3 ? '' : randomText(r, 1000);
  d.narrative = r() < 0.3 ? '' : randomText(r, 2000);
  d.contingency = randomText(r, 1000);
  d.disclaimer = randomText(r, 2000);
  const n = Math.floor(r() * 8);
  d.items = [];
  for (let i = 0; i < n; i++)
    d.items.push(
      item(pick(ITEM_TYPES), {
        drug: randomText(r, 120),
        dose: r() < 0.5 ? randomText(r, 120) : '',
        titration: r() < 0.5 ? randomText(r, 600) : '',
        monitoring: r() < 0.5 ? randomText(r, 300) : '',
        text: r() < 0.7 ? randomText(r, 600) : '',
      }),
    );
  if (r() < 0.3) s.card = null;
  s.state = pick(STATES);
  s.reason = r() < 0.5 ? randomText(r, 400) : null;
  s.site = r() < 0.5 ? randomText(r, 100) : '';
  s.sentMs = Math.floor(r() * 4e12);
  return s;
}

/* ---- the tests ------------------------------------------------------------------------------- */

test('the sample letter of export_sample.h is exactly exp_pdf', () => {
  const pdf = same('sample', sample());
  const text = Buffer.from(pdf).toString('latin1');
  assert.ok(text.startsWith('%PDF-1.3\n'), 'a PDF 1.3 header');
  const date = "/CreationDate (D:20260312143000+00'00')";
  assert.ok(text.includes(date), 'CreationDate: the sent time');
  assert.ok(text.endsWith('%%EOF\n'));
  const streams = contentStreams(pdf);
  assert.equal(streams.length, 2, 'the sample fills two pages');
  assert.ok(streams[0].includes('(Birth name: DUPR\\311) Tj'), 'É in CP1252, escaped as octal');
});

test('every item type, an unknown one, and items with some fields empty', () => {
  same(
    'all types',
    variant((s) => {
      s.doc.items = ITEM_TYPES.map((t, i) =>
        item(t, {
          drug: t.startsWith('MED_') ? `drug ${i}` : '',
          dose: t === 'MED_STOP' ? '' : `${i + 1} mg`,
          titration: i % 2 ? 'Up by 25 mg every week.' : '',
          monitoring: i % 3 ? '' : 'ECG at baseline.',
          text: `Item ${i} text (${t}).`,
        }),
      );
    }),
  );
  const odd = item('NOT_A_TYPE', { text: 'What is this?', drug: 'x' });
  same('unknown type', variant((s) => (s.doc.items = [odd])));
  same('no items, narrative only', variant((s) => (s.doc.items = [])));
  same('a MED item without drug', variant((s) => (s.doc.items = [item('MED_STOP')])));
});

test('card: none, without INS, every INS kind, every sex', () => {
  same('no card', variant((s) => (s.card = null)));
  same('card absent', variant((s) => delete s.card));
  same('no INS', variant((s) => Object.assign(s.card, { insKind: 'none', ins: '' })));
  same('INS kind, no number', variant((s) => Object.assign(s.card, { insKind: 'nir', ins: '' })));
  for (const k of ['nir', 'nia', 'nir_test', 'nia_test'])
    same(`INS ${k}`, variant((s) => (s.card.insKind = k)));
  for (const sex of ['F', 'M', 'U', 'X']) same(`sex ${sex}`, variant((s) => (s.card.sex = sex)));
  same(
    'no used name, no birth place',
    variant((s) => Object.assign(s.card, { usedName: '', birthPlace: '' })),
  );
});

test('long texts: page breaks, words longer than a line, many pages', () => {
  same(
    'every field at its limit',
    variant((s) => {
      const d = s.doc;
      d.question = bytesLong(1000);
      d.dataBasis = bytesLong(2000, 'basis');
      d.safety = bytesLong(1000, 'safe');
      d.diagnosis = bytesLong(1000, 'dx');
      d.narrative = bytesLong(2000, 'narrative');
      d.contingency = bytesLong(1000, 'if');
      d.disclaimer = bytesLong(2000, 'disclaim');
      d.items = Array.from({ length: 20 }, (_, i) =>
        item(ITEM_TYPES[i % 10], {
          drug: bytesLong(120, 'D'),
          dose: bytesLong(120, 'mg'),
          titration: bytesLong(1000, 'titr'),
          monitoring: bytesLong(1000, 'mon'),
          text: bytesLong(1000, 'txt'),
        }),
      );
    }),
  );
  same(
    'words longer than a line',
    variant((s) => {
      s.doc.question = 'W'.repeat(1000);
      s.doc.dataBasis = `short ${'i'.repeat(700)} then ${'m'.repeat(300)} end`;
      s.doc.items[0].drug = 'W'.repeat(120);
      s.doc.items[1].text = `${'x'.repeat(200)} ${'€'.repeat(150)}`;
      s.doc.disclaimer = 'ab'.repeat(1000);
    }),
  );
  const big = same('hundreds of pages', variant((s) => (s.reason = 'line\n'.repeat(20000))));
  assert.ok(contentStreams(big).length > 300, 'many pages');
  same('a long unbroken site and names', variant((s) => {
    s.site = 'S'.repeat(5000);
    s.author.name = `Dr ${'é'.repeat(3000)}`;
  }));
});

test('single-precision sums decide where a line breaks', () => {
  /* found by search: summed in float (as libhpdf does) this 8.5-point word overflows the text
   * width one character earlier or later than summed in double, so the break shows which */
  const word =
    'hFd5LMYStK1xD4PV8LTAze4y5yEUnIWqmousGnFLveXMZeJpt2A12OI12Daylg1xdz9Hq45gb48lb4kA06IZ' +
    'LOJvawhevGYiBjbQh';
  same('float break', variant((s) => (s.doc.disclaimer = `${word}XYZ and more`)));
});

test("libhpdf's single-precision number formatting", () => {
  /* found by search: on the last page one baseline is a float whose HPDF_FToA digits (computed in
   * float, as libhpdf does) differ in the fifth decimal from the same steps computed in double */
  const input = variant((s) => {
    s.reason = '\n'.repeat(1025);
    s.doc.disclaimer = '\n'.repeat(16);
  });
  same('float digits', input);
});

test('a page that uses only the regular font lists only F1', () => {
  let found = 0;
  for (let k = 0; k < 40; k++) {
    const pdf = same(`padding ${k}`, variant((s) => {
      s.doc.narrative = `pad${'\n'.repeat(k)}`;
      s.doc.disclaimer = bytesLong(2000, 'disclaimer');
    }));
    if (Buffer.from(pdf).toString('latin1').includes('/Font <<\n/F1 4 0 R\n>>')) found++;
  }
  assert.ok(found > 0, 'some padding puts the disclaimer alone on the last page');
});

test('French text, CP1252 punctuation and characters outside CP1252', () => {
  same(
    'French',
    variant((s) => {
      s.doc.question =
        "Le patient présente-t-il une dépression résistante ? Élément clé : l'humeur à 3 mois.";
      s.doc.narrative =
        'Ça va mieux ; « très » légère amélioration. Où ? Noël, Œdipe, cœur, naïf, façade, ' +
        'ÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸàâäçéèêëîïôöùûüÿ.';
    }),
  );
  same(
    'CP1252 punctuation',
    variant((s) => {
      s.doc.safety = 'l’humeur “stable” – 10 € — œuvre Œ Ÿ ž Ž š Š ‰ † ‡ • … ˆ ˜ ™ ‹ › „ ‚ ƒ ‘';
    }),
  );
  same(
    'outside CP1252',
    variant((s) => {
      s.doc.safety =
        'Greek αβγ, CJK 中文, emoji 🙂, C1 \u0080\u0081\u009f, DEL \u007f, CR \r, ' +
        'NBSP \u00a0, U+FFFD \ufffd, BOM \ufeff';
      s.doc.items[0].drug = '🙂🙂🙂';
    }),
  );
  same('PDF delimiters', variant((s) => (s.doc.question = 'a\\b (c) <d> [e] {f} %g #h /i ~j')));
});

test('tabs, newlines and spaces', () => {
  same('newlines', variant((s) => (s.doc.dataBasis = '\nfirst\n\nsecond\n\n\nthird\n')));
  same('only newlines', variant((s) => (s.doc.safety = '\n\n\n')));
  same('tabs', variant((s) => (s.doc.narrative = '\tindented\twith\ttabs\t')));
  same('spaces', variant((s) => {
    s.doc.contingency = `   leading spaces, ${'two  spaces  '.repeat(20)} trailing   `;
    s.doc.diagnosis = '     ';
    s.doc.items[1].text = `${'a '.repeat(300)}`;
  }));
  const spaced = `${'word '.repeat(30)}${' '.repeat(200)}end`;
  same('spaces at a break', variant((s) => (s.doc.question = spaced)));
});

test('empty optional fields and absent parties', () => {
  same(
    'empty',
    variant((s) => {
      for (const k of ['diagnosis', 'narrative', 'question', 'dataBasis', 'safety', 'contingency'])
        s.doc[k] = '';
      s.doc.disclaimer = '';
      s.site = '';
      s.decision = null;
      s.reason = null;
      s.nurse = { id: 'NURSEID', name: '' };
    }),
  );
  same(
    'absent',
    variant((s) => {
      delete s.site;
      delete s.decision;
      delete s.reason;
      delete s.author;
      s.gp = { id: '', name: '' };
      s.nurse = null;
      delete s.patientRef;
      delete s.threadId;
      delete s.sentMs;
      delete s.ackedMs;
      delete s.decidedMs;
    }),
  );
  same('empty decision', variant((s) => (s.decision = '')));
});

test('every state, decisions with reasons, urgent and ad hoc', () => {
  for (const st of [...STATES, 'bogus']) same(`state ${st}`, variant((s) => (s.state = st)));
  const decided = (state, reason) =>
    variant((s) => Object.assign(s, { state, decision: state, reason }));
  same('modified', decided('modified', 'Dose lowered: the patient is 82 and frail.'));
  same('declined', decided('declined', 'Patient refuses a switch.\nWill revisit.'));
  same(
    'implemented and verified',
    variant((s) =>
      Object.assign(s, { state: 'verified', implementedMs: 1773500000000, verifiedMs: 1774e9 }),
    ),
  );
  same('urgent', variant((s) => (s.doc.urgent = true)));
  same('ad hoc', variant((s) => (s.doc.reviewDay = -1)));
  const safety = { urgent: true, reviewDay: -1, questionCode: 'safety' };
  same('urgent ad hoc safety', variant((s) => Object.assign(s.doc, safety)));
  for (const q of ['new_patient', 'request', 'decision_point', 'other', 'unknown_code'])
    same(`question ${q}`, variant((s) => (s.doc.questionCode = q)));
});

test('dates and times at their edges', () => {
  const days = { day: -5, nextReviewDay: 2932897, reviewDay: 2932896 };
  same('days out of range', variant((s) => Object.assign(s.doc, days)));
  same('card days', variant((s) => Object.assign(s.card, { birthDay: 0, day: -1 })));
  /* 2000-02-29, the last and first milliseconds around year 10000, the ends of what a JS number
   * holds exactly, year 0 */
  const times = [0, 1, 999, 1000, -1, -1500, -86400001, 951782400000, 253402300799999];
  times.push(253402300800000, 8.64e15, 9007199254740991, -9007199254740991, -62198755200000);
  for (const ms of times) {
    const t = { sentMs: ms, ackedMs: ms, decidedMs: Math.abs(ms) };
    same(`sent ${ms}`, variant((s) => Object.assign(s, t)));
  }
  same('version at its limit', variant((s) => (s.version = 2147483647)));
});

test('the footer at exp_pdf\'s 400-byte buffer', () => {
  /* "Sesame - " + ref + " - recommendation " + recId + " v1" + " - page 1": 399 bytes fit. */
  const fixed = 'Sesame -  - recommendation 01JQ7ZK4X2M8N5P3R6T9V0W1YA v1 - page 1'.length;
  for (const total of [398, 399, 400, 401, 420]) {
    const pdf = same(`footer ${total}`, variant((s) => (s.patientRef = 'R'.repeat(total - fixed))));
    const foot = contentStreams(pdf)[0].split('\n')[3];
    const ref = 'R'.repeat(total - fixed);
    const want = `Sesame - ${ref} - recommendation ${sample().recId} v1 - page 1`;
    assert.equal(foot, `(${want.slice(0, 399)}) Tj`);
  }
  same('a multi-byte footer', variant((s) => (s.patientRef = 'é€🙂'.repeat(100))));
});

test("the page tree at libhpdf's 32767 pages", () => {
  /* libhpdf's arrays hold 32767 elements (HPDF_LIMIT_MAX_ARRAY): with this many empty lines of
   * reason the sample fills exactly 32767 pages (55 empty lines a page); one more line needs a
   * 32768th page, HPDF_AddPage fails and exp_pdf returns SES_EIO */
  const lines = 1802123;
  const pdf = same('32767 pages', variant((s) => (s.reason = '\n'.repeat(lines))));
  assert.ok(Buffer.from(pdf).toString('latin1').includes('/Count 32767\n'), '32767 pages');
  refused('32768 pages', variant((s) => (s.reason = '\n'.repeat(lines + 1))), 'IO', 1);
});

test('seeded random letters', () => {
  for (let seed = 1; seed <= 40; seed++) same(`random ${seed}`, randomInput(seed));
});

test('the input check: what exp_input_check refuses and the limits of the C fields', () => {
  refused('no doc', variant((s) => (s.doc = null)), 'BAD_FIELD', 1);
  refused('no recId', variant((s) => delete s.recId), 'BAD_FIELD', 1);
  refused('empty recId', variant((s) => (s.recId = '')), 'BAD_FIELD', 1);
  refused('version 0', variant((s) => (s.version = 0)), 'BAD_FIELD', 1);
  refused('no orgOid', variant((s) => (s.orgOid = '')), 'BAD_FIELD', 1);
  assert.throws(() => exportPdf(null), (e) => e instanceof ExportError && e.code === 'INVALID_ARG');

  /* every limit: at the limit the C and JS letters agree, one byte more does not fit the C struct
   * (gen_export_json exits 2) and exportPdf refuses */
  const limits = [
    ['question', 1000, (s, v) => (s.doc.question = v)],
    ['dataBasis', 2000, (s, v) => (s.doc.dataBasis = v)],
    ['safety', 1000, (s, v) => (s.doc.safety = v)],
    ['diagnosis', 1000, (s, v) => (s.doc.diagnosis = v)],
    ['narrative', 2000, (s, v) => (s.doc.narrative = v)],
    ['contingency', 1000, (s, v) => (s.doc.contingency = v)],
    ['disclaimer', 2000, (s, v) => (s.doc.disclaimer = v)],
    ['drug', 120, (s, v) => (s.doc.items[0].drug = v)],
    ['dose', 120, (s, v) => (s.doc.items[0].dose = v)],
    ['titration', 1000, (s, v) => (s.doc.items[0].titration = v)],
    ['monitoring', 1000, (s, v) => (s.doc.items[0].monitoring = v)],
    ['text', 1000, (s, v) => (s.doc.items[1].text = v)],
    ['birthName', 120, (s, v) => (s.card.birthName = v)],
    ['givenNames', 120, (s, v) => (s.card.givenNames = v)],
    ['firstGiven', 120, (s, v) => (s.card.firstGiven = v)],
    ['usedName', 120, (s, v) => (s.card.usedName = v)],
    ['ins', 15, (s, v) => (s.card.ins = v)],
    ['birthPlace', 5, (s, v) => (s.card.birthPlace = v)],
  ];
  for (const [name, max, set] of limits) {
    const fill = (n) => (n >= 6 ? bytesLong(n, name.slice(0, 3)) : '7'.repeat(n));
    same(`${name} at ${max} bytes`, variant((s) => set(s, fill(max))));
    refused(`${name} at ${max + 1} bytes`, variant((s) => set(s, fill(max + 1))), 'BAD_FIELD', 2);
  }
  const labs = (n) => Array.from({ length: n }, (_, i) => item('LAB', { text: `test ${i}` }));
  const items = (n) => variant((s) => (s.doc.items = labs(n)));
  same('20 items', items(20));
  refused('21 items', items(21), 'BAD_FIELD', 2);

  /* strings C cannot hold: a lone surrogate (not UTF-8) and U+0000 (jansson refuses both) */
  refused('lone surrogate', variant((s) => (s.doc.question = 'bad \ud800 text')), 'BAD_FIELD', 2);
  refused('lone surrogate, pointer field', variant((s) => (s.reason = '\udc00')), 'BAD_FIELD', 2);
  refused('U+0000', variant((s) => (s.site = 'a\u0000b')), 'BAD_FIELD', 2);
});

test('gen_export_json: usage and bad JSON exit 2, the other formats run', () => {
  assert.equal(runC('{"doc": ', 'pdf').status, 2, 'truncated JSON');
  assert.equal(runC('[]', 'pdf').status, 2, 'not an object');
  assert.equal(runC(variant((s) => (s.version = 'one')), 'pdf').status, 2, 'a string for a number');
  const passport = variant((s) => (s.card.insKind = 'passport'));
  assert.equal(runC(passport, 'pdf').status, 2, 'an unknown INS kind');
  assert.equal(runC(sample(), 'docx').status, 2, 'an unknown format');
  for (const fmt of ['cda', 'xdm', 'fhir']) {
    const r = runC(sample(), fmt);
    assert.equal(r.status, 0, `${fmt}: ${r.stderr}`);
    assert.ok(r.bytes.length > 1000, `${fmt} output`);
  }
  const r = runC(variant((s) => (s.card = null)), 'cda');
  assert.deepEqual([r.status, r.stderr], [1, 'BAD_FIELD'], 'CDA without a card');
  assert.ok(execFileSync, 'child_process available');
});
