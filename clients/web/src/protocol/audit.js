// audit.js - the auditor's checks of the tamper-evident audit log, in the browser (PROTOCOL.md
// §8 audit records, §9 the Merkle tree, checkpoints, requests and what `sesame audit verify`
// checks). The same checks, in the same order and with the same messages, as the CLI's
// clients/cli/cmd_audit_verify.c over protocol/src/merkle.c and protocol/src/note.c; pinned to
// them by protocol/vectors/audit.json. No DOM: runs in node and in the browser.
//
// SHA-256 is WebCrypto's (libsodium.js has none), so hashing functions are async; Ed25519 is
// libsodium's. Sizes and seqs are JavaScript numbers: a checkpoint above 2^53 - 1 records is
// refused as malformed (the C side counts to 2^63; no server gets there).

import sodium from 'libsodium-wrappers';

/** Records per audit_leaves request (the server's maximum), as the CLI asks for them. */
export const PAGE = 1000;
const HASH_BYTES = 32;
const MAX_PROOF = 64;
const MAX_SIGS = 16;
const NAME_MAX = 255;
const KEY_ID_BYTES = 4;
const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 ';
const B64_STD = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const encoder = new TextEncoder();

/** A refusal by a parser of this module: `code` is `BAD_FIELD` or `AUTH_FAILED` (as note.c). */
export class AuditError extends Error {
  /**
   * @param {string} code
   * @param {string} message
   */
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

// --- bytes and encodings -----------------------------------------------------------------------

const utf8 = (data) => (typeof data === 'string' ? encoder.encode(data) : data);

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Equal byte strings, compared without an early exit. */
function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

const toHex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Standard base64 (RFC 4648 §4), padded: the strict decoder of note.c, or null. */
function b64StdDecode(s) {
  if (s.length % 4 !== 0) return null;
  const out = [];
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    let acc = 0;
    let pad = 0;
    for (let k = 0; k < 4; k++) {
      const v = B64_STD.indexOf(s[i + k]);
      if (v < 0 && (s[i + k] !== '=' || !last || k < 2)) return null;
      if (v >= 0 && pad > 0) return null;
      if (v < 0) pad++;
      acc = acc * 64 + Math.max(v, 0);
    }
    if ((pad === 1 && acc % 256 !== 0) || (pad === 2 && acc % 65536 !== 0)) return null;
    out.push(Math.floor(acc / 65536), Math.floor(acc / 256) % 256, acc % 256);
    out.length -= pad;
  }
  return Uint8Array.from(out);
}

/**
 * A 32-byte hash in base64url without padding (43 characters), decoded as encode.c's
 * ses_b64_decode does (over the UTF-8 bytes; a byte above 0x7f reads as '_'), or null.
 */
