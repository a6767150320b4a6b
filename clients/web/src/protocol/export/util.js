// util.js - the export builders' shared helpers, the web twin of clients/cli/export/export_util.c
// and export_xml.c: the words of items, questions and states, the INS OIDs, the input check
// (which throws ExportError('BAD_FIELD') exactly where exp_input_check returns SES_EBAD_FIELD),
// deterministic UUIDs (BLAKE2b-256 through src/protocol/sodium.js), the UTC time formats, ASCII
// transliteration, and XmlWriter, which writes what libxml2's indented xmlTextWriter writes for
// the calls export_xml.c makes. Every function is pure: the same input gives the same bytes.

import { wellFormed } from '../json.js';
import {
  INS_LEN,
  ITEM_TYPES,
  QUESTION_CODES,
  REC_ITEMS_MAX,
  REC_LONG_MAX,
  REC_SHORT_MAX,
  REC_STATES,
  REC_TEXT_MAX,
  insOid,
  isMedItem,
} from '../recommend.js';
import { SES_DAY_MAX, SES_DAY_MIN, dayFormat } from '../scales.js';
import sodium from '../sodium.js';
import { ExportError } from './errors.js';

export { insOid, isMedItem };

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** Byte limits of the C record fields (recommend.h): a longer string does not fit. */
export const LIMITS = Object.freeze({
  ITEMS_MAX: REC_ITEMS_MAX,
  TEXT_MAX: REC_TEXT_MAX,
  LONG_MAX: REC_LONG_MAX,
  SHORT_MAX: REC_SHORT_MAX,
  INS_LEN,
  BIRTH_PLACE: 5,
});

/** First and last day a record may carry (scales.h SES_DAY_MIN..SES_DAY_MAX). */
export const DAY_MIN = SES_DAY_MIN;
export const DAY_MAX = SES_DAY_MAX;

/** The recommendation's standard title (CDA title, XDM names, the PDF's Title and heading). */
export const TITLE = 'Psychiatric case-review recommendation';

/* The words of ITEM_TYPES, in their order (exp_item_type_words). */
const ITEM_WORDS = [
  'Start medication',
  'Change dose',
  'Switch medication',
  'Augment medication',
  'Stop medication',
  'Laboratory test',
  'Psychotherapy',
  'Referral',
  'GP visit',
  'Monitoring',
];

/* The words of QUESTION_CODES, in their order (exp_question_words). */
const QUESTION_WORDS = [
  'New patient',
  'Not improving',
  'Safety concern',
  'Requested by the care team',
  'Treatment decision point',
  'Other',
];

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);

/**
 * An item type in words ("Switch medication"), or "Item" for an unknown wire name.
 * @param {string} type the wire name (MED_SWITCH)
 * @returns {string}
 */
export function itemTypeWords(type) {
  const i = ITEM_TYPES.indexOf(type);
  return i >= 0 ? ITEM_WORDS[i] : 'Item';
}

/**
 * A question code in words ("Not improving"), or "Other".
 * @param {string} code the wire name (not_improving)
 * @returns {string}
 */
export function questionWords(code) {
  const i = QUESTION_CODES.indexOf(code);
  return i >= 0 ? QUESTION_WORDS[i] : 'Other';
}

/**
 * The wire name of a state when it is one ("acknowledged"), else "unknown" (exp_state_name).
 * @param {string} state
 * @returns {string}
 */
export function stateName(state) {
  return REC_STATES.includes(state) ? state : 'unknown';
}

/**
 * Whether card is given with an INS and its OID (what CDA, XDM and EML need: exp_has_ins).
 * @param {object|null|undefined} card a PatientCard
 * @returns {boolean}
 */
export function hasIns(card) {
  return card != null && insOid(card.insKind) !== null && str(card.ins) !== '';
}

/**
 * s when it is a string, else "" (exp_str: absent is empty).
 * @param {*} s
 * @returns {string}
 */
export function str(s) {
  return typeof s === 'string' ? s : '';
}

/**
 * A party's label: its name, or its id when the name is empty, or "" (exp_party_label).
 * @param {{id?: string, name?: string}|null|undefined} p
 * @returns {string}
 */
export function partyLabel(p) {
  if (p == null) return '';
  return str(p.name) !== '' ? p.name : str(p.id);
}

/**
 * The UTF-8 bytes of s.
 * @param {string} s
 * @returns {Uint8Array}
 */
export function utf8(s) {
  return utf8Encoder.encode(s);
}

