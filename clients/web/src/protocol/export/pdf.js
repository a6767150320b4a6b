// pdf.js - exportPdf: the printable recommendation letter, byte for byte the A4 PDF that
// clients/cli/export/export_pdf.c (exp_pdf) builds with libhpdf 2.3.0, so that the GP downloads
// from the browser exactly what `sesame rec export --format pdf` writes. It reproduces what
// exp_pdf asks of libhpdf and what libhpdf does with it:
//   - the letter: the same sections, labels and order as exp_pdf's letter(), UTF-8 text turned
//     into CP1252 (WinAnsiEncoding; anything outside it prints as '?', a tab as a space);
//   - the layout: exp_pdf's word wrap (HPDF_Page_MeasureText with word wrap, then without, then
//     one character), page breaks and footers, in single-precision arithmetic (Math.fround after
//     every operation, in C's order), with libhpdf's glyph widths (helvetica.js);
//   - the content streams: libhpdf's operators (Tf on every line, BT/Td/Tj/ET, no Tj for an empty
//     line), its real-number formatting (HPDF_FToA) and string escaping (\ooo for every byte
//     outside 0x20..0x7E and for \ % # / ( ) < > [ ] { });
//   - the file: libhpdf's header, object numbering (catalog, page tree, info, the two fonts, then
//     page, contents and length of every page), dictionaries in its key order, per-page font
//     names in order of first use, Flate streams (zlib level 6, through pako), the xref table
//     and the trailer (no /ID: libhpdf writes one only for an encrypted file).
// Pure: no clock, no randomness; the CreationDate is the sent time.

import { deflate } from 'pako';

import { ExportError } from './errors.js';
import { WIDTHS_BOLD, WIDTHS_REGULAR } from './helvetica.js';
import {
  TITLE,
  cSeconds,
  checkInput,
  dayIso,
  insOid,
  isMedItem,
  itemTypeWords,
  partsOfSeconds,
  partyLabel,
  questionWords,
  stateName,
  str,
  timeText,
} from './util.js';

const f = Math.fround;

const MARGIN = 56; /* 2 cm */
const FOOTER_Y = 30; /* baseline of the footer */
const BOTTOM = 60; /* the lowest baseline of body text */
const BODY_SIZE = 10; /* points */
const PAGE_WIDTH = f(595.276); /* HPDF_PAGE_SIZE_A4, portrait */
const PAGE_HEIGHT = f(841.89);

const STRING_MAX = 65535; /* HPDF_LIMIT_MAX_STRING_LEN */
const KIDS_MAX = 32767; /* HPDF_LIMIT_MAX_ARRAY: pages of the one page tree */
const FOOT_CAP = 400; /* exp_pdf's footer buffer */

const PRODUCER = 'Haru Free PDF Library 2.3.0';

const REGULAR = { widths: WIDTHS_REGULAR, obj: 4 };
const BOLD = { widths: WIDTHS_BOLD, obj: 5 };

/* ---- text: CP1252 ------------------------------------------------------------------------------ */

/* CP1252 bytes 0x80..0x9F and their code points (0: unassigned). */
const CP1252_HI = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039,
  0x0152, 0, 0x017d, 0, 0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc,
  0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];
const CP1252_OF = new Map(CP1252_HI.map((u, i) => [u, 0x80 + i]).filter(([u]) => u !== 0));

/* The CP1252 text of s as a byte string (one char per byte, char codes 0..255). */
function toCp1252(s) {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    let b;
    if (c === 0x0a) b = 0x0a;
    else if (c === 0x09) b = 0x20;
    else if ((c >= 0x20 && c < 0x7f) || (c >= 0xa0 && c <= 0xff)) b = c;
    else b = CP1252_OF.get(c) ?? 0x3f;
    out += String.fromCharCode(b);
  }
  return out;
}

/* HPDF_IToA2: val (an unsigned 32-bit value, at most 2^31 - 1) in len - 1 digits, keeping the
 * lowest ones. */
function itoa2(val, len) {
  let v = val < 0 ? val >>> 0 : val;
  if (v > 2147483647) v = 2147483647;
  return String(v % 10 ** (len - 1)).padStart(len - 1, '0');
}

/* The info dictionary's CreationDate of exp_pdf: gmtime of sent_ms / 1000 (C division, toward
 * zero) through HPDF_SetInfoDateAttr, offset +00'00'. */
function creationDate(ms) {
  const t = partsOfSeconds(cSeconds(ms));
  return (
    'D:' +
    itoa2(t.year, 5) +
    itoa2(t.mon, 3) +
    itoa2(t.mday, 3) +
    itoa2(t.hour, 3) +
    itoa2(t.min, 3) +
    itoa2(t.sec, 3) +
    "+00'00'"
  );
}

