// envelope_core.js - the layout of SES1 envelopes, suite 1 (PROTOCOL.md §10), and the receiver
// steps that opening an envelope (envelope.js) and opening a history re-wrap (rewrap.js, §12)
// share: the roster hash, the key commitment, the padded inner plaintext, the strict structural
// parse, the signature, the prelude (structure, signature, no ghost wraps), unwrapping K and
// decrypting the inner plaintext. The C twin is protocol/src/envelope.c. Use envelope.js and
// rewrap.js; this module is their common part.

import { SesError } from './errors.js';
import sodium, { wipe } from './sodium.js';
import {
  bytes,
  bytesEqual,
  compareBytes,
  concat,
  context,
  ID_BYTES,
  readBe,
  readU32be,
  toHex,
  toU64,
  u32be,
  u64be,
  utf8Encode,
} from './encode.js';

export const VERSION = 1;
export const SUITE = 0x01;
export const INNER_VERSION = 1;
export const CTX_ENVELOPE = 'sesame/v1/envelope';
export const CTX_KCOMMIT = 'sesame/v1/kcommit';
export const CTX_ROSTER = 'sesame/v1/roster';
export const CTX_REWRAP = 'sesame/v1/rewrap';
export const KEY_BYTES = 32;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
export const KCOMMIT_BYTES = 32;
export const SEALED_BYTES = 80;
export const WRAP_BYTES = 96;
export const SIG_BYTES = 64;
export const MAX_WRAPS = 32;
export const PAD_BLOCK = 256;
export const INNER_FIXED = 70;
export const BODY_MAX = 65535;
/** The largest sender_seq (2^53 - 1); 0 and anything above are refused (BAD_ENVELOPE). */
export const SEQ_MAX = (1n << 53n) - 1n;
export const CT_MIN = 70 + 256 + 16;
export const CT_MAX = 70 + 65536 + 16;
export const ENVELOPE_MIN = 256 + 96 + 342;
export const ENVELOPE_MAX = 256 + 96 * 32 + 65622;
/** base64url characters of the largest envelope. */
export const ENVELOPE_B64_MAX = 91934;
/** Content types (§10 "Inner plaintext"); 0 and 7..255 are reserved. */
export const CONTENT = Object.freeze({
  TEXT: 1,
  SCALE: 2,
  ALERT_NOTE: 3,
  THREAD_TITLE: 4,
  RECOMMENDATION: 5,
  PATIENT_CARD: 6,
});
export const CONTENT_TYPE_MAX = 6;
export const ROSTER_MAX_MEMBERS = 255;

/** Byte offsets of the header fields (§10 "Layout"). */
export const OFF = Object.freeze({
  VERSION: 4,
  SUITE: 5,
  FLAGS: 6,
  THREAD: 8,
  MSG: 24,
  SENDER_USER: 40,
  SENDER_DEVICE: 56,
  SEQ: 72,
  ROSTER: 80,
  CREATED: 112,
  ALERT_TYPE: 120,
  SEVERITY: 122,
  DEADLINE: 123,
  KCOMMIT: 131,
  NONCE: 163,
  N_WRAPS: 187,
  WRAPS: 188,
});
/** Offsets of the inner plaintext's fields. */
export const INNER = Object.freeze({
  USER: 1, DEVICE: 17, MSG: 33, THREAD: 49, CTYPE: 65, LEN: 66,
});

const MAGIC = utf8Encode('SES1');
const IDENT = concat(MAGIC, Uint8Array.of(VERSION, SUITE));

const fail = (code, detail) => new SesError(code, detail);

/**
 * Checks a list of 16-byte ids and returns their hex keys; a duplicate is INVALID_ARG.
 * @param {Uint8Array[]} ids
 * @param {string} what
 * @returns {Set<string>}
 */
export function idSet(ids, what) {
  const set = new Set();
  for (const id of ids ?? []) set.add(toHex(bytes(id, ID_BYTES, what)));
  if (set.size !== (ids ?? []).length) throw fail('INVALID_ARG', `${what}: an id twice`);
  return set;
}