function b64urlHash(s) {
  if (typeof s !== 'string') return null;
  const t = encoder.encode(s);
  if (t.length !== 43) return null;
  const v = Array.from(t, (b) => (b >= 0x80 ? 63 : B64_URL.indexOf(String.fromCharCode(b))));
  if (v.some((x) => x < 0) || v[42] % 4 !== 0) return null;
  const out = new Uint8Array(HASH_BYTES);
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (const x of v) {
    acc = ((acc << 6) | x) & 0xffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** A JSON array of at most 64 base64url hashes, as the CLI's audit_get_proof, or null. */
function proofOf(arr) {
  if (!Array.isArray(arr) || arr.length > MAX_PROOF) return null;
  const proof = arr.map(b64urlHash);
  return proof.includes(null) ? null : proof;
}

const b64std = (bytes) => sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);

// --- hashes and the tree (merkle.c) ------------------------------------------------------------

async function sha256(...parts) {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', concat(...parts)));
}

/**
 * Leaf hash (§9): SHA-256(0x00 ‖ data). A string is hashed as its UTF-8 bytes, so a record's
 * `rec` text gives its canonical bytes' hash.
 * @param {string|Uint8Array} data
 * @returns {Promise<Uint8Array>} 32 bytes
 */
export function leafHash(data) {
  return sha256(Uint8Array.of(0), utf8(data));
}

/**
 * Node hash (§9): SHA-256(0x01 ‖ left ‖ right).
 * @param {Uint8Array} left 32 bytes
 * @param {Uint8Array} right 32 bytes
 * @returns {Promise<Uint8Array>}
 */
export function nodeHash(left, right) {
  return sha256(Uint8Array.of(1), left, right);
}

/**
 * The root of the empty tree: SHA-256 of nothing.
 * @returns {Promise<Uint8Array>}
 */
export function emptyRoot() {
  return sha256();
}

/** The right edge of a tree being rebuilt leaf by leaf (merkle.c's frontier). */
class Frontier {
  constructor() {
    this.size = 0;
    this.node = []; // node[level]: the complete subtree at that level, when bit `level` is set
  }

  async append(leaf) {
    let h = leaf;
    let level = 0;
    for (let n = this.size; n % 2 === 1; n = Math.floor(n / 2), level++) {
      h = await nodeHash(this.node[level], h);
    }
    this.node[level] = h;
    this.size++;
  }

  async root() {
    let out = null;
    for (let n = this.size, level = 0; n > 0; n = Math.floor(n / 2), level++) {
      if (n % 2 === 1) out = out ? await nodeHash(this.node[level], out) : this.node[level];
    }
    return out ?? emptyRoot();
  }
}

/**
 * The root (MTH) of the tree over these leaf hashes, in seq order.
 * @param {Uint8Array[]} leaves
 * @returns {Promise<Uint8Array>}
 */
export async function treeRoot(leaves) {
  const f = new Frontier();
  for (const leaf of leaves) await f.append(leaf);
  return f.root();
}

/** One step of the RFC 9162 walks: drop the low bits of a right edge. */
function climb(s) {
  while (s.fn % 2 === 0 && s.fn !== 0) {
    s.fn = Math.floor(s.fn / 2);
    s.sn = Math.floor(s.sn / 2);
  }
}

function halve(s) {
  s.fn = Math.floor(s.fn / 2);
  s.sn = Math.floor(s.sn / 2);
}

const validSize = (n) => Number.isSafeInteger(n) && n >= 0;

function isPowerOfTwo(n) {
  let m = n;
  while (m % 2 === 0) m /= 2;
  return m === 1;
}

/**
 * RFC 9162 §2.1.3.2: is `leaf` leaf `index` (0-based: seq - 1) of the tree of `size` leaves
 * whose root is `root`? The proof (leaf upwards) must have exactly the expected length.
 * @param {Uint8Array} leaf
 * @param {number} index
 * @param {number} size
 * @param {Uint8Array[]} proof
 * @param {Uint8Array} root
 * @returns {Promise<boolean>} false also for impossible arguments (index >= size)
 */
export async function verifyInclusion(leaf, index, size, proof, root) {
  if (!validSize(index) || !validSize(size) || index >= size || proof.length > MAX_PROOF) {
    return false;
  }
  const s = { fn: index, sn: size - 1 };
  let r = leaf;
  for (const p of proof) {
    if (s.sn === 0) return false; // proof too long
    if (s.fn % 2 === 1 || s.fn === s.sn) {
      r = await nodeHash(p, r);
      climb(s);
    } else {
      r = await nodeHash(r, p);
    }
    halve(s);
  }
  return s.sn === 0 && sameBytes(r, root);
}

/**
 * RFC 9162 §2.1.4.2: does the tree of `size2` leaves (root2) extend the tree of `size1` leaves
 * (root1)? Equal sizes need an empty proof and equal roots; size1 0 needs an empty proof and
 * root1 the empty root (as merkle.c: this proves nothing about root2).
 * @param {number} size1
 * @param {number} size2
 * @param {Uint8Array} root1
 * @param {Uint8Array} root2
 * @param {Uint8Array[]} proof
 * @returns {Promise<boolean>} false also for impossible arguments (size1 > size2)
 */
export async function verifyConsistency(size1, size2, root1, root2, proof) {
  if (!validSize(size1) || !validSize(size2) || size1 > size2) return false;
  const empty = await emptyRoot();
  if (size1 === size2) {
    const genuine = size1 !== 0 || sameBytes(root1, empty);
    return proof.length === 0 && sameBytes(root1, root2) && genuine;
  }
  if (size1 === 0) return proof.length === 0 && sameBytes(root1, empty);
  if (proof.length === 0 || proof.length > MAX_PROOF) return false;
  /* if size1 is a power of two, root1 is the implicit first path element */
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : proof;
  const s = { fn: size1 - 1, sn: size2 - 1 };
  while (s.fn % 2 === 1) halve(s);
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (s.sn === 0) return false; // proof too long
    if (s.fn % 2 === 1 || s.fn === s.sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      climb(s);
    } else {
      sr = await nodeHash(sr, c);
    }
    halve(s);
  }
  return s.sn === 0 && sameBytes(fr, root1) && sameBytes(sr, root2);
}

// --- signed notes and checkpoints (note.c) -----------------------------------------------------

const SPACES = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680, 0x2028, 0x2029,
  0x202f, 0x205f, 0x3000]);
const isSpace = (c) => SPACES.has(c) || (c >= 0x2000 && c <= 0x200a);
const isControl = (c) => c < 0x20 || c === 0x7f;
const isSurrogate = (c) => c >= 0xd800 && c <= 0xdfff;