/* ---- libhpdf's primitives -------------------------------------------------------------------- */

/* HPDF_FToA: a float as libhpdf writes it (5 decimals at most, trailing zeros dropped). */
function ftoa(v) {
  let val = f(v);
  if (val > 32767) val = 32767;
  else if (val < -32767) val = -32767;
  let sign = '';
  if (val < 0) {
    sign = '-';
    val = -val;
  }
  const intVal = Math.trunc(val + 0.000005); /* double arithmetic, as in C */
  const fpart = Math.trunc(f(f(f(val - intVal) + 0.000005) * 100000));
  let frac = '';
  for (let i = 0, fp = fpart; i < 5; i++, fp = Math.trunc(fp / 10)) frac = String(fp % 10) + frac;
  let s = `${intVal}.${frac}`.replace(/0+$/, '');
  if (s.endsWith('.')) s = s.slice(0, -1);
  return sign + s;
}

const NEEDS_ESCAPE = new Set(Array.from('\\%#/()<>[]{}', (c) => c.charCodeAt(0)));

/* HPDF_Stream_WriteEscapeText: a literal string of at most 65535 bytes. */
function escapeText(bytes) {
  let out = '(';
  const n = Math.min(bytes.length, STRING_MAX);
  for (let i = 0; i < n; i++) {
    const c = bytes.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || NEEDS_ESCAPE.has(c))
      out += '\\' + (c >> 6) + ((c & 0x38) >> 3) + (c & 0x07);
    else out += bytes[i];
  }
  return out + ')';
}

const isWhite = (b) =>
  b === 0x00 || b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
const widthOf = (font, b) => (b >= 32 ? font.widths[b - 32] : 0);

/* HPDF_Page_MeasureText (Type1Font_MeasureText, no character or word spacing): how many bytes
 * of text fit in width. */
function measure(text, font, size, width, wordwrap) {
  const len = Math.min(text.length, STRING_MAX + 1);
  let w = 0;
  let tmpLen = 0;
  for (let i = 0; i < len; i++) {
    const b = text.charCodeAt(i);
    if (isWhite(b)) tmpLen = i + 1;
    else if (!wordwrap) tmpLen = i;
    w = f(w + f(f(widthOf(font, b) * size) / 1000));
    if (w > width || b === 0x0a) return tmpLen;
  }
  return len;
}

/* ---- the page writer ------------------------------------------------------------------------- */

class Writer {
  constructor(footer) {
    this.footer = footer; /* CP1252 */
    this.pages = []; /* {ops: string[], fonts: font[]} */
    this.page = null;
    this.y = 0;
    this.pageno = 0;
  }

  /* HPDF_Page_SetFontAndSize: the page's local name of font (F1, F2 in order of first use). */
  setFont(font, size) {
    let i = this.page.fonts.indexOf(font);
    if (i < 0) i = this.page.fonts.push(font) - 1;
    this.page.ops.push(`/F${i + 1} ${ftoa(size)} Tf\n`);
  }

  /* BeginText, TextOut (a Td from the identity text matrix, then Tj unless text is empty),
   * EndText. */
  textOut(x, y, text) {
    let s = `BT\n${ftoa(x)} ${ftoa(y)} Td\n`;
    if (text.length > 0) s += `${escapeText(text)} Tj\n`;
    this.page.ops.push(s + 'ET\n');
  }

  newPage() {
    if (this.pages.length >= KIDS_MAX) throw new ExportError('IO', 'too many pages for libhpdf');
    this.page = { ops: [], fonts: [] };
    this.pages.push(this.page);
    this.pageno++;
    const foot = `${this.footer} - page ${this.pageno}`.slice(0, FOOT_CAP - 1);
    this.setFont(REGULAR, f(8));
    this.textOut(MARGIN, FOOTER_Y, foot);
    this.y = f(PAGE_HEIGHT - MARGIN);
  }

  /* exp_pdf's write_cp: CP1252 text wrapped to the text width less indent. */
  writeCp(font, size, indent, text) {
    const leading = f(size * f(1.3));
    let p = 0;
    for (;;) {
      const nl = text.indexOf('\n', p);
      let rest = nl >= 0 ? text.slice(p, nl) : text.slice(p);
      do {
        if (f(this.y - leading) < BOTTOM) this.newPage();
        this.setFont(font, size);
        const avail = f(f(PAGE_WIDTH - 2 * MARGIN) - indent);
        let n = measure(rest, font, size, avail, true);
        if (n === 0) n = measure(rest, font, size, avail, false);
        if (n === 0 && rest.length > 0) n = 1;
        this.y = f(this.y - leading);
        this.textOut(f(MARGIN + indent), this.y, rest.slice(0, n));
        rest = rest.slice(n).replace(/^ +/, '');
      } while (rest.length > 0);
      if (nl < 0) break;
      p = nl + 1;
    }
  }