/**
 * roster_hash = BLAKE2b-256("sesame/v1/roster" 0x00 | thread_id | roster_version u32 | n u8 |
 * the n member user ids sorted in ascending byte order); members in any order, 0..255, distinct.
 * @param {Uint8Array} threadId
 * @param {number} rosterVersion u32
 * @param {Uint8Array[]} members user ids
 * @returns {Uint8Array} 32 bytes
 * @throws {SesError} INVALID_ARG
 */
export function rosterHash(threadId, rosterVersion, members) {
  if (!Array.isArray(members) || members.length > ROSTER_MAX_MEMBERS) {
    throw fail('INVALID_ARG', 'members: 0..255 user ids');
  }
  idSet(members, 'members');
  const sorted = [...members].sort(compareBytes);
  return sodium.crypto_generichash(
    32,
    concat(
      context(CTX_ROSTER),
      bytes(threadId, ID_BYTES, 'thread_id'),
      u32be(rosterVersion),
      Uint8Array.of(members.length),
      ...sorted,
    ),
    null,
  );
}

/**
 * kcommit = BLAKE2b-256(key = K, "sesame/v1/kcommit" 0x00 | msg_id).
 * @param {Uint8Array} key K, 32 bytes
 * @param {Uint8Array} msgId 16 bytes
 * @returns {Uint8Array} 32 bytes
 */
export function kcommit(key, msgId) {
  const msg = concat(context(CTX_KCOMMIT), bytes(msgId, ID_BYTES, 'msg_id'));
  return sodium.crypto_generichash(KCOMMIT_BYTES, msg, bytes(key, KEY_BYTES, 'key'));
}

/**
 * The header fields as the layout wants them (ids checked, integers as BigInt).
 * @param {object} h {threadId, msgId, senderUserId, senderDeviceId, senderSeq, rosterHash,
 *   createdMs, alertType?, severity?, deadlineMs?}
 * @returns {object} the same fields, normalised
 * @throws {SesError} INVALID_ARG
 */
export function normalHeader(h) {
  const small = (v, max, what) => {
    const n = v ?? 0;
    if (!Number.isInteger(n) || n < 0 || n > max) throw fail('INVALID_ARG', what);
    return n;
  };
  return {
    threadId: bytes(h.threadId, ID_BYTES, 'thread_id'),
    msgId: bytes(h.msgId, ID_BYTES, 'msg_id'),
    senderUserId: bytes(h.senderUserId, ID_BYTES, 'sender_user_id'),
    senderDeviceId: bytes(h.senderDeviceId, ID_BYTES, 'sender_device_id'),
    senderSeq: toU64(h.senderSeq),
    rosterHash: bytes(h.rosterHash, 32, 'roster_hash'),
    createdMs: toU64(h.createdMs),
    alertType: small(h.alertType, 0xffff, 'alert_type'),
    severity: small(h.severity, 0xff, 'severity'),
    deadlineMs: toU64(h.deadlineMs ?? 0n),
  };
}

/**
 * The fixed header, magic .. n_wraps (188 bytes).
 * @param {object} h normalHeader's
 * @param {Uint8Array} commit kcommit
 * @param {Uint8Array} nonce 24 bytes
 * @param {number} nWraps
 * @returns {Uint8Array}
 */
export function fixedHeader(h, commit, nonce, nWraps) {
  return concat(
    IDENT,
    new Uint8Array(2),
    h.threadId,
    h.msgId,
    h.senderUserId,
    h.senderDeviceId,
    u64be(h.senderSeq),
    h.rosterHash,
    u64be(h.createdMs),
    Uint8Array.of(h.alertType >> 8, h.alertType & 0xff, h.severity),
    u64be(h.deadlineMs),
    commit,
    bytes(nonce, NONCE_BYTES, 'nonce'),
    Uint8Array.of(nWraps),
  );
}