/**
 * What C's snprintf(buf, cap, "%s", s) keeps of s: its first cap - 1 UTF-8 bytes. ok is false
 * when the cut splits a character (the kept bytes are then not UTF-8).
 * @param {string} s
 * @param {number} cap the C buffer's size
 * @returns {{bytes: Uint8Array, text: string, ok: boolean}}
 */
export function cTrunc(s, cap) {
  const b = utf8(s);
  if (b.length <= cap - 1) return { bytes: b, text: s, ok: true };
  let n = cap - 1;
  const bytes = b.subarray(0, n);
  let ok = true;
  // a cut inside a sequence leaves a lead byte without all its continuation bytes
  let i = n - 1;
  while (i >= 0 && (b[i] & 0xc0) === 0x80) i--;
  if (i >= 0 && b[i] >= 0x80) {
    const need = b[i] >= 0xf0 ? 4 : b[i] >= 0xe0 ? 3 : 2;
    if (n - i < need) ok = false;
  }
  return { bytes, text: utf8Decoder.decode(bytes), ok };
}

/* Whether s is absent or a string that C holds: well-formed, no U+0000, at most max UTF-8 bytes. */
function strOk(s, max) {
  if (s === undefined || s === null) return true;
  if (typeof s !== 'string' || !wellFormed(s) || s.includes('\u0000')) return false;
  return max === undefined || utf8(s).length <= max;
}

const intOk = (v) =>
  v === undefined || v === null || (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647);
const msOk = (v) => v === undefined || v === null || Number.isSafeInteger(v);

/**
 * Checks that input can be exported, as exp_input_check does: a doc, a recId, a version of at
 * least 1, an orgOid, every string valid Unicode (no lone surrogate, no U+0000) that fits its C
 * field, at most 20 items, the names of codes, types, kinds and states strings when given (what
 * gen_export_json can hold); with needIns also a card with an INS.
 * @param {object} input an ExportInput
 * @param {boolean} needIns whether the format needs the card's INS (CDA, XDM)
 * @throws {ExportError} BAD_FIELD (its detail the field at fault), or INVALID_ARG when input is
 *   not an object
 */
export function checkInput(input, needIns) {
  if (input === null || typeof input !== 'object') throw new ExportError('INVALID_ARG');
  const bad = (what) => new ExportError('BAD_FIELD', what);
  const { ITEMS_MAX, TEXT_MAX, LONG_MAX, SHORT_MAX } = LIMITS;
  const d = input.doc;
  if (d === null || typeof d !== 'object') throw bad('doc');
  if (typeof input.recId !== 'string' || input.recId === '') throw bad('recId');
  if (!Number.isInteger(input.version) || input.version < 1 || input.version > 2147483647)
    throw bad('version');
  if (typeof input.orgOid !== 'string' || input.orgOid === '') throw bad('orgOid');
  const docFields = [
    ['question', TEXT_MAX],
    ['dataBasis', LONG_MAX],
    ['safety', TEXT_MAX],
    ['diagnosis', TEXT_MAX],
    ['narrative', LONG_MAX],
    ['contingency', TEXT_MAX],
    ['disclaimer', LONG_MAX],
    ['questionCode'],
  ];
  for (const [k, max] of docFields) if (!strOk(d[k], max)) throw bad(k);
  for (const k of ['day', 'reviewDay', 'nextReviewDay']) if (!intOk(d[k])) throw bad(k);
  const items = d.items ?? [];
  if (!Array.isArray(items) || items.length > ITEMS_MAX) throw bad('items');
  for (const it of items) {
    if (it === null || typeof it !== 'object') throw bad('items');
    const itemFields = [
      ['drug', SHORT_MAX],
      ['dose', SHORT_MAX],
      ['titration', TEXT_MAX],
      ['monitoring', TEXT_MAX],
      ['text', TEXT_MAX],
      ['type'],
    ];
    for (const [k, max] of itemFields) if (!strOk(it[k], max)) throw bad(k);
  }
  const c = input.card;
  if (c !== undefined && c !== null) {
    if (typeof c !== 'object') throw bad('card');
    const cardFields = [
      ['birthName', SHORT_MAX],
      ['givenNames', SHORT_MAX],
      ['firstGiven', SHORT_MAX],
      ['usedName', SHORT_MAX],
      ['ins', LIMITS.INS_LEN],
      ['birthPlace', LIMITS.BIRTH_PLACE],
      ['sex'],
      ['insKind'],
    ];
    for (const [k, max] of cardFields) if (!strOk(c[k], max)) throw bad(k);
    for (const k of ['day', 'birthDay']) if (!intOk(c[k])) throw bad(k);
  }
  for (const k of ['author', 'gp', 'nurse']) {
    const p = input[k];
    if (p === undefined || p === null) continue;
    if (typeof p !== 'object' || !strOk(p.id) || !strOk(p.name)) throw bad(k);
  }
  for (const k of ['recId', 'threadId', 'patientRef', 'state', 'decision', 'reason', 'site', 'orgOid'])
    if (!strOk(input[k])) throw bad(k);
  for (const k of ['sentMs', 'ackedMs', 'decidedMs', 'implementedMs', 'verifiedMs'])
    if (!msOk(input[k])) throw bad(k);
  if (needIns && !hasIns(c)) throw bad('card');
}

