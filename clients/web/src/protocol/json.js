// json.js - strict UTF-8 and a strict JSON reader for the bodies the C library reads with
// jansson (JSON_REJECT_DUPLICATES, no JSON_DECODE_ANY) after its depth check (PROTOCOL.md §2,
// §14 "Parsing"): what jansson refuses, this refuses, so a browser never accepts a body the CLI
// refuses. JSON.parse cannot be used: it keeps the last of duplicate keys, reads 1.0 as 1,
// rounds big integers and lets lone surrogates and U+0000 through. Pure.

import { check } from './errors.js';

export const SES_MAX_JSON_DEPTH = 16; // nesting of arrays/objects; the top-level object is 1

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const WS = ' \t\n\r';
const ESCAPES = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether s is well-formed UTF-16 (no lone surrogate), i.e. encodable as UTF-8 unchanged.
 * @param {string} s
 * @returns {boolean}
 */
export function wellFormed(s) {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    }
  }
  return true;
}

/**
 * The UTF-8 bytes of a well-formed string.
 * @param {string} s
 * @returns {Uint8Array}
 * @throws {SesError} INVALID_ARG when s is not a well-formed string
 */
export function utf8Encode(s) {
  check(typeof s === 'string' && wellFormed(s), 'INVALID_ARG', 'not a well-formed string');
  return encoder.encode(s);
}

/**
 * Bytes as text, strictly: shortest forms only, no surrogates, nothing above U+10FFFF; a
 * byte-order mark is kept as a character (never silently dropped).
 * @param {Uint8Array} bytes
 * @returns {string|null} the text, or null when bytes are not UTF-8
 */
export function utf8Decode(bytes) {
  try {
    return decoder.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * The number of UTF-8 bytes of a well-formed string.
 * @param {string} s
 * @returns {number}
 */
export function utf8Length(s) {
  return encoder.encode(s).length;
}

/**
 * Bytes of a body given as bytes or as text (text must be well-formed).
 * @param {Uint8Array|ArrayBuffer|string} body
 * @returns {Uint8Array|null} null for anything else, or text with a lone surrogate
 */
export function bodyBytes(body) {
  if (body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (typeof body === 'string' && wellFormed(body)) return encoder.encode(body);
  return null;
}

/**
 * The deepest nesting of arrays and objects in the bytes, counted outside strings exactly as
 * ses_json_depth does (before any parsing), stopping at limit + 1.
 * @param {Uint8Array} bytes
 * @param {number} limit
 * @returns {number}
 */
export function jsonDepth(bytes, limit) {
  let depth = 0;
  let max = 0;
  let inStr = false;
  let esc = false;
  for (const c of bytes) {
    if (inStr) {
      if (esc) esc = false;
      else if (c === 0x5c) esc = true;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) {
      inStr = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) max = depth;
      if (max > limit) return limit + 1;
    } else if ((c === 0x7d || c === 0x5d) && depth > 0) {
      depth--;
    }
  }
  return max;
}

/** A cursor over the text being read; every refusal throws SesError(code). */
class Reader {
  constructor(text, code) {
    this.s = text;
    this.i = 0;
    this.code = code;
  }

  fail(what) {
    check(false, this.code, what);
  }

  ws() {
    while (this.i < this.s.length && WS.includes(this.s[this.i])) this.i++;
  }

  expect(ch) {
    if (this.s[this.i] !== ch) this.fail(`'${ch}' expected at ${this.i}`);
    this.i++;
  }

  value() {
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]]) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.number();
  }

  object() {
    const out = new Map();
    this.expect('{');
    this.ws();
    if (this.s[this.i] === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.ws();
      const key = this.string();
      if (out.has(key)) this.fail(`duplicate key "${key}"`);
      this.ws();
      this.expect(':');
      out.set(key, this.value());
      this.ws();
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      this.expect(',');
    }
  }

  array() {
    const out = [];
    this.expect('[');
    this.ws();
    if (this.s[this.i] === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ']') {
        this.i++;
        return out;
      }
      this.expect(',');
    }
  }

  hex4() {
    const h = this.s.slice(this.i, this.i + 4);
    if (!HEX4.test(h)) this.fail(`bad \\u escape at ${this.i}`);
    this.i += 4;
    return parseInt(h, 16);
  }

  /* \uXXXX (the backslash and u already read): one code point, a pair joined; no U+0000, no
   * lone surrogate (jansson refuses both). */
  unicodeEscape() {
    const hi = this.hex4();
    if (hi === 0) this.fail('\\u0000');
    if (hi >= 0xdc00 && hi <= 0xdfff) this.fail('lone low surrogate');
    if (hi < 0xd800 || hi > 0xdbff) return String.fromCharCode(hi);
    if (!this.s.startsWith('\\u', this.i)) this.fail('lone high surrogate');
    this.i += 2;
    const lo = this.hex4();
    if (lo < 0xdc00 || lo > 0xdfff) this.fail('lone high surrogate');
    return String.fromCharCode(hi, lo);
  }

  string() {
    this.expect('"');
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail('unterminated string');
      const c = this.s[this.i++];
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) this.fail('control character in a string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.s[this.i++];
      if (e === 'u') out += this.unicodeEscape();
      else if (e !== undefined && Object.hasOwn(ESCAPES, e)) out += ESCAPES[e];
      else this.fail('bad escape');
    }
  }

  /* An integer token is a BigInt (refused outside int64, as jansson does); a number with a
   * fraction or an exponent is a Number (refused when it overflows a double). */
  number() {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (m === null) this.fail(`invalid token at ${this.i}`);
    this.i += m[0].length;
    if (m[1] === undefined && m[2] === undefined) {
      const v = BigInt(m[0]);
      if (v < INT64_MIN || v > INT64_MAX) this.fail('integer out of range');
      return v;
    }
    const v = Number(m[0]);
    if (!Number.isFinite(v)) this.fail('real number overflow');
    return v;
  }
}

/**
 * Reads one JSON text strictly: objects become Maps (a duplicate key is refused), arrays arrays,
 * strings strings, integer tokens BigInts, other numbers Numbers, and true, false, null. Refuses
 * bytes that are not UTF-8, nesting deeper than maxDepth, anything but one value surrounded by
 * JSON whitespace, U+0000 anywhere, lone surrogates, control characters in strings, leading
 * zeros, integers outside int64 and reals that overflow.
 * @param {Uint8Array} bytes
 * @param {string} code the err.h name thrown on refusal (e.g. 'BAD_SCALE')
 * @param {number} [maxDepth] SES_MAX_JSON_DEPTH by default
 * @returns {Map|Array|string|bigint|number|boolean|null}
 * @throws {SesError} code
 */
export function strictJsonParse(bytes, code, maxDepth = SES_MAX_JSON_DEPTH) {
  check(jsonDepth(bytes, maxDepth) <= maxDepth, code, 'nested too deep');
  const text = utf8Decode(bytes);
  check(text !== null, code, 'not UTF-8');
  const r = new Reader(text, code);
  const v = r.value();
  r.ws();
  check(r.i === text.length, code, 'trailing bytes');
  return v;
}