/**
 * The inner plaintext: inner_ver | sender_user_id | sender_device_id | msg_id | thread_id |
 * content_type | body_len u32 | sodium_pad(body, 256). The caller wipes it.
 * @param {object} h normalHeader's
 * @param {number} contentType 1..6
 * @param {Uint8Array} body at most 65,535 bytes
 * @returns {Uint8Array}
 */
export function innerPlaintext(h, contentType, body) {
  const padded = sodium.pad(body, PAD_BLOCK);
  const pt = concat(
    Uint8Array.of(INNER_VERSION),
    h.senderUserId,
    h.senderDeviceId,
    h.msgId,
    h.threadId,
    Uint8Array.of(contentType),
    u32be(body.length),
    padded,
  );
  wipe(padded);
  return pt;
}

/**
 * The signed bytes: "sesame/v1/envelope" 0x00 | the envelope before its signature.
 * @param {Uint8Array} env the envelope (signature included, or its room)
 * @returns {Uint8Array}
 */
export function signedBytes(env) {
  return concat(context(CTX_ENVELOPE), env.subarray(0, env.length - SIG_BYTES));
}

/**
 * Strict structural parse, no cryptography (§10 receiver step 1, what the server checks):
 * magic, version, suite exact and flags 0 (UNSUPPORTED, on the bytes present), every length and
 * count, distinct wrap devices, no trailing bytes (BAD_ENVELOPE). The view's arrays are
 * subarrays of bytes; nothing in it is authenticated until verifySig.
 * @param {Uint8Array} b
 * @returns {object} {hdr, kcommit, nonce, nWraps, wraps: [{deviceId, sealed}], headerLen, ct,
 *   ctLen, sig, bytes, len}; hdr as normalHeader's (senderSeq, createdMs, deadlineMs BigInt)
 * @throws {SesError} UNSUPPORTED, BAD_ENVELOPE, INVALID_ARG (not bytes)
 */
export function parse(b) {
  bytes(b, undefined, 'envelope');
  const len = b.length;
  if (!bytesEqual(b.subarray(0, Math.min(len, IDENT.length)), IDENT.subarray(0, len))) {
    throw fail('UNSUPPORTED', 'not an SES1 envelope of version 1, suite 1');
  }
  if (len >= OFF.THREAD && (b[OFF.FLAGS] | b[OFF.FLAGS + 1]) !== 0) {
    throw fail('UNSUPPORTED', 'a flag is set');
  }
  if (len < ENVELOPE_MIN || len > ENVELOPE_MAX) throw fail('BAD_ENVELOPE', 'length');
  const n = b[OFF.N_WRAPS];
  if (n < 1 || n > MAX_WRAPS) throw fail('BAD_ENVELOPE', 'n_wraps');
  const h = OFF.WRAPS + n * WRAP_BYTES;
  if (len < h + 4) throw fail('BAD_ENVELOPE', 'length');
  const ctLen = readU32be(b, h);
  if (ctLen < CT_MIN || ctLen > CT_MAX || (ctLen - INNER_FIXED - TAG_BYTES) % PAD_BLOCK !== 0) {
    throw fail('BAD_ENVELOPE', 'ct_len');
  }
  if (len !== h + 4 + ctLen + SIG_BYTES) throw fail('BAD_ENVELOPE', 'length');
  const wraps = [];
  for (let i = 0; i < n; i++) {
    const w = b.subarray(OFF.WRAPS + i * WRAP_BYTES, OFF.WRAPS + (i + 1) * WRAP_BYTES);
    wraps.push({ deviceId: w.subarray(0, ID_BYTES), sealed: w.subarray(ID_BYTES) });
  }
  try {
    idSet(wraps.map((w) => w.deviceId), 'wraps');
  } catch {
    throw fail('BAD_ENVELOPE', 'a device wrapped twice');
  }
  const senderSeq = readBe(b, OFF.SEQ, 8);
  if (senderSeq === 0n || senderSeq > SEQ_MAX) throw fail('BAD_ENVELOPE', 'sender_seq');
  const at = (off, size) => b.subarray(off, off + size);
  return {
    hdr: {
      threadId: at(OFF.THREAD, 16),
      msgId: at(OFF.MSG, 16),
      senderUserId: at(OFF.SENDER_USER, 16),
      senderDeviceId: at(OFF.SENDER_DEVICE, 16),
      senderSeq,
      rosterHash: at(OFF.ROSTER, 32),
      createdMs: readBe(b, OFF.CREATED, 8),
      alertType: (b[OFF.ALERT_TYPE] << 8) | b[OFF.ALERT_TYPE + 1],
      severity: b[OFF.SEVERITY],
      deadlineMs: readBe(b, OFF.DEADLINE, 8),
    },
    kcommit: at(OFF.KCOMMIT, KCOMMIT_BYTES),
    nonce: at(OFF.NONCE, NONCE_BYTES),
    nWraps: n,
    wraps,
    headerLen: h,
    ct: at(h + 4, ctLen),
    ctLen,
    sig: b.subarray(len - SIG_BYTES),
    bytes: b,
    len,
  };
}

