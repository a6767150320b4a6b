// statement.js - the stage-2 signed statements (PROTOCOL.md §17): identity keys, devices
// certified by them, vouches, signed rosters in a hash chain and rotating mailbox keys. For each
// kind: encode (the signed bytes, without the signature), sign (the whole statement), the strict
// parse (no cryptography) and verify (parse, then the signature); rosterHash, the roster chain's
// rules (rosterChainCheck) and mailboxValidAt. The C twin is protocol/src/statement.c; every
// function throws a SesError with the C code (BAD_FIELD, BAD_SIGNATURE, ROSTER_BROKEN,
// INVALID_ARG), and protocol/vectors/statements.json pins the bytes.
//
//   identity = "sesame/v2/identity" 0 | user_id | ik_pk | serial u32 (1..) | created_ms u64 | sig
//   device   = "sesame/v2/device" 0 | user_id | device_id | sign_pk | box_pk | created_ms | sig
//   vouch    = "sesame/v2/vouch" 0 | voucher_user_id | subject_user_id | subject_ik_pk
//              | subject_serial u32 (1..) | created_ms | sig
//   roster   = "sesame/v2/roster" 0 | thread_id | version u32 (1..) | prev_hash[32] (zeros at
//              version 1 only) | visibility u8 (1, 2) | n u8 (1..16) | n x (user_id | role u8
//              (2..4)), ids strictly ascending | created_ms | signer_user_id | sig
//   mailbox  = "sesame/v2/mailbox" 0 | device_id | box_pk | serial u32 (1..) | not_before_ms
//              | not_after_ms (> not_before_ms) | sig by the device's signing key
//
// Fields: ids and keys are Uint8Arrays, u32 fields Numbers, u64 fields BigInts (encode also
// takes safe Numbers and decimal strings). Parsed values are copies, never views of the input.

import { SesError } from './errors.js';
import sodium from './sodium.js';
import {
  bytes,
  bytesEqual,
  compareBytes,
  concat,
  context,
  readU32be,
  readU64be,
  toU64,
  u32be,
  u64be,
} from './encode.js';

/** Context strings (each followed by its NUL in the statement). */
export const CTX = Object.freeze({
  identity: 'sesame/v2/identity',
  device: 'sesame/v2/device',
  vouch: 'sesame/v2/vouch',
  roster: 'sesame/v2/roster',
  mailbox: 'sesame/v2/mailbox',
});

/** Sizes of whole statements, signature included. */
export const IDENTITY_BYTES = 143;
export const DEVICE_BYTES = 185;
export const VOUCH_BYTES = 156;
export const ROSTER_FIXED = 159;
export const ROSTER_MEMBER_BYTES = 17;
export const ROSTER_MIN_MEMBERS = 1;
export const ROSTER_MAX_MEMBERS = 16;
export const MAILBOX_BYTES = 150;
export const SIG_BYTES = 64;
export const HASH_BYTES = 32;

/** A roster's visibility. */
export const VISIBILITY = Object.freeze({ SHARED: 1, JOINED: 2 });
/** Member roles of a roster (roles.h). */
export const ROLE = Object.freeze({ NURSE: 2, PSYCHIATRIST: 3, GP: 4 });

const U32_MAX = 0xffffffff;

/**
 * Bytes of a roster statement with n members.
 * @param {number} n
 * @returns {number} 159 + 17 n
 */
export function rosterBytes(n) {
  return ROSTER_FIXED + ROSTER_MEMBER_BYTES * n;
}

function badField(what) {
  return new SesError('BAD_FIELD', what);
}

/** A u32 field for encoding: an integer 0..2^32-1 (range checks are the kind's). */
function u32(v, what) {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) {
    throw new SesError('INVALID_ARG', `${what}: not a u32`);
  }
  return v;
}

/** A u8 field for encoding: an integer 0..255. */
function u8(v, what) {
  if (!Number.isInteger(v) || v < 0 || v > 255) {
    throw new SesError('INVALID_ARG', `${what}: not a u8`);
  }
  return v;
}

/** The range checks of each kind (as the C parser's), on decoded fields. */
const RULES = {
  identity: (s) => s.serial >= 1 || 'serial 0',
  device: () => true,
  vouch: (s) => s.subjectSerial >= 1 || 'subject_serial 0',
  roster(s) {
    if (s.version < 1) return 'version 0';
    const zero = s.prevHash.every((x) => x === 0);
    if ((s.version === 1) !== zero) return 'prev_hash must be zero exactly at version 1';
    if (s.visibility !== VISIBILITY.SHARED && s.visibility !== VISIBILITY.JOINED) {
      return 'visibility';
    }
    const n = s.members.length;
    if (n < ROSTER_MIN_MEMBERS || n > ROSTER_MAX_MEMBERS) return 'member count';
    for (let i = 0; i < n; i++) {
      const { role } = s.members[i];
      if (role !== ROLE.NURSE && role !== ROLE.PSYCHIATRIST && role !== ROLE.GP) return 'role';
      if (i > 0 && compareBytes(s.members[i - 1].userId, s.members[i].userId) >= 0) {
        return 'user ids not strictly ascending';
      }
    }
    return true;
  },
  mailbox(s) {
    if (s.serial < 1) return 'serial 0';
    return s.notBeforeMs < s.notAfterMs || 'not_before_ms must be below not_after_ms';
  },
};

