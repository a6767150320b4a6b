// rewrap.js - history re-wrap for a user's new device (PROTOCOL.md §12): the signed statement,
// creating a re-wrap on an existing device (only after the envelope passed every receiver check,
// the AEAD included), the server's check of its signature, and opening an envelope through a
// re-wrap on the target device with the ordered checks 1-8. The C twins are ses_rewrap_* and
// ses_envelope_open_rewrap in protocol/src/envelope.c.
//
//   sealed    = crypto_box_seal(K, box_pk of the target device)                         80 bytes
//   statement = "sesame/v1/rewrap" 0x00 | thread_id | msg_id | kcommit | target_device_id
//               | sealed | by_device_id                                                 193 bytes
//   sig       = Ed25519(statement), signing key of by_device_id                           64 bytes

import { SesError } from './errors.js';
import sodium, { wipe } from './sodium.js';
import { bytes, bytesEqual, concat, context, toU64 } from './encode.js';
import {
  CTX_REWRAP,
  KCOMMIT_BYTES,
  SEALED_BYTES,
  SIG_BYTES,
  openFinish,
  openInner,
  openPrelude,
  parse,
  unwrapKey,
  verifySig,
  wrapOf,
} from './envelope_core.js';

/** Bytes of the statement. */
export const STATEMENT_BYTES = 193;

/**
 * The signed statement of a re-wrap (layout above).
 * @param {Uint8Array} threadId
 * @param {Uint8Array} msgId
 * @param {Uint8Array} commit the envelope's kcommit
 * @param {Uint8Array} targetDeviceId
 * @param {Uint8Array} sealed 80 bytes
 * @param {Uint8Array} byDeviceId
 * @returns {Uint8Array} 193 bytes
 */
export function rewrapStatement(threadId, msgId, commit, targetDeviceId, sealed, byDeviceId) {
  return concat(
    context(CTX_REWRAP),
    bytes(threadId, 16, 'thread_id'),
    bytes(msgId, 16, 'msg_id'),
    bytes(commit, KCOMMIT_BYTES, 'kcommit'),
    bytes(targetDeviceId, 16, 'target device id'),
    bytes(sealed, SEALED_BYTES, 'sealed'),
    bytes(byDeviceId, 16, 'by device id'),
  );
}

/**
 * Verifies a re-wrap's signature for a parsed envelope (what the server checks): the statement
 * of (v's thread_id, msg_id, kcommit, target, sealed, by) signed by bySignPk.
 * @param {object} v envelope.parse's view
 * @param {Uint8Array} targetDeviceId
 * @param {Uint8Array} sealed
 * @param {Uint8Array} byDeviceId
 * @param {Uint8Array} sig 64 bytes
 * @param {Uint8Array} bySignPk 32 bytes
 * @throws {SesError} BAD_SIGNATURE, INVALID_ARG
 */
export function rewrapVerify(v, targetDeviceId, sealed, byDeviceId, sig, bySignPk) {
  const st = rewrapStatement(v.hdr.threadId, v.hdr.msgId, v.kcommit, targetDeviceId, sealed,
    byDeviceId);
  bytes(sig, SIG_BYTES, 'sig');
  bytes(bySignPk, 32, 'by sign_pk');
  let ok = false;
  try {
    ok = sodium.crypto_sign_verify_detached(sig, st, bySignPk);
  } catch {
    ok = false;
  }
  if (!ok) throw new SesError('BAD_SIGNATURE', 'the re-wrap signature does not verify');
}