/**
 * Verifies a parsed envelope's Ed25519 signature with the sending device's key (step 2).
 * @param {object} v parse's view
 * @param {Uint8Array} signPk 32 bytes
 * @throws {SesError} BAD_SIGNATURE, INVALID_ARG
 */
export function verifySig(v, signPk) {
  bytes(signPk, 32, 'sign_pk');
  let ok = false;
  try {
    ok = sodium.crypto_sign_verify_detached(v.sig, signedBytes(v.bytes), signPk);
  } catch {
    ok = false;
  }
  if (!ok) throw fail('BAD_SIGNATURE', 'the envelope signature does not verify');
}

/**
 * The sealed K (80 bytes) wrapped to deviceId in v, or null.
 * @param {object} v parse's view
 * @param {Uint8Array} deviceId
 * @returns {Uint8Array|null}
 */
export function wrapOf(v, deviceId) {
  return v.wraps.find((w) => bytesEqual(w.deviceId, deviceId))?.sealed ?? null;
}

/**
 * Receiver steps 1-3, shared by open and openRewrap: structure, the sender's signature, every
 * wrap an expected device. Missing = expected devices without a wrap other than the sending one
 * and this one.
 * @param {Uint8Array} b the envelope
 * @param {Uint8Array} myDeviceId
 * @param {Uint8Array} senderSignPk
 * @param {Uint8Array[]} expected distinct device ids
 * @returns {{view: object, missing: number}}
 * @throws {SesError} INVALID_ARG, UNSUPPORTED, BAD_ENVELOPE, BAD_SIGNATURE, GHOST_DEVICE
 */
export function openPrelude(b, myDeviceId, senderSignPk, expected) {
  bytes(myDeviceId, ID_BYTES, 'my device id');
  const want = idSet(expected, 'expected devices');
  const view = parse(b);
  verifySig(view, senderSignPk);
  if (view.wraps.some((w) => !want.has(toHex(w.deviceId)))) {
    throw fail('GHOST_DEVICE', 'a wrap for a device that is not expected');
  }
  const skip = new Set([toHex(view.hdr.senderDeviceId), toHex(myDeviceId)]);
  const wrapped = new Set(view.wraps.map((w) => toHex(w.deviceId)));
  let missing = 0;
  for (const d of want) if (!skip.has(d) && !wrapped.has(d)) missing++;
  return { view, missing };
}

/**
 * K from a sealed wrap, checked against kcommit in constant time (steps 4-5). The caller wipes K.
 * @param {object} v parse's view
 * @param {Uint8Array} sealed 80 bytes
 * @param {{boxPk: Uint8Array, boxSk: Uint8Array}} me
 * @returns {Uint8Array} K
 * @throws {SesError} DECRYPT_FAILED, BAD_COMMITMENT
 */