/** Valid UTF-8 (no lone surrogate) without control characters, except '\n' if allowed. */
function textOk(s, newlines) {
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (isSurrogate(c) || (isControl(c) && !(newlines && c === 0x0a))) return false;
  }
  return true;
}

/** A key name: 1..255 bytes of UTF-8, no control character, Unicode space or '+'. */
function nameOk(s) {
  if (s.length === 0 || encoder.encode(s).length > NAME_MAX) return false;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (isSurrogate(c) || isControl(c) || isSpace(c) || ch === '+') return false;
  }
  return true;
}

/** crypto_core_ed25519_is_valid_point: canonical, on the curve, not of small order. */
function validPoint(pk) {
  const top = pk.subarray(1, 31).every((b) => b === 0xff) && (pk[31] & 0x7f) === 0x7f;
  if (top && pk[0] >= 0xed) return false;
  try {
    sodium.crypto_sign_ed25519_pk_to_curve25519(pk);
    return true;
  } catch {
    return false;
  }
}

/**
 * Key id of an Ed25519 note key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ pk)[:4].
 * @param {string} name
 * @param {Uint8Array} pk 32 bytes
 * @returns {Promise<Uint8Array>} 4 bytes
 */
export async function keyId(name, pk) {
  return (await sha256(encoder.encode(name), Uint8Array.of(0x0a, ALG_ED25519), pk)).slice(0, 4);
}

/**
 * Parses a verifier key, the form `sesame audit verify --log-key` takes and `sesamed log-key`
 * prints: `<name>+<8 lower-case hex key id>+<base64(0x01 ‖ public key)>`; the key id must match.
 * Call after `await ready()`.
 * @param {string} text
 * @returns {Promise<{name: string, id: Uint8Array, pk: Uint8Array}>}
 * @throws {AuditError} BAD_FIELD
 */
export async function parseVkey(text) {
  const bad = (why) => new AuditError('BAD_FIELD', `not a verifier key: ${why}`);
  const plus = typeof text === 'string' ? text.indexOf('+') : -1;
  if (plus < 0) throw bad('no key id');
  const name = text.slice(0, plus);
  const rest = text.slice(plus + 1);
  if (!nameOk(name) || rest.length !== 8 + 1 + 44 || rest[8] !== '+') throw bad('layout');
  if (!/^[0-9a-f]{8}$/.test(rest.slice(0, 8))) throw bad('key id');
  const key = b64StdDecode(rest.slice(9));
  if (!key || key.length !== 33 || key[0] !== ALG_ED25519 || !validPoint(key.subarray(1))) {
    throw bad('key');
  }
  const pk = key.slice(1);
  const id = await keyId(name, pk);
  if (toHex(id) !== rest.slice(0, 8)) throw bad('the key id does not match');
  return { name, id, pk };
}

/** One signature line "— <name> <base64(key id ‖ signature)>" (without its '\n'). */
function signatureLine(line) {
  const bad = new AuditError('BAD_FIELD', 'not a signed note: a malformed signature line');
  if (!line.startsWith(SIG_PREFIX)) throw bad;
  const rest = line.slice(SIG_PREFIX.length);
  const sp = rest.indexOf(' ');
  if (sp < 0 || !nameOk(rest.slice(0, sp))) throw bad;
  const blob = b64StdDecode(rest.slice(sp + 1));
  if (!blob || blob.length < KEY_ID_BYTES + 1) throw bad;
  return { name: rest.slice(0, sp), blob };
}

/** The known key's signatures of a note's signature lines; AUTH_FAILED if there is none. */
function knownSignatures(sigs, vk) {
  const lines = sigs.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGS) throw new AuditError('BAD_FIELD', 'too many signature lines');
  let malformed = false;
  const known = [];
  for (const { name, blob } of lines.map(signatureLine)) {
    if (name !== vk.name || !sameBytes(blob.subarray(0, KEY_ID_BYTES), vk.id)) continue;
    if (blob.length === KEY_ID_BYTES + 64) known.push(blob.subarray(KEY_ID_BYTES));
    else malformed = true;
  }
  if (malformed || known.length === 0) {
    throw new AuditError('AUTH_FAILED', `no signature by the key ${vk.name}`);
  }
  return known;
}

/**
 * Opens a C2SP signed note strictly (as note.c's ses_note_open) against the one known key.
 * @param {string} note
 * @param {{name: string, id: Uint8Array, pk: Uint8Array}} vk
 * @returns {string} the note's text (up to and including the '\n' before the last blank line)
 * @throws {AuditError} BAD_FIELD (malformed), AUTH_FAILED (no signature by vk, or a wrong one)
 */