/** Throws BAD_FIELD unless the fields pass the kind's rules. */
function checkRules(kind, s) {
  const ok = RULES[kind](s);
  if (ok !== true) throw badField(`${kind} statement: ${ok}`);
}

/** The fields of st, normalised (u64 as BigInt, lengths checked); INVALID_ARG when malformed. */
function normal(kind, st) {
  if (st === null || typeof st !== 'object') throw new SesError('INVALID_ARG', 'no fields');
  switch (kind) {
    case 'identity':
      return {
        userId: bytes(st.userId, 16, 'user_id'),
        ikPk: bytes(st.ikPk, 32, 'ik_pk'),
        serial: u32(st.serial, 'serial'),
        createdMs: toU64(st.createdMs),
      };
    case 'device':
      return {
        userId: bytes(st.userId, 16, 'user_id'),
        deviceId: bytes(st.deviceId, 16, 'device_id'),
        signPk: bytes(st.signPk, 32, 'sign_pk'),
        boxPk: bytes(st.boxPk, 32, 'box_pk'),
        createdMs: toU64(st.createdMs),
      };
    case 'vouch':
      return {
        voucherUserId: bytes(st.voucherUserId, 16, 'voucher_user_id'),
        subjectUserId: bytes(st.subjectUserId, 16, 'subject_user_id'),
        subjectIkPk: bytes(st.subjectIkPk, 32, 'subject_ik_pk'),
        subjectSerial: u32(st.subjectSerial, 'subject_serial'),
        createdMs: toU64(st.createdMs),
      };
    case 'roster':
      if (!Array.isArray(st.members) || st.members.length > 255) {
        throw new SesError('INVALID_ARG', 'members: an array');
      }
      return {
        threadId: bytes(st.threadId, 16, 'thread_id'),
        version: u32(st.version, 'version'),
        prevHash: bytes(st.prevHash, 32, 'prev_hash'),
        visibility: u8(st.visibility, 'visibility'),
        members: st.members.map((m) => ({
          userId: bytes(m?.userId, 16, 'member user_id'),
          role: u8(m.role, 'role'),
        })),
        createdMs: toU64(st.createdMs),
        signerUserId: bytes(st.signerUserId, 16, 'signer_user_id'),
      };
    case 'mailbox':
      return {
        deviceId: bytes(st.deviceId, 16, 'device_id'),
        boxPk: bytes(st.boxPk, 32, 'box_pk'),
        serial: u32(st.serial, 'serial'),
        notBeforeMs: toU64(st.notBeforeMs),
        notAfterMs: toU64(st.notAfterMs),
      };
    default:
      throw new SesError('INVALID_ARG', `no statement kind ${kind}`);
  }
}

/** The signed bytes of normalised fields s (rules already checked). */
function layout(kind, s) {
  const head = context(CTX[kind]);
  switch (kind) {
    case 'identity':
      return concat(head, s.userId, s.ikPk, u32be(s.serial), u64be(s.createdMs));
    case 'device':
      return concat(head, s.userId, s.deviceId, s.signPk, s.boxPk, u64be(s.createdMs));
    case 'vouch':
      return concat(head, s.voucherUserId, s.subjectUserId, s.subjectIkPk,
        u32be(s.subjectSerial), u64be(s.createdMs));
    case 'roster':
      return concat(head, s.threadId, u32be(s.version), s.prevHash,
        Uint8Array.of(s.visibility, s.members.length),
        ...s.members.map((m) => concat(m.userId, Uint8Array.of(m.role))),
        u64be(s.createdMs), s.signerUserId);
    default: /* mailbox */
      return concat(head, s.deviceId, s.boxPk, u32be(s.serial), u64be(s.notBeforeMs),
        u64be(s.notAfterMs));
  }
}

/**
 * The signed bytes of a statement (everything but the signature).
 * @param {'identity'|'device'|'vouch'|'roster'|'mailbox'} kind
 * @param {object} st its fields (see the header comment)
 * @returns {Uint8Array}
 * @throws {SesError} BAD_FIELD (a field out of the range parse accepts), INVALID_ARG
 */