/**
 * The existing device me re-wraps the K of an envelope it can open for another device of its
 * own user. In this order: parse (UNSUPPORTED, BAD_ENVELOPE); the sender's signature
 * (BAD_SIGNATURE); a wrap for me (NOT_A_RECIPIENT) that opens (DECRYPT_FAILED); kcommit
 * (BAD_COMMITMENT); the ciphertext decrypts with a sound inner layout and ids (DECRYPT_FAILED,
 * BAD_ENVELOPE, INNER_MISMATCH): only a key that opens the message is passed on. The caller makes
 * sure target is an active device of ITS OWN user. K and the plaintext are wiped.
 * @param {Uint8Array} b the envelope
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array, boxSk: Uint8Array, signSk: Uint8Array}} me
 * @param {Uint8Array} senderSignPk the envelope's sending device's key
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array}} target
 * @returns {{sealed: Uint8Array, sig: Uint8Array}}
 * @throws {SesError} the codes above; INVALID_ARG (target = me, an unusable target key)
 */
export function rewrapCreate(b, me, senderSignPk, target) {
  bytes(target.deviceId, 16, 'target device id');
  bytes(target.boxPk, 32, 'target box_pk');
  bytes(me.signSk, 64, 'my sign_sk');
  if (bytesEqual(target.deviceId, bytes(me.deviceId, 16, 'my device id'))) {
    throw new SesError('INVALID_ARG', 'the target is this device');
  }
  const v = parse(b);
  verifySig(v, senderSignPk);
  const mine = wrapOf(v, me.deviceId);
  if (!mine) throw new SesError('NOT_A_RECIPIENT', 'no key wrapped to this device');
  const key = unwrapKey(v, mine, me);
  let sealed;
  try {
    wipe(openInner(v, key).body);
    sealed = sodium.crypto_box_seal(key, target.boxPk);
  } catch (e) {
    if (e instanceof SesError) throw e;
    throw new SesError('INVALID_ARG', 'an unusable target key');
  } finally {
    wipe(key);
  }
  const st = rewrapStatement(v.hdr.threadId, v.hdr.msgId, v.kcommit, target.deviceId, sealed,
    me.deviceId);
  return { sealed, sig: sodium.crypto_sign_detached(st, me.signSk) };
}

/**
 * Opens an envelope on a device that has no wrap in it but a re-wrap, in this order, the first
 * failure deciding: 1. structure (UNSUPPORTED, BAD_ENVELOPE); 2. the sender's signature, first
 * (BAD_SIGNATURE); 3. every wrap an expected device (GHOST_DEVICE; this device is not counted
 * missing); 4. by has a wrap: only a recipient knew K (NOT_A_RECIPIENT); 5. the re-wrap's
 * signature with target = this device (BAD_SIGNATURE); 6. sealed opens with this device's box
 * keys (DECRYPT_FAILED); 7. kcommit (BAD_COMMITMENT); 8. decryption, inner checks and sender_seq
 * (DECRYPT_FAILED, BAD_ENVELOPE, INNER_MISMATCH, REPLAYED). THE CALLER MUST CHECK that by is an
 * active device of this device's own user and bySignPk its key.
 * @param {Uint8Array} b the envelope
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array, boxSk: Uint8Array}} me
 * @param {{senderSignPk: Uint8Array, rewrap: {sealed: Uint8Array, sig: Uint8Array,
 *   byDeviceId: Uint8Array, bySignPk: Uint8Array}, expected?: Uint8Array[],
 *   lastSeenSeq?: bigint|number}} o
 * @returns {object} as envelope.open's: {hdr, contentType, body, nWraps, nMissing}
 * @throws {SesError} the codes above, INVALID_ARG
 */
export function openRewrap(b, me, o) {
  const rw = o.rewrap;
  bytes(rw?.sealed, SEALED_BYTES, 'sealed');
  const { view, missing } = openPrelude(b, me.deviceId, o.senderSignPk, o.expected ?? []);
  if (!wrapOf(view, bytes(rw.byDeviceId, 16, 'by device id'))) {
    throw new SesError('NOT_A_RECIPIENT', 'the re-wrapping device has no wrap: it never had K');
  }
  rewrapVerify(view, me.deviceId, rw.sealed, rw.byDeviceId, rw.sig, rw.bySignPk);
  return openFinish(view, rw.sealed, me, toU64(o.lastSeenSeq ?? 0n), missing);
}