export function unwrapKey(v, sealed, me) {
  let key;
  try {
    key = sodium.crypto_box_seal_open(sealed, me.boxPk, me.boxSk);
  } catch {
    throw fail('DECRYPT_FAILED', 'the key wrap does not open');
  }
  if (key.length !== KEY_BYTES) {
    wipe(key);
    throw fail('DECRYPT_FAILED', 'the key wrap does not hold a key');
  }
  const commit = kcommit(key, v.hdr.msgId);
  const same = sodium.memcmp(commit, v.kcommit);
  wipe(commit);
  if (!same) {
    wipe(key);
    throw fail('BAD_COMMITMENT', 'the key does not match the key commitment');
  }
  return key;
}

/**
 * Decrypts and checks the inner plaintext (steps 6-7).
 * @param {object} v parse's view
 * @param {Uint8Array} key K
 * @returns {{contentType: number, body: Uint8Array}} body a copy (the caller wipes it)
 * @throws {SesError} DECRYPT_FAILED, BAD_ENVELOPE, INNER_MISMATCH
 */
export function openInner(v, key) {
  let pt;
  try {
    pt = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, v.ct, v.bytes.subarray(0, v.headerLen), v.nonce, key);
  } catch {
    throw fail('DECRYPT_FAILED', 'the ciphertext does not decrypt');
  }
  try {
    return checkInner(v, pt);
  } finally {
    wipe(pt);
  }
}

function checkInner(v, pt) {
  if (pt.length !== v.ctLen - TAG_BYTES || pt[0] !== INNER_VERSION || pt[INNER.CTYPE] === 0) {
    throw fail('BAD_ENVELOPE', 'inner version or content type');
  }
  let body;
  try {
    body = sodium.unpad(pt.subarray(INNER_FIXED), PAD_BLOCK);
  } catch {
    throw fail('BAD_ENVELOPE', 'inner padding');
  }
  if (readU32be(pt, INNER.LEN) !== body.length) {
    wipe(body);
    throw fail('BAD_ENVELOPE', 'inner body length');
  }
  const h = v.hdr;
  const ids = [[INNER.USER, h.senderUserId], [INNER.DEVICE, h.senderDeviceId],
    [INNER.MSG, h.msgId], [INNER.THREAD, h.threadId]];
  if (ids.some(([off, id]) => !bytesEqual(pt.subarray(off, off + ID_BYTES), id))) {
    wipe(body);
    throw fail('INNER_MISMATCH', 'the inner ids differ from the header');
  }
  return { contentType: pt[INNER.CTYPE], body: Uint8Array.from(body) };
}

/**
 * Steps 4-8 from a sealed K: unwrap, kcommit, decryption and inner checks, then sender_seq above
 * lastSeenSeq. K is wiped.
 * @param {object} v parse's view
 * @param {Uint8Array} sealed 80 bytes
 * @param {{boxPk: Uint8Array, boxSk: Uint8Array}} me
 * @param {bigint} lastSeenSeq
 * @param {number} missing openPrelude's
 * @returns {object} opened: {hdr, contentType, body, nWraps, nMissing}
 * @throws {SesError} DECRYPT_FAILED, BAD_COMMITMENT, BAD_ENVELOPE, INNER_MISMATCH, REPLAYED
 */
export function openFinish(v, sealed, me, lastSeenSeq, missing) {
  const key = unwrapKey(v, sealed, me);
  let inner;
  try {
    inner = openInner(v, key);
  } finally {
    wipe(key);
  }
  if (v.hdr.senderSeq <= toU64(lastSeenSeq ?? 0n)) {
    wipe(inner.body);
    throw fail('REPLAYED', `sender_seq ${v.hdr.senderSeq} is not above ${lastSeenSeq}`);
  }
  return { hdr: copyHeader(v.hdr), ...inner, nWraps: v.nWraps, nMissing: missing };
}

/** The header with its byte fields copied out of the envelope. */
function copyHeader(h) {
  const out = { ...h };
  for (const k of ['threadId', 'msgId', 'senderUserId', 'senderDeviceId', 'rosterHash']) {
    out[k] = Uint8Array.from(h[k]);
  }
  return out;
}