export function encode(kind, st) {
  const s = normal(kind, st);
  checkRules(kind, s);
  return layout(kind, s);
}

/**
 * The whole statement: encode and the Ed25519 signature by sk (the identity key for identity,
 * device, vouch and roster statements, the device's signing key for a mailbox key).
 * @param {string} kind
 * @param {object} st
 * @param {Uint8Array} sk libsodium's 64-byte Ed25519 secret key
 * @returns {Uint8Array}
 * @throws {SesError} as encode; INVALID_ARG also when an identity statement's sk is not ik_pk's
 */
export function sign(kind, st, sk) {
  bytes(sk, 64, 'sk');
  const body = encode(kind, st);
  if (kind === 'identity' && !bytesEqual(sk.subarray(32), st.ikPk)) {
    throw new SesError('INVALID_ARG', 'an identity statement is signed by its own key');
  }
  return concat(body, sodium.crypto_sign_detached(body, sk));
}

/** A reader of b from off, copying. */
function reader(b, off) {
  let o = off;
  return {
    take(n) {
      const v = b.slice(o, o + n);
      o += n;
      return v;
    },
    u8() {
      return b[o++];
    },
    u32() {
      const v = readU32be(b, o);
      o += 4;
      return v;
    },
    u64() {
      const v = readU64be(b, o);
      o += 8;
      return v;
    },
  };
}

/** True when b starts with the kind's context string and its NUL. */
function hasContext(kind, b) {
  const ctx = context(CTX[kind]);
  return b.length >= ctx.length && bytesEqual(b.subarray(0, ctx.length), ctx);
}

/** The exact length a statement of kind must have, from its bytes (a roster: its count). */
function expectedLength(kind, b) {
  switch (kind) {
    case 'identity':
      return IDENTITY_BYTES;
    case 'device':
      return DEVICE_BYTES;
    case 'vouch':
      return VOUCH_BYTES;
    case 'mailbox':
      return MAILBOX_BYTES;
    default: {
      if (b.length < ROSTER_FIXED) return -1;
      const n = b[CTX.roster.length + 1 + 16 + 4 + 32 + 1];
      return n >= ROSTER_MIN_MEMBERS && n <= ROSTER_MAX_MEMBERS ? rosterBytes(n) : -1;
    }
  }
}

/**
 * The strict parse of one statement of kind: exact length, context string, every field in range
 * (as encode). Nothing in it is authenticated until verify.
 * @param {string} kind
 * @param {Uint8Array} b
 * @returns {object} its fields and `sig` (64 bytes), copies
 * @throws {SesError} BAD_FIELD, INVALID_ARG (not bytes, an unknown kind)
 */
export function parse(kind, b) {
  bytes(b, undefined, 'statement');
  if (!Object.hasOwn(CTX, kind)) throw new SesError('INVALID_ARG', `no statement kind ${kind}`);
  if (b.length !== expectedLength(kind, b) || !hasContext(kind, b)) {
    throw badField(`not a ${kind} statement: length or context`);
  }
  const r = reader(b, CTX[kind].length + 1);
  let s;
  switch (kind) {
    case 'identity':
      s = { userId: r.take(16), ikPk: r.take(32), serial: r.u32(), createdMs: r.u64() };
      break;
    case 'device':
      s = { userId: r.take(16), deviceId: r.take(16), signPk: r.take(32), boxPk: r.take(32),
        createdMs: r.u64() };
      break;
    case 'vouch':
      s = { voucherUserId: r.take(16), subjectUserId: r.take(16), subjectIkPk: r.take(32),
        subjectSerial: r.u32(), createdMs: r.u64() };
      break;
    case 'roster': {
      s = { threadId: r.take(16), version: r.u32(), prevHash: r.take(32), visibility: r.u8() };
      const n = r.u8();
      s.members = Array.from({ length: n }, () => ({ userId: r.take(16), role: r.u8() }));
      s.createdMs = r.u64();
      s.signerUserId = r.take(16);
      break;
    }
    default:
      s = { deviceId: r.take(16), boxPk: r.take(32), serial: r.u32(), notBeforeMs: r.u64(),
        notAfterMs: r.u64() };
  }
  checkRules(kind, s);
  s.sig = r.take(SIG_BYTES);
  return s;
}

/** Ed25519 verification of b's trailing signature with pk. */
function sigOk(b, pk) {
  try {
    return sodium.crypto_sign_verify_detached(b.subarray(b.length - SIG_BYTES),
      b.subarray(0, b.length - SIG_BYTES), pk);
  } catch {
    return false;
  }
}