export function openNote(note, vk) {
  if (typeof note !== 'string' || !textOk(note, true)) {
    throw new AuditError('BAD_FIELD', 'not a signed note: not text');
  }
  const split = note.lastIndexOf('\n\n');
  const sigs = split < 0 ? '' : note.slice(split + 2);
  if (sigs === '' || !sigs.endsWith('\n')) {
    throw new AuditError('BAD_FIELD', 'not a signed note: no signature lines');
  }
  const text = note.slice(0, split + 1);
  const bytes = encoder.encode(text);
  for (const sig of knownSignatures(sigs, vk)) {
    if (!sodium.crypto_sign_verify_detached(sig, bytes, vk.pk)) {
      throw new AuditError('AUTH_FAILED', `a wrong signature by the key ${vk.name}`);
    }
  }
  return text;
}

/**
 * Parses a checkpoint text: exactly "<origin>\n<size>\n<base64(root)>\n" (no extension lines,
 * size in decimal without leading zeros, root the canonical standard base64 of 32 bytes).
 * @param {string} text
 * @returns {{origin: string, size: number, root: Uint8Array}}
 * @throws {AuditError} BAD_FIELD (also for a size above 2^53 - 1)
 */
export function parseCheckpointBody(text) {
  const bad = (why) => new AuditError('BAD_FIELD', `not a checkpoint: ${why}`);
  if (typeof text !== 'string' || !textOk(text, true) || !text.endsWith('\n')) throw bad('text');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length !== 3) throw bad('not three lines');
  const [origin, size, root64] = lines;
  if (origin === '' || encoder.encode(origin).length > NAME_MAX) throw bad('origin');
  if (!/^(0|[1-9][0-9]{0,19})$/.test(size) || BigInt(size) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw bad('size');
  }
  const root = root64.length === 44 ? b64StdDecode(root64) : null;
  if (!root || root.length !== HASH_BYTES) throw bad('root');
  return { origin, size: Number(size), root };
}

/**
 * Opens a signed checkpoint (note.c's ses_checkpoint_open): the note against vk, its text as a
 * checkpoint, and its origin equal to expectedOrigin (the key's name unless null is given).
 * @param {string} note
 * @param {{name: string, id: Uint8Array, pk: Uint8Array}} vk
 * @param {string|null} [expectedOrigin]
 * @returns {{origin: string, size: number, root: Uint8Array}}
 * @throws {AuditError} BAD_FIELD, AUTH_FAILED (as openNote, or another origin)
 */
export function openCheckpoint(note, vk, expectedOrigin = vk.name) {
  const cp = parseCheckpointBody(openNote(note, vk));
  if (expectedOrigin !== null && cp.origin !== expectedOrigin) {
    throw new AuditError('AUTH_FAILED', `the checkpoint is of the log '${cp.origin}'`);
  }
  return cp;
}

/** The CLI's audit_note_text_len: the text before the first blank line, or null. */
function noteText(note) {
  const i = typeof note === 'string' ? note.indexOf('\n\n') : -1;
  return i < 0 ? null : note.slice(0, i + 1);
}

/** The note's checkpoint body, not checked for signatures, or null. */
function bodyOf(note) {
  try {
    const text = noteText(note);
    return text === null ? null : parseCheckpointBody(text);
  } catch {
    return null;
  }
}

// --- record bytes as JSON (jansson's json_loadb with JSON_REJECT_DUPLICATES) -------------------

const JSON_MAX_DEPTH = 2048;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n];
const NUMBER = /-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const ESCAPES = '"\\/bfnrt';

/** A strict JSON reader that accepts what jansson accepts (no duplicate keys, no \u0000, no
 * unpaired surrogate, integers within 64 bits, finite reals) and notes which members of the
 * top-level object are integers (jansson tells 17 from 17.0; JSON.parse does not). */
class JsonScan {
  constructor(text) {
    this.s = text;
    this.i = 0;
    this.ints = new Set();
  }

  fail() {
    throw new SyntaxError(`not JSON at ${this.i}`);
  }

  ws() {
    while (' \t\n\r'.includes(this.s[this.i] ?? 'x')) this.i++;
  }

  eat(ch) {
    if (this.s[this.i] !== ch) this.fail();
    this.i++;
  }