/**
 * The input checked (checkInput) and with every absent part filled in as the C structs hold it:
 * "" for a string, 0 for a day or a time, -1 for an absent reviewDay, false for urgent, an
 * empty party {id: '', name: ''}; card stays null when absent. The builders work on this.
 * @param {object} input an ExportInput
 * @param {boolean} needIns
 * @returns {object} a normalised ExportInput
 * @throws {ExportError} BAD_FIELD
 */
export function prepare(input, needIns) {
  checkInput(input, needIns);
  const d = input.doc;
  const int = (v, dflt) => (Number.isInteger(v) ? v : dflt);
  const doc = {
    day: int(d.day, 0),
    reviewDay: int(d.reviewDay, -1),
    urgent: d.urgent === true,
    questionCode: str(d.questionCode),
    question: str(d.question),
    dataBasis: str(d.dataBasis),
    safety: str(d.safety),
    diagnosis: str(d.diagnosis),
    items: (d.items ?? []).map((it) => ({
      type: str(it.type),
      drug: str(it.drug),
      dose: str(it.dose),
      titration: str(it.titration),
      monitoring: str(it.monitoring),
      text: str(it.text),
    })),
    narrative: str(d.narrative),
    contingency: str(d.contingency),
    nextReviewDay: int(d.nextReviewDay, 0),
    disclaimer: str(d.disclaimer),
  };
  const c = input.card;
  const card =
    c == null
      ? null
      : {
          day: int(c.day, 0),
          birthName: str(c.birthName),
          givenNames: str(c.givenNames),
          firstGiven: str(c.firstGiven),
          usedName: str(c.usedName),
          birthDay: int(c.birthDay, 0),
          sex: typeof c.sex === 'string' && c.sex !== '' ? c.sex : 'U',
          insKind: typeof c.insKind === 'string' ? c.insKind : 'none',
          ins: str(c.ins),
          birthPlace: str(c.birthPlace),
        };
  const party = (p) => ({ id: str(p?.id), name: str(p?.name) });
  const ms = (v) => (Number.isSafeInteger(v) ? v : 0);
  return {
    doc,
    card,
    recId: input.recId,
    version: input.version,
    threadId: str(input.threadId),
    patientRef: str(input.patientRef),
    state: str(input.state),
    decision: typeof input.decision === 'string' ? input.decision : null,
    reason: str(input.reason),
    sentMs: ms(input.sentMs),
    ackedMs: ms(input.ackedMs),
    decidedMs: ms(input.decidedMs),
    implementedMs: ms(input.implementedMs),
    verifiedMs: ms(input.verifiedMs),
    author: party(input.author),
    gp: party(input.gp),
    nurse: party(input.nurse),
    site: str(input.site),
    orgOid: input.orgOid,
  };
}

const HEX = '0123456789abcdef';

/**
 * A lowercase 8-4-4-4-12 UUID (version 4 and variant bits set) from the first 16 bytes of the
 * BLAKE2b-256 of text's UTF-8 bytes (exp_uuid).
 * @param {string|Uint8Array} text
 * @returns {string}
 */
export function uuid(text) {
  const bytes = typeof text === 'string' ? utf8(text) : text;
  const h = sodium.crypto_generichash(32, bytes, null);
  h[6] = (h[6] & 0x0f) | 0x40;
  h[8] = (h[8] & 0x3f) | 0x80;
  let out = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) out += '-';
    out += HEX[h[i] >> 4] + HEX[h[i] & 0x0f];
  }
  return out;
}

/**
 * The UUID of what C hashes after snprintf(text, 256, ...): the first 255 UTF-8 bytes of text.
 * @param {string} text
 * @returns {string}
 */
export function uuid256(text) {
  return uuid(cTrunc(text, 256).bytes);
}

/**
 * A UUID as an OID under 2.25: its 128 bits in decimal (exp_uuid_oid).
 * @param {string} id a UUID
 * @returns {string}
 */