  para(font, size, indent, text) {
    this.writeCp(font, f(size), f(indent), toCp1252(text));
  }

  heading(title) {
    this.y = f(this.y - 6);
    this.para(BOLD, 11, 0, title);
  }

  field(label, value) {
    this.para(REGULAR, BODY_SIZE, 0, `${label}: ${value}`);
  }

  msField(label, ms) {
    this.field(label, ms > 0 ? timeText(ms) : 'not yet');
  }
}

const sexWords = (sex) => (sex === 'F' ? 'female' : sex === 'M' ? 'male' : 'unknown');

/* exp_pdf's letter(). */
function letter(w, input) {
  const d = input.doc;
  const day = (v) => dayIso(v ?? 0);
  w.para(BOLD, 16, 0, `${TITLE}${d.urgent ? ' (urgent)' : ''}`);
  w.para(REGULAR, 9, 0, 'Indirect consultation through the Sesame collaborative-care team');

  w.heading('Patient');
  const c = input.card;
  if (c !== undefined && c !== null) {
    w.field('Birth name', str(c.birthName));
    w.field('Given names', str(c.givenNames));
    w.field('First given name', str(c.firstGiven));
    if (str(c.usedName) !== '') w.field('Used name', c.usedName);
    w.field('Birth date', day(c.birthDay));
    w.field('Sex', sexWords(c.sex));
    const oid = insOid(c.insKind);
    if (oid !== null && str(c.ins) !== '')
      w.para(REGULAR, BODY_SIZE, 0, `INS: ${c.ins} (OID ${oid})`);
    else w.field('INS', 'not entered');
  }
  w.field('Pseudonymous reference', str(input.patientRef));

  w.heading('Care team');
  w.field('Psychiatrist', partyLabel(input.author));
  w.field('General practitioner', partyLabel(input.gp));
  w.field('Presenting nurse', partyLabel(input.nurse));
  if (str(input.site) !== '') w.field('Site', input.site);

  w.heading('Dates');
  w.field('Written', day(d.day));
  const review = d.reviewDay ?? -1;
  if (review >= 0) w.field('Case review', day(review));
  else w.field('Case review', 'ad hoc (outside a case-review session)');

  w.heading('Question addressed');
  w.para(REGULAR, BODY_SIZE, 0, `${questionWords(d.questionCode)}. ${str(d.question)}`);
  w.heading('Data basis');
  w.para(REGULAR, BODY_SIZE, 0, str(d.dataBasis));
  w.heading('Safety assessment');
  w.para(REGULAR, BODY_SIZE, 0, str(d.safety));
  if (str(d.diagnosis) !== '') {
    w.heading('Diagnosis');
    w.para(REGULAR, BODY_SIZE, 0, d.diagnosis);
  }
  const items = d.items ?? [];
  if (items.length > 0) {
    w.heading('Recommendations');
    items.forEach((it, i) => {
      if (isMedItem(it.type))
        w.para(BOLD, BODY_SIZE, 0, `${i + 1}. ${itemTypeWords(it.type)}: ${str(it.drug)}`);
      else w.para(BOLD, BODY_SIZE, 0, `${i + 1}. ${itemTypeWords(it.type)}`);
      if (str(it.dose) !== '') w.para(REGULAR, BODY_SIZE, 14, `Dose: ${it.dose}`);
      if (str(it.titration) !== '') w.para(REGULAR, BODY_SIZE, 14, `Titration: ${it.titration}`);
      if (str(it.monitoring) !== '') w.para(REGULAR, BODY_SIZE, 14, `Monitoring: ${it.monitoring}`);
      if (str(it.text) !== '') w.para(REGULAR, BODY_SIZE, 14, it.text);
    });
  }
  if (str(d.narrative) !== '') {
    w.heading('Narrative');
    w.para(REGULAR, BODY_SIZE, 0, d.narrative);
  }
  w.heading('Contingency plan');
  w.para(REGULAR, BODY_SIZE, 0, str(d.contingency));
  w.heading('Next review');
  w.para(REGULAR, BODY_SIZE, 0, day(d.nextReviewDay));

  w.heading('State of the recommendation');
  w.field('Current state', stateName(input.state));
  w.msField('Sent', input.sentMs ?? 0);
  w.msField('Acknowledged', input.ackedMs ?? 0);
  w.msField('Decided', input.decidedMs ?? 0);
  if (str(input.decision) !== '') w.field('Decision', input.decision);
  if (str(input.reason) !== '') w.field('Reason', input.reason);
  w.msField('Implemented', input.implementedMs ?? 0);
  w.msField('Verified with the patient', input.verifiedMs ?? 0);
  w.para(REGULAR, BODY_SIZE, 0, `Version ${input.version} of recommendation ${input.recId}`);

  w.heading('Disclaimer');
  w.para(REGULAR, 8.5, 0, str(d.disclaimer));
}