  hex4() {
    const h = this.s.slice(this.i, this.i + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail();
    this.i += 4;
    return parseInt(h, 16);
  }

  /** One escape after the backslash; a high surrogate must be followed by a low one. */
  escape() {
    const e = this.s[this.i++];
    if (e !== 'u') return ESCAPES.includes(e) ? undefined : this.fail();
    const c = this.hex4();
    if (c === 0 || (c >= 0xdc00 && c <= 0xdfff)) this.fail();
    if (c < 0xd800 || c > 0xdbff) return undefined;
    if (this.s.slice(this.i, this.i + 2) !== '\\u') this.fail();
    this.i += 2;
    const low = this.hex4();
    return low >= 0xdc00 && low <= 0xdfff ? undefined : this.fail();
  }

  /** A string; returns its decoded value. */
  string() {
    const start = this.i;
    this.eat('"');
    for (;;) {
      const c = this.s.charCodeAt(this.i++);
      if (Number.isNaN(c) || c < 0x20) this.fail();
      if (c === 0x22) return JSON.parse(this.s.slice(start, this.i));
      if (c === 0x5c) {
        this.escape();
      } else if (c >= 0xd800 && c <= 0xdbff) {
        const low = this.s.charCodeAt(this.i++);
        if (!(low >= 0xdc00 && low <= 0xdfff)) this.fail();
      } else if (c >= 0xdc00 && c <= 0xdfff) {
        this.fail();
      }
    }
  }

  /** A number; returns 'int' or 'real'. */
  number() {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail();
    this.i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const v = BigInt(m[0]);
      return v >= INT64[0] && v <= INT64[1] ? 'int' : this.fail();
    }
    return Number.isFinite(Number(m[0])) ? 'real' : this.fail();
  }

  /** Any value; returns its kind. */
  value(depth) {
    if (depth > JSON_MAX_DEPTH) this.fail();
    this.ws();
    const c = this.s[this.i];
    if (c === '{') return this.object(depth + 1, false);
    if (c === '[') return this.array(depth + 1);
    if (c === '"') {
      this.string();
      return 'string';
    }
    for (const word of ['true', 'false', 'null']) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return word;
      }
    }
    return this.number();
  }

  members(close, one) {
    this.ws();
    if (this.s[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      one();
      this.ws();
      if (this.s[this.i] === close) break;
      this.eat(',');
    }
    this.i++;
  }

  object(depth, top) {
    const keys = new Set();
    this.eat('{');
    this.members('}', () => {
      this.ws();
      const key = this.string();
      if (keys.has(key)) this.fail();
      keys.add(key);
      this.ws();
      this.eat(':');
      if (this.value(depth) === 'int' && top) this.ints.add(key);
    });
    return 'object';
  }

  array(depth) {
    this.eat('[');
    this.members(']', () => this.value(depth));
    return 'array';
  }
}

/**
 * A record's bytes read as the CLI reads them (audit_parse_rec): a JSON object, or null.
 * @returns {{rec: object, ints: Set<string>}|null} ints: the members that are JSON integers
 */
function readRecord(text) {
  try {
    const scan = new JsonScan(text);
    scan.ws();
    scan.object(1, true);
    scan.ws();
    if (scan.i !== text.length) return null;
    return { rec: JSON.parse(text), ints: scan.ints };
  } catch {
    return null;
  }
}

/** jansson's json_integer_value of an integer member, else dflt (the CLI's audit_int_or). */
function intMember(read, key, dflt) {
  const v = read?.rec[key];
  return read?.ints.has(key) && Number.isSafeInteger(v) ? v : dflt;
}

/** An integer member of a reply frame (already parsed by the connection), else dflt. */
const intOr = (o, key, dflt) => (Number.isInteger(o?.[key]) ? o[key] : dflt);
const strOr = (o, key, dflt) => (typeof o?.[key] === 'string' ? o[key] : dflt);

// --- sesame audit verify -----------------------------------------------------------------------

/** Why verification stopped: thrown inside verifyLog, turned into its result. */
class Stop extends Error {
  constructor(failure) {
    super(failure.detail);
    this.failure = failure;
  }
}

/** A failed check: "AUDIT_VERIFY_FAILED: detail" and exit status 6 in the CLI. */
function failed(kind, detail, seq) {
  const f = { code: 'AUDIT_VERIFY_FAILED', kind, detail, exit: 6 };
  return new Stop(seq === undefined ? f : { ...f, seq });
}

/** A refused request: the server's error (exit 1), or the connection's (exit 3), as cli_fail. */
function refused(err) {
  if (typeof err?.num === 'number') {
    return new Stop({ code: err.code, kind: 'server', detail: err.message, exit: 1 });
  }
  const code = typeof err?.code === 'string' ? err.code : 'CLOSED';
  return new Stop({ code, kind: 'connection', detail: `${code}: ${err?.message ?? ''}`, exit: 3 });
}

async function ask(request, frame) {
  try {
    return await request(frame);
  } catch (err) {
    throw refused(err);
  }
}

/** The pinned key (the CLI's --log-key, or its pinned log.vkey). */
async function pinnedKey(logKey) {
  try {
    return await parseVkey(logKey);
  } catch {
    throw new Stop({
      code: 'USAGE', kind: 'log_key', exit: 2,
      detail: 'the log key is not a log verifier key (NAME+KEYID+KEY, as printed by '
        + 'sesamed log-key --data DIR)',
    });
  }
}