export function uuidOid(id) {
  const hex = id.replace(/[^0-9a-f]/g, '').slice(0, 32).padEnd(32, '0');
  return '2.25.' + BigInt('0x' + hex).toString(10);
}

/* Days since 1970-01-01 as [year, month, day] (H. Hinnant's civil_from_days, any sign). */
function civil(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

const p2 = (n) => String(n).padStart(2, '0');

/**
 * C's ms / 1000 on an int64_t: the seconds of ms, rounded toward zero, in integer arithmetic
 * (what export_pdf.c and export_xdm.c hand to gmtime_r).
 * @param {number} ms a safe integer
 * @returns {number}
 */
export function cSeconds(ms) {
  return (ms - (ms % 1000)) / 1000;
}

/**
 * The broken-down UTC time of ms (milliseconds since 1970), seconds rounded down as C's utc_tm
 * (ms / 1000, one less for a negative ms with a remainder).
 * @param {number} ms a safe integer
 * @returns {{year: number, mon: number, mday: number, hour: number, min: number, sec: number}}
 */
export function utcParts(ms) {
  const s = cSeconds(ms);
  return partsOfSeconds(ms < 0 && ms % 1000 !== 0 ? s - 1 : s);
}

/**
 * The broken-down UTC time of a count of seconds since 1970.
 * @param {number} s
 * @returns {{year: number, mon: number, mday: number, hour: number, min: number, sec: number}}
 */
export function partsOfSeconds(s) {
  const days = Math.floor(s / 86400);
  const rem = s - days * 86400;
  const [year, mon, mday] = civil(days);
  return { year, mon, mday, hour: Math.floor(rem / 3600), min: Math.floor((rem % 3600) / 60), sec: rem % 60 };
}

/* glibc's strftime %Y: the year in decimal, unpadded, with its sign. */
const yearText = (y) => String(y);

/**
 * ms as "YYYYMMDDHHMMSS" in UTC (exp_time_hl7).
 * @param {number} ms
 * @returns {string}
 */
export function timeHl7(ms) {
  const t = utcParts(ms);
  return yearText(t.year) + p2(t.mon) + p2(t.mday) + p2(t.hour) + p2(t.min) + p2(t.sec);
}

/**
 * ms as "YYYY-MM-DDTHH:MM:SSZ" (exp_time_iso).
 * @param {number} ms
 * @returns {string}
 */
export function timeIso(ms) {
  const t = utcParts(ms);
  return `${yearText(t.year)}-${p2(t.mon)}-${p2(t.mday)}T${p2(t.hour)}:${p2(t.min)}:${p2(t.sec)}Z`;
}

/**
 * ms as "YYYY-MM-DD HH:MM UTC" (exp_time_text).
 * @param {number} ms
 * @returns {string}
 */
export function timeText(ms) {
  const t = utcParts(ms);
  return `${yearText(t.year)}-${p2(t.mon)}-${p2(t.mday)} ${p2(t.hour)}:${p2(t.min)} UTC`;
}

/**
 * A day number as "YYYY-MM-DD", or "0000-00-00" outside DAY_MIN..DAY_MAX (ses_day_format).
 * @param {number} day
 * @returns {string}
 */
export const dayIso = dayFormat;

/**
 * A day number as "YYYYMMDD" (exp_day_hl7).
 * @param {number} day
 * @returns {string}
 */
export function dayHl7(day) {
  const iso = dayIso(day);
  return iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10);
}

/**
 * The LOINC code of the CDA: "34794-8" from a case review (reviewDay >= 0), else "11488-4".
 * @param {object} doc a RecDoc
 * @returns {string}
 */
export function docCode(doc) {
  return doc != null && doc.reviewDay >= 0 ? '34794-8' : '11488-4';
}

/**
 * The displayName of docCode(doc) (exp_doc_display).
 * @param {object} doc a RecDoc
 * @returns {string}
 */
export function docDisplay(doc) {
  return doc.reviewDay >= 0
    ? 'CR de réunion de concertation pluridisciplinaire'
    : 'CR ou fiche de consultation ou de visite';
}

/**
 * The day of the service event: the review day, or the day written when ad hoc.
 * @param {object} doc a RecDoc
 * @returns {number}
 */
export function serviceDay(doc) {
  return doc.reviewDay >= 0 ? doc.reviewDay : doc.day;
}

/**
 * The CDA's id and setId (exp_cda_ids): UUIDs of "sesame-cda|REC|VERSION" and "sesame-cda|REC".
 * @param {object} input an ExportInput
 * @returns {{id: string, setId: string}}
 */
