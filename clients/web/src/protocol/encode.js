// encode.js - the wire's text and integer encodings (PROTOCOL.md §4, §5, §10): hex, base64url
// without padding (keys, nonces, signatures, envelopes), base32 (RFC 4648 alphabet, no padding)
// for ids and enrolment codes, big-endian integers (u64 as BigInt), byte concatenation and
// UTF-8. Every decoder is strict (exact length, canonical trailing bits, no stray characters) and
// throws a SesError (BAD_FIELD); the C twin is protocol/src/encode.c. Pure: no DOM, no sodium.

import { SesError } from './errors.js';

const HEX = '0123456789abcdef';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B32 = 'abcdefghijklmnopqrstuvwxyz234567';
const U64_MAX = (1n << 64n) - 1n;
const UTF8_ENCODER = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UTF8_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Bytes of a 16-byte id (user, device, thread, message). */
export const ID_BYTES = 16;
/** Characters of an id's base32 text. */
export const ID_TEXT_LEN = 26;

/** 6-bit value of each base64url character code (0..127), or -1. */
const B64URL_VAL = valueTable(B64URL, false);
/** 5-bit value of each base32 character code, either case, or -1. */
const B32_VAL = valueTable(B32, true);

function valueTable(alphabet, bothCases) {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < alphabet.length; i++) {
    t[alphabet.charCodeAt(i)] = i;
    if (bothCases) t[alphabet.toUpperCase().charCodeAt(i)] = i;
  }
  return t;
}

function badField(what) {
  return new SesError('BAD_FIELD', what);
}

/** Value of character i of text in table, or -1 (non-ASCII included). */
function charValue(table, text, i) {
  const c = text.charCodeAt(i);
  return c < 128 ? table[c] : -1;
}

/**
 * Checks that b is a Uint8Array (of n bytes when n is given).
 * @param {unknown} b
 * @param {number} [n]
 * @param {string} [what] named in the error
 * @returns {Uint8Array} b
 * @throws {SesError} INVALID_ARG
 */
export function bytes(b, n, what = 'bytes') {
  if (!(b instanceof Uint8Array) || (n !== undefined && b.length !== n)) {
    throw new SesError('INVALID_ARG', `${what}: need ${n ?? 'some'} bytes`);
  }
  return b;
}

/**
 * Lower-case hex of bytes.
 * @param {Uint8Array} b
 * @returns {string}
 */
export function toHex(b) {
  let s = '';
  for (const x of bytes(b)) s += HEX[x >> 4] + HEX[x & 15];
  return s;
}

/**
 * Bytes of a hex string (either case; even length; exactly n bytes when n is given).
 * @param {string} text
 * @param {number} [n]
 * @returns {Uint8Array}
 * @throws {SesError} BAD_FIELD
 */
export function fromHex(text, n) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw badField('not hex');
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
  if (n !== undefined && out.length !== n) throw badField(`hex of ${n} bytes expected`);
  return out;
}

/**
 * Text length of n bytes in base64url without padding.
 * @param {number} n
 * @returns {number}
 */
export function b64Len(n) {
  return Math.floor(n / 3) * 4 + (n % 3 === 0 ? 0 : (n % 3) + 1);
}

/**
 * base64url of bytes, without padding.
 * @param {Uint8Array} b
 * @returns {string}
 */
export function toB64url(b) {
  bytes(b);
  const out = [];
  let i = 0;
  for (; i + 3 <= b.length; i += 3) {
    const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out.push(B64URL[v >> 18], B64URL[(v >> 12) & 63], B64URL[(v >> 6) & 63], B64URL[v & 63]);
  }
  if (b.length - i === 1) {
    out.push(B64URL[b[i] >> 2], B64URL[(b[i] & 3) << 4]);
  } else if (b.length - i === 2) {
    const v = (b[i] << 8) | b[i + 1];
    out.push(B64URL[v >> 10], B64URL[(v >> 4) & 63], B64URL[(v & 15) << 2]);
  }
  return out.join('');
}

/**
 * Bytes of base64url text without padding: URL-safe characters only, no '=', length % 4 != 1,
 * unused trailing bits zero (the one canonical text of the bytes); exactly n bytes when n is
 * given.
 * @param {string} text
 * @param {number} [n]
 * @returns {Uint8Array}
 * @throws {SesError} BAD_FIELD
 */