/** The auditor's stored checkpoint (the note of the last one that verified), or size 0. */
function storedCheckpoint(stored, vk) {
  if (stored === undefined || stored === null) return { size: 0, root: null };
  const local = (detail) => new Stop({ code: 'LOCAL', kind: 'stored_checkpoint', exit: 4, detail });
  const prev = bodyOf(stored);
  if (prev === null) throw local('the stored checkpoint is not a checkpoint note');
  if (prev.origin !== vk.name) {
    throw local(`the stored checkpoint is of the log '${prev.origin}', the pinned key of `
      + `'${vk.name}' (forget it to start over with this log)`);
  }
  return prev;
}

/** Check 1: the latest checkpoint, its signature by the pinned key and its origin. */
async function latestCheckpoint(request, vk) {
  const reply = await ask(request, { t: 'audit_checkpoint' });
  const note = strOr(reply, 'checkpoint', '');
  let cp;
  try {
    cp = openCheckpoint(note, vk, vk.name);
  } catch (err) {
    const body = bodyOf(note);
    const why = 'checkpoint signature: the latest checkpoint';
    if (err.code === 'AUTH_FAILED' && body && body.origin !== vk.name) {
      throw failed('checkpoint_origin',
        `${why}'s origin '${body.origin}' is not the pinned log key's name '${vk.name}'`);
    }
    if (err.code === 'AUTH_FAILED') {
      throw failed('checkpoint_signature', `${why} is not signed by the pinned log key ${vk.name}`);
    }
    throw failed('checkpoint_malformed', `${why} is not a well-formed signed note`);
  }
  const said = intOr(reply, 'size', -1);
  if (said !== cp.size) {
    throw failed('checkpoint_size',
      `the checkpoint reply says size ${said} but the signed note says ${cp.size}`);
  }
  return { ...cp, note };
}

/** Check 2: the latest checkpoint extends the stored one. */
async function checkExtends(request, prev, cp) {
  const not = 'the log is not consistent with the stored checkpoint';
  if (cp.size < prev.size) {
    throw failed('log_shrank', `the log shrank: the latest checkpoint has ${cp.size} records, `
      + `the stored checkpoint ${prev.size}`);
  }
  if (prev.size > 0 && prev.size === cp.size && !sameBytes(prev.root, cp.root)) {
    throw failed('inconsistent',
      `${not}: both have ${cp.size} records but different roots`);
  }
  if (prev.size === 0 || prev.size === cp.size) return;
  const reply = await ask(request, { t: 'audit_consistency', from: prev.size, to: cp.size });
  const proof = proofOf(reply?.proof);
  if (proof === null) {
    throw failed('consistency_malformed', 'the server sent a malformed consistency proof');
  }
  if (!(await verifyConsistency(prev.size, cp.size, prev.root, cp.root, proof))) {
    throw failed('inconsistent', `${not}: the consistency proof from ${prev.size} to `
      + `${cp.size} records does not verify`);
  }
}

/** strtoull as sscanf("%llu") applies it: saturates at 2^64 - 1, a '-' negates modulo 2^64. */
function scanU64(sign, digits) {
  const max = 2n ** 64n - 1n;
  const v = BigInt(digits);
  if (v > max) return max;
  return sign === '-' ? (2n ** 64n - v) % 2n ** 64n : v;
}

const PRUNE_RANGE = /^seq:[ \t\n\v\f\r]*([+-]?)([0-9]+)-[ \t\n\v\f\r]*([+-]?)([0-9]+)$/;

/** Check 3: the records 1..n rebuilt into the tree, page by page (check_leaves in the CLI). */
class Rebuild {
  constructor(prev) {
    this.prev = prev;
    this.f = new Frontier();
    this.next = 1;
    this.pruned = 0;
    this.runs = []; // runs of consecutive pruned records: {first, last}
    this.announced = 0n; // highest LAST of the intact audit.prune records ("seq:FIRST-LAST")
    this.time = null; // ts of the last record, when its bytes are there
  }

  async page(leaves, want) {
    const pos = this.next;
    if (!Array.isArray(leaves)) {
      throw failed('leaves_malformed', `record ${pos}: the server sent a malformed audit_leaves `
        + 'reply', pos);
    }
    if (leaves.length > want) {
      throw failed('too_many_leaves', `record ${pos}: the server sent ${leaves.length} records `
        + `where ${want} were asked for`, pos);
    }
    for (const lf of leaves) await this.leaf(lf);
    if (leaves.length < want) {
      throw failed('record_missing',
        `record ${this.next} missing: the server sent no record ${this.next}`, this.next);
    }
  }