export function cdaIds(input) {
  return {
    id: uuid256(`sesame-cda|${input.recId}|${input.version}`),
    setId: uuid256(`sesame-cda|${input.recId}`),
  };
}

/* The base letter of U+00C0..U+00FF. */
const LATIN1_BASE = 'AAAAAAACEEEEIIIIDNOOOOOxOUUUUYTsaaaaaaaceeeeiiiidnooooo/ouuuuyty';
const LIGATURES = { 0xc6: 'AE', 0xe6: 'ae', 0x152: 'OE', 0x153: 'oe', 0xdf: 'ss' };

/**
 * s transliterated to printable ASCII as exp_ascii does: accented Latin letters lose their
 * accents, ligatures and typographic dashes, quotes and the no-break space get ASCII forms, CR,
 * LF and TAB stay, anything else becomes '?'.
 * @param {string} s
 * @returns {string}
 */
export function ascii(s) {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (has(LIGATURES, c)) out += LIGATURES[c];
    else if (c >= 0xc0 && c <= 0xff) out += LATIN1_BASE[c - 0xc0];
    else if (c === 0x0a || c === 0x0d || c === 0x09 || (c >= 0x20 && c < 0x7f)) out += ch;
    else if (c === 0x2013 || c === 0x2014) out += '-';
    else if (c === 0x2018 || c === 0x2019) out += "'";
    else if (c === 0x201c || c === 0x201d) out += '"';
    else if (c === 0xa0) out += ' ';
    else out += '?';
  }
  return out;
}

/* libxml2's xmlEncodeSpecialChars (element text): & < > " and CR. */
function escText(s) {
  return s.replace(/[&<>"\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#13;',
  );
}

/* libxml2's xmlBufAttrSerializeTxtContent for a document with an encoding: LF CR TAB " < > &. */
function escAttr(s) {
  return s.replace(/[\n\r\t"<>&]/g, (c) =>
    c === '\n'
      ? '&#10;'
      : c === '\r'
        ? '&#13;'
        : c === '\t'
          ? '&#9;'
          : c === '"'
            ? '&quot;'
            : c === '<'
              ? '&lt;'
              : c === '>'
                ? '&gt;'
                : '&amp;',
  );
}

const NAME = 1; // start tag open: attributes may follow
const TEXT = 2; // start tag closed: content written

/**
 * The XML libxml2 2.9's xmlTextWriter writes with indentation on (two spaces), the UTF-8
 * declaration and the calls of export_xml.c: start/attr/text/end/elem, then close() for the
 * bytes. An element without content ends as "/>", one with text keeps it on its line, one with
 * child elements gets its end tag on a line of its own.
 */
export class XmlWriter {
  constructor() {
    /** @type {string[]} */
    this.out = ['<?xml version="1.0" encoding="UTF-8"?>\n'];
    /** @type {{name: string, state: number}[]} */
    this.stack = [];
    this.doindent = false;
  }

  /** @param {string} name element name ("prefix:name" as given) */
  start(name) {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.state === NAME) {
      this.out.push('>\n');
      top.state = TEXT;
    }
    this.stack.push({ name, state: NAME });
    this.out.push('  '.repeat(this.stack.length - 1), '<', name);
  }

  /**
   * @param {string} name
   * @param {string} value
   */
  attr(name, value) {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined || top.state !== NAME) throw new ExportError('IO');
    this.out.push(' ', name, '="', escAttr(value), '"');
  }

  /** @param {string} text escaped text content */
  text(text) {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined && top.state === NAME) {
      this.out.push('>');
      top.state = TEXT;
    }
    this.doindent = false;
    this.out.push(escText(text));
  }

  /** Ends the current element. */
  end() {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) throw new ExportError('IO');
    if (top.state === NAME) {
      this.doindent = true;
      this.out.push('/>');
    } else {
      if (this.doindent) this.out.push('  '.repeat(this.stack.length - 1));
      this.doindent = true;
      this.out.push('</', top.name, '>');
    }
    this.out.push('\n');
    this.stack.pop();
  }

  /**
   * An element with text content.
   * @param {string} name
   * @param {string} text
   */
  elem(name, text) {
    this.start(name);
    this.text(text);
    this.end();
  }

  /**
   * Ends every open element and returns the document's UTF-8 bytes.
   * @returns {Uint8Array}
   */
  close() {
    while (this.stack.length > 0) this.end();
    return utf8(this.out.join(''));
  }
}