export function fromB64url(text, n) {
  if (typeof text !== 'string' || text.length % 4 === 1) throw badField('not base64url');
  const out = new Uint8Array(Math.floor((text.length * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const v = charValue(B64URL_VAL, text, i);
    if (v < 0) throw badField('not base64url');
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw badField('non-canonical base64url');
  if (n !== undefined && out.length !== n) throw badField(`base64url of ${n} bytes expected`);
  return out;
}

/**
 * base32 (RFC 4648 alphabet, no padding) of bytes: lower case, or upper case when upper.
 * @param {Uint8Array} b
 * @param {boolean} [upper]
 * @returns {string}
 */
export function toB32(b, upper = false) {
  bytes(b);
  let acc = 0;
  let bits = 0;
  let s = '';
  for (const x of b) {
    acc = ((acc << 8) | x) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      s += B32[(acc >> bits) & 31];
    }
  }
  if (bits > 0) s += B32[(acc << (5 - bits)) & 31];
  return upper ? s.toUpperCase() : s;
}

/**
 * Exactly n bytes from base32 text (either case, no padding, nothing else, canonical trailing
 * bits), as ses_b32_decode.
 * @param {string} text
 * @param {number} n
 * @returns {Uint8Array}
 * @throws {SesError} BAD_FIELD
 */
export function fromB32(text, n) {
  if (typeof text !== 'string' || text.length !== Math.floor((n * 8 + 4) / 5)) {
    throw badField('not base32 of the right length');
  }
  const out = new Uint8Array(n);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const v = charValue(B32_VAL, text, i);
    if (v < 0) throw badField('not base32');
    acc = ((acc << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) throw badField('non-canonical base32');
  return out;
}

/**
 * The text of a 16-byte id: 26 lower-case base32 characters.
 * @param {Uint8Array} id
 * @returns {string}
 */
export function idToText(id) {
  return toB32(bytes(id, ID_BYTES, 'id'));
}

/**
 * The 16 bytes of an id's text (26 base32 characters; like the C library, either case).
 * @param {string} text
 * @returns {Uint8Array}
 * @throws {SesError} BAD_FIELD
 */
export function idFromText(text) {
  return fromB32(text, ID_BYTES);
}

/**
 * Canonical (lower-case) text of an id text, or null when it is not an id.
 * @param {unknown} text
 * @returns {string|null}
 */
export function canonicalId(text) {
  try {
    return idToText(idFromText(text));
  } catch {
    return null;
  }
}

/**
 * A u64 value as a BigInt: a non-negative safe integer Number, or a BigInt 0..2^64-1, or a
 * decimal string of one (as the vectors write them).
 * @param {number|bigint|string} v
 * @returns {bigint}
 * @throws {SesError} INVALID_ARG
 */
export function toU64(v) {
  let b;
  if (typeof v === 'bigint') b = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) b = BigInt(v);
  else if (typeof v === 'string' && /^(0|[1-9][0-9]{0,19})$/.test(v)) b = BigInt(v);
  if (b === undefined || b < 0n || b > U64_MAX) throw new SesError('INVALID_ARG', 'not a u64');
  return b;
}

/**
 * n big-endian bytes of an unsigned integer (n <= 8; a Number or BigInt that fits).
 * @param {number|bigint} v
 * @param {number} n
 * @returns {Uint8Array}
 */
export function beBytes(v, n) {
  let x = toU64(v);
  if (n < 8 && x >> BigInt(8 * n) !== 0n) throw new SesError('INVALID_ARG', 'does not fit');
  const out = new Uint8Array(n);
  for (let i = n - 1; i >= 0; i--, x >>= 8n) out[i] = Number(x & 0xffn);
  return out;
}

/** @param {number} v @returns {Uint8Array} 4 big-endian bytes */
export const u32be = (v) => beBytes(v, 4);
/** @param {number|bigint} v @returns {Uint8Array} 8 big-endian bytes */
export const u64be = (v) => beBytes(v, 8);

/**
 * The unsigned big-endian integer of b[off, off + n) as a BigInt.
 * @param {Uint8Array} b
 * @param {number} off
 * @param {number} n
 * @returns {bigint}
 */
export function readBe(b, off, n) {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 8n) | BigInt(b[off + i]);
  return v;
}

/** @param {Uint8Array} b @param {number} off @returns {number} the u32 at off */
export const readU32be = (b, off) => Number(readBe(b, off, 4));
/** @param {Uint8Array} b @param {number} off @returns {bigint} the u64 at off */
export const readU64be = (b, off) => readBe(b, off, 8);

/**
 * The concatenation of byte arrays.
 * @param {...Uint8Array} parts
 * @returns {Uint8Array}
 */
export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += bytes(p).length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * A context string and its NUL (the prefix of every signed or hashed structure).
 * @param {string} ctx ASCII
 * @returns {Uint8Array}
 */
export function context(ctx) {
  return concat(utf8Encode(ctx), new Uint8Array(1));
}

/**
 * UTF-8 bytes of a string; a lone surrogate (not text) is refused.
 * @param {string} s
 * @returns {Uint8Array}
 * @throws {SesError} BAD_FIELD
 */
export function utf8Encode(s) {
  if (typeof s !== 'string' || LONE_SURROGATE.test(s)) throw badField('not text');
  return UTF8_ENCODER.encode(s);
}

/**
 * The string of UTF-8 bytes; malformed UTF-8 (overlong forms, surrogates, past U+10FFFF) is
 * refused, a leading BOM is kept.
 * @param {Uint8Array} b
 * @returns {string}
 * @throws {SesError} BAD_FIELD
 */
export function utf8Decode(b) {
  try {
    return UTF8_DECODER.decode(bytes(b));
  } catch {
    throw badField('not valid UTF-8');
  }
}

/**
 * Byte-wise equality of public bytes (ids, public keys); not constant time: compare secrets
 * with sodium.memcmp.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {boolean}
 */
export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Order of two byte arrays (memcmp): negative, 0 or positive.
 * @param {Uint8Array} a
 * @param {Uint8Array} b
 * @returns {number}
 */
export function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