  async leaf(lf) {
    const pos = this.next;
    const seq = intOr(lf, 'seq', -1);
    const rec = lf?.rec;
    const stored = b64urlHash(lf?.hash);
    if (seq < 1 || (typeof rec !== 'string' && rec !== null) || stored === null) {
      throw failed('leaf_malformed', `record ${pos}: the server sent a malformed leaf`, pos);
    }
    if (seq > pos) {
      throw failed('record_missing', `record ${pos} missing: the server sent record ${seq} after `
        + `record ${pos - 1}`, pos);
    }
    if (seq < pos) {
      throw failed('out_of_order', `record ${seq}: sent out of order (record ${pos} expected)`,
        seq);
    }
    this.time = typeof rec === 'string' ? await this.intact(pos, rec, stored) : this.gone(pos);
    await this.f.append(stored);
    if (this.f.size === this.prev.size && !sameBytes(await this.f.root(), this.prev.root)) {
      const m = this.prev.size;
      throw failed('stored_root',
        `records 1..${m} do not rebuild the root of the stored checkpoint ${m}`);
    }
    this.next++;
  }

  /** A record with its bytes: they are a JSON object, at their place, hashing to the leaf. */
  async intact(pos, text, stored) {
    const read = readRecord(text);
    if (read === null) {
      throw failed('record_not_object', `record ${pos}: its bytes are not a JSON object`, pos);
    }
    const field = intMember(read, 'seq', -1);
    if (field !== pos) throw failed('seq_field', `record ${pos}: its seq field is ${field}`, pos);
    if (!sameBytes(await leafHash(text), stored)) {
      throw failed('leaf_hash', `record ${pos}: its bytes do not match its leaf hash`, pos);
    }
    this.noteAnnouncement(read);
    return intMember(read, 'ts', null);
  }

  /** A pruned record: remembered in runs of consecutive seqs. */
  gone(pos) {
    this.pruned++;
    const run = this.runs.at(-1);
    if (run && run.last + 1 === pos) run.last = pos;
    else this.runs.push({ first: pos, last: pos });
    return null;
  }

  /** An intact retention record announces the range whose bytes it removed. */
  noteAnnouncement(read) {
    const m = PRUNE_RANGE.exec(strOr(read.rec, 'object', ''));
    if (strOr(read.rec, 'action', '') !== 'audit.prune' || strOr(read.rec, 'outcome', '') !== 'ok'
      || m === null) return;
    const first = scanU64(m[1], m[2]);
    const last = scanU64(m[3], m[4]);
    if (first > last || last >= BigInt(intMember(read, 'seq', 0))) return;
    if (last > this.announced) this.announced = last;
  }

  /** Every pruned record lies at or below the highest announced LAST. */
  checkAnnounced() {
    const run = this.runs.find((r) => BigInt(r.last) > this.announced);
    if (run === undefined) return;
    const k = BigInt(run.first) > this.announced ? run.first : Number(this.announced) + 1;
    throw failed('prune_unannounced',
      `record ${k}: its bytes were removed but no audit.prune record announces it`, k);
  }
}

async function rebuildAll(request, rb, cp, onProgress) {
  while (rb.next <= cp.size) {
    const want = Math.min(cp.size - rb.next + 1, PAGE);
    const reply = await ask(request, { t: 'audit_leaves', from: rb.next, count: want });
    await rb.page(reply?.leaves, want);
    onProgress?.({ checked: rb.next - 1, size: cp.size });
  }
  if (!sameBytes(await rb.f.root(), cp.root)) {
    throw failed('signed_root',
      `records 1..${cp.size} do not rebuild the signed root of checkpoint ${cp.size}`);
  }
  rb.checkAnnounced();
}

/**
 * Waits for libsodium; parseVkey, openNote and openCheckpoint need it (the others wait
 * themselves).
 * @returns {Promise<void>}
 */
export function ready() {
  return sodium.ready;
}