/* ---- the file -------------------------------------------------------------------------------- */

/* A byte string (char codes 0..255) as bytes. */
function bytesOf(s) {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/* The output of HPDF_SaveToStream for the objects libhpdf holds. */
function serialise(w, date) {
  const parts = [];
  let size = 0;
  const put = (x) => {
    const b = typeof x === 'string' ? bytesOf(x) : x;
    parts.push(b);
    size += b.length;
  };
  const offsets = [];
  const obj = (id, ...body) => {
    offsets[id] = size;
    put(`${id} 0 obj\n`);
    for (const b of body) put(b);
    put('\nendobj\n');
  };
  const font = (name) =>
    `<<\n/Type /Font\n/BaseFont /${name}\n/Subtype /Type1\n/Encoding /WinAnsiEncoding\n>>`;
  const pageId = (i) => 6 + 3 * i;

  put('%PDF-1.3\n%\xb7\xbe\xad\xaa\n');
  obj(1, '<<\n/Type /Catalog\n/Pages 2 0 R\n>>');
  const kids = w.pages.map((_, i) => `${pageId(i)} 0 R `).join('');
  obj(2, `<<\n/Type /Pages\n/Kids [ ${kids}]\n/Count ${w.pages.length}\n>>`);
  obj(
    3,
    `<<\n/Producer ${escapeText(PRODUCER)}\n/CreationDate ${escapeText(date)}\n` +
      `/Title ${escapeText(TITLE)}\n/Creator ${escapeText('Sesame')}\n>>`,
  );
  obj(4, font('Helvetica'));
  obj(5, font('Helvetica-Bold'));
  w.pages.forEach((page, i) => {
    const id = pageId(i);
    const fonts = page.fonts.map((fo, k) => `/F${k + 1} ${fo.obj} 0 R\n`).join('');
    obj(
      id,
      `<<\n/Type /Page\n/MediaBox [ 0 0 ${ftoa(PAGE_WIDTH)} ${ftoa(PAGE_HEIGHT)} ]\n` +
        `/Contents ${id + 1} 0 R\n/Resources <<\n` +
        '/ProcSet [ /PDF /Text /ImageB /ImageC /ImageI ]\n' +
        `/Font <<\n${fonts}>>\n>>\n/Parent 2 0 R\n>>`,
    );
    const z = deflate(bytesOf(page.ops.join('')), { level: 6 });
    const head = `<<\n/Length ${id + 2} 0 R\n/Filter [ /FlateDecode ]\n>>\nstream\r\n`;
    obj(id + 1, head, z, '\nendstream');
    obj(id + 2, String(z.length));
  });
  const count = offsets.length; /* objects 1..n and the free entry 0 */
  const xref = size;
  let table = `xref\n0 ${count}\n0000000000 65535 f\r\n`;
  for (let id = 1; id < count; id++)
    table += `${String(offsets[id]).padStart(10, '0')} 00000 n\r\n`;
  put(table);
  put(`trailer\n<<\n/Root 1 0 R\n/Info 3 0 R\n/Size ${count}\n>>\nstartxref\n${xref}\n%%EOF\n`);
  const out = new Uint8Array(size);
  let o = 0;
  for (const b of parts) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

/**
 * The printable letter of a recommendation: exactly the bytes of exp_pdf (clients/cli/export),
 * an A4 PDF in Helvetica (WinAnsiEncoding: characters outside CP1252 print as '?'), its
 * CreationDate the sent time.
 * @param {object} input an ExportInput: {doc, card (or null), recId, version, threadId,
 *   patientRef, state, decision, reason, sentMs, ackedMs, decidedMs, implementedMs, verifiedMs,
 *   author: {id, name}, gp, nurse, site, orgOid}
 * @returns {Uint8Array} the PDF file
 * @throws {ExportError} INVALID_ARG (no input), BAD_FIELD (what exp_input_check refuses: no doc,
 *   no recId or orgOid, a version below 1, a string that is not well-formed or holds U+0000, a
 *   string longer than its C field, more than 20 items), IO (more pages than libhpdf's page tree
 *   holds)
 */
export function exportPdf(input) {
  checkInput(input, false);
  const ref = str(input.patientRef);
  const foot = `Sesame - ${ref} - recommendation ${input.recId} v${input.version}`;
  const w = new Writer(toCp1252(foot));
  w.newPage();
  letter(w, input);
  return serialise(w, creationDate(input.sentMs ?? 0));
}