/**
 * Parses a statement and checks its signature with pk, the key the caller trusts for its signer
 * (an identity key; a mailbox key's device signing key). An identity statement verifies only
 * with its own ik_pk.
 * @param {string} kind
 * @param {Uint8Array} b
 * @param {Uint8Array} pk 32 bytes
 * @returns {object} parse's fields
 * @throws {SesError} BAD_FIELD, BAD_SIGNATURE, INVALID_ARG
 */
export function verify(kind, b, pk) {
  bytes(pk, 32, 'pk');
  const s = parse(kind, b);
  if (kind === 'identity' && !bytesEqual(s.ikPk, pk)) {
    throw new SesError('BAD_SIGNATURE', 'an identity statement verifies only with its own key');
  }
  if (!sigOk(b, pk)) throw new SesError('BAD_SIGNATURE', `the ${kind} statement's signature`);
  return s;
}

/**
 * roster_hash = BLAKE2b-256 of the whole roster statement, signature included.
 * @param {Uint8Array} b a roster statement
 * @returns {Uint8Array} 32 bytes
 * @throws {SesError} BAD_FIELD (not a well-formed roster statement), INVALID_ARG
 */
export function rosterHash(b) {
  parse('roster', b);
  return sodium.crypto_generichash(HASH_BYTES, b, null);
}

/**
 * Checks a thread's roster chain, oldest first, from its creation (ses_roster_chain_check). For
 * each statement i in order, the first failure deciding: 1. parse (BAD_FIELD); 2. the signer's
 * trusted identity key exists and the signature verifies with it (BAD_SIGNATURE); 3. i = 0:
 * version 1 with its signer among its members; i > 0: version = previous + 1, prev_hash = the
 * previous statement's rosterHash, the same thread and visibility, a signer who is a nurse
 * member of the previous version (ROSTER_BROKEN). The error carries `index`, the statement at
 * fault.
 * @param {Uint8Array[]} stmts
 * @param {(userId: Uint8Array) => (Uint8Array|null|undefined)} trustedIk the identity key the
 *   verifier trusts for a user, or null
 * @returns {object} the last version, parsed
 * @throws {SesError} BAD_FIELD, BAD_SIGNATURE, ROSTER_BROKEN (with index); INVALID_ARG (an
 *   empty chain, no trustedIk function)
 */
export function rosterChainCheck(stmts, trustedIk) {
  if (!Array.isArray(stmts) || stmts.length === 0 || typeof trustedIk !== 'function') {
    throw new SesError('INVALID_ARG', 'a non-empty chain and a trustedIk function', { index: 0 });
  }
  let prev = null;
  let prevHash = null;
  for (let i = 0; i < stmts.length; i++) {
    const at = (e) => Object.assign(e, { index: i });
    let cur;
    try {
      cur = parse('roster', bytes(stmts[i], undefined, 'statement'));
    } catch (e) {
      if (e instanceof SesError && e.code === 'INVALID_ARG') {
        throw at(new SesError('BAD_FIELD', 'not a statement'));
      }
      throw at(e);
    }
    const ik = trustedIk(cur.signerUserId);
    if (!(ik instanceof Uint8Array) || ik.length !== 32 || !sigOk(stmts[i], ik)) {
      throw at(new SesError('BAD_SIGNATURE', 'not signed by the signer\'s trusted identity key'));
    }
    const broken = (why) => at(new SesError('ROSTER_BROKEN', why));
    const memberOf = (r, id) => r.members.find((m) => bytesEqual(m.userId, id));
    if (prev === null) {
      if (cur.version !== 1) throw broken('the chain does not start at version 1');
      if (!memberOf(cur, cur.signerUserId)) throw broken('the signer is not a member');
    } else {
      if (cur.version !== prev.version + 1) throw broken('not the next version');
      if (!bytesEqual(cur.prevHash, prevHash)) throw broken('prev_hash');
      if (!bytesEqual(cur.threadId, prev.threadId)) throw broken('another thread');
      if (cur.visibility !== prev.visibility) throw broken('a changed visibility');
      if (memberOf(prev, cur.signerUserId)?.role !== ROLE.NURSE) {
        throw broken('the signer is not a nurse member of the previous version');
      }
    }
    prevHash = sodium.crypto_generichash(HASH_BYTES, stmts[i], null);
    prev = cur;
  }
  return prev;
}

/**
 * Whether a mailbox key may be used at nowMs: notBeforeMs <= nowMs <= notAfterMs.
 * @param {{notBeforeMs: bigint, notAfterMs: bigint}} m parse's fields
 * @param {number|bigint|string} nowMs
 * @returns {boolean}
 */
export function mailboxValidAt(m, nowMs) {
  if (!m) return false;
  const now = toU64(nowMs);
  return toU64(m.notBeforeMs) <= now && now <= toU64(m.notAfterMs);
}