/**
 * Runs `sesame audit verify` (PROTOCOL.md §9 "What sesame audit verify checks"): the latest
 * checkpoint's signature and origin against the pinned key; that it extends the stored
 * checkpoint (size, and the server's consistency proof); every record 1..n, downloaded by pages
 * of 1000, checked (contiguous seqs, each record's seq field, its bytes against its leaf hash,
 * pruned records announced by an intact audit.prune) and rebuilt into the tree, whose root must
 * equal the stored root at size m and the signed root at size n. It stops at the first failure,
 * as the CLI does, with the CLI's message.
 *
 * Requests, in order: {t:'audit_checkpoint'}; {t:'audit_consistency', from: m, to: n} when a
 * stored checkpoint of 0 < m < n records is given; {t:'audit_leaves', from, count} until n.
 *
 * On success the caller stores `checkpoint.note` (the next run's `stored`); it may pin the key
 * once `keyVerified` (the CLI pins a new --log-key once it verified a checkpoint).
 * @param {(frame: object) => Promise<object>} request sends {t, ...} (no id), resolves with the
 *   reply, rejects with an error with `.code` (and `.num` for a server error)
 * @param {string} logKey the pinned verifier key, `NAME+KEYID+KEY` (the CLI's --log-key)
 * @param {(p: {checked: number, size: number}) => void} [onProgress] after each page
 * @param {{stored?: string|null}} [options] stored: the last checkpoint note that verified
 * @returns {Promise<{ok: boolean, keyVerified: boolean,
 *   checkpoint: {origin: string, size: number, root: string, note: string, time: number|null}|null,
 *   previousSize: number, checked: number, pruned: number,
 *   failures: {code: string, kind: string, seq?: number, detail: string, exit: number}[]}>}
 *   checkpoint: the latest one once its signature verified (root in standard base64, as the CLI
 *   prints it; time: the ts of its last record, when that record's bytes are there). checked:
 *   records checked. failures: none, or the one that stopped it: code AUDIT_VERIFY_FAILED (exit
 *   6, a check failed: kind says which), the server's error code (kind 'server', exit 1), the
 *   connection's (kind 'connection', exit 3), USAGE (kind 'log_key', exit 2) or LOCAL (kind
 *   'stored_checkpoint', exit 4). Rejects only if onProgress throws.
 */
export async function verifyLog(request, logKey, onProgress, options = {}) {
  await sodium.ready;
  const run = { keyVerified: false, checkpoint: null, previousSize: 0, rb: null };
  const result = (failures) => ({
    ok: failures.length === 0,
    keyVerified: run.keyVerified,
    checkpoint: run.checkpoint,
    previousSize: run.previousSize,
    checked: run.rb ? run.rb.next - 1 : 0,
    pruned: run.rb ? run.rb.pruned : 0,
    failures,
  });
  try {
    const vk = await pinnedKey(logKey);
    const prev = storedCheckpoint(options.stored, vk);
    run.previousSize = prev.size;
    const cp = await latestCheckpoint(request, vk);
    run.keyVerified = true;
    run.checkpoint = { origin: cp.origin, size: cp.size, root: b64std(cp.root), note: cp.note,
      time: null };
    await checkExtends(request, prev, cp);
    run.rb = new Rebuild(prev);
    await rebuildAll(request, run.rb, cp, onProgress);
    run.checkpoint.time = run.rb.time;
    return result([]);
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    return result([err.failure]);
  }
}

// --- the record detail screen (sesame audit show) ----------------------------------------------

/** "nurse:abcdefgh" (role and the user id's first 8 characters), "device:abcdefgh", or "-". */
function actorLabel(user, device, role) {
  if (user !== null) return `${role ?? '?'}:${user.slice(0, 8)}`;
  if (device !== null) return `device:${device.slice(0, 8)}`;
  return role ?? '-';
}

function isoTime(ms) {
  try {
    return new Date(ms).toISOString();
  } catch {
    return String(ms);
  }
}

/**
 * One record decoded for the record detail screen, as `sesame audit show` prints it: its fields
 * (null when absent), its time, who acted (and the CLI's short label of them), and whether its
 * bytes match its leaf hash.
 * @param {{seq: number, rec: string|null, hash?: string}} entry as audit_show, audit_leaves
 *   and audit_tail serve it
 * @returns {Promise<{seq: number, pruned: boolean, parsed: boolean, ts: number|null,
 *   time: string|null, actor: {user: string|null, device: string|null, role: string|null,
 *   label: string}, action: string|null, object: string|null, outcome: string|null,
 *   peer: string|null, text: string|null, hash: string|null, hashMatches: boolean|null}>}
 *   parsed: the bytes are a JSON object; hashMatches: null when pruned or without a hash
 */
export async function describeRecord(entry) {
  const text = strOr(entry, 'rec', null);
  const read = text === null ? null : readRecord(text);
  const rec = read?.rec ?? {};
  const actor = rec.actor ?? {};
  const user = strOr(actor, 'user', null);
  const device = strOr(actor, 'device', null);
  const role = strOr(actor, 'role', null);
  const ts = intMember(read, 'ts', null);
  const stored = b64urlHash(entry?.hash);
  return {
    seq: intMember(read, 'seq', intOr(entry, 'seq', 0)),
    pruned: entry?.rec === null,
    parsed: read !== null,
    ts,
    time: ts === null ? null : isoTime(ts),
    actor: { user, device, role, label: actorLabel(user, device, role) },
    action: strOr(rec, 'action', null),
    object: strOr(rec, 'object', null),
    outcome: strOr(rec, 'outcome', null),
    peer: strOr(rec, 'peer', null),
    text,
    hash: strOr(entry, 'hash', null),
    hashMatches: text !== null && stored !== null ? sameBytes(await leafHash(text), stored) : null,
  };
}
