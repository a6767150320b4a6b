// envelope.js - SES1 end-to-end envelopes, suite 1 (PROTOCOL.md §10): sealing to a list of
// recipient devices (random, or with given K, nonce and ephemeral keys for the known-answer
// vectors), the strict parse, the signature, opening as a recipient, and the receiver's whole
// decision on one delivered message, `receive`, in the order and with the codes of
// ses_envelope_receive (protocol/src/envelope_receive.c): the frame's claim, the envelope's
// checks (own wrap or history re-wrap, §12), ghost wraps tolerated on request, and the replay
// rules against the caller's marks. protocol/vectors/envelope.json pins the bytes.
//
// Replay state (plain data the caller keeps; see receive):
//   marks: {[senderDeviceIdText]: {seq: number, sender_seq: string}}  per thread, PERSISTED: the
//          highest thread seq verified from that device and its sender_seq (decimal string)
//   run:   {seq: Map<senderDeviceIdText, bigint>, ids: Set<msgIdHex>}  per walk through a
//          thread (newRun()), NEVER persisted: sender_seqs and msg_ids opened in this walk

import { SesError } from './errors.js';
import sodium, { wipe } from './sodium.js';
import { bytes, bytesEqual, concat, idToText, toHex, toU64, u32be } from './encode.js';
import {
  BODY_MAX,
  CONTENT_TYPE_MAX,
  MAX_WRAPS,
  NONCE_BYTES,
  SEQ_MAX,
  SIG_BYTES,
  fixedHeader,
  idSet,
  innerPlaintext,
  kcommit,
  normalHeader,
  openFinish,
  openPrelude,
  parse,
  signedBytes,
  wrapOf,
} from './envelope_core.js';
import { openRewrap } from './rewrap.js';

export {
  CONTENT,
  ENVELOPE_B64_MAX,
  ENVELOPE_MAX,
  ENVELOPE_MIN,
  BODY_MAX,
  OFF,
  INNER,
  SEALED_BYTES,
  SEQ_MAX,
  innerPlaintext,
  kcommit,
  normalHeader,
  parse,
  rosterHash,
  verifySig,
  wrapOf,
} from './envelope_core.js';

/**
 * crypto_box_seal(K) with a given ephemeral secret key: epk | crypto_box_easy(K,
 * nonce = BLAKE2b-192(epk | pk), pk, esk), which crypto_box_seal_open opens.
 * @param {Uint8Array} key K
 * @param {Uint8Array} pk the recipient's box key
 * @param {Uint8Array} esk ephemeral X25519 secret key
 * @returns {Uint8Array} 80 bytes
 */
function sealWith(key, pk, esk) {
  const epk = sodium.crypto_scalarmult_base(esk);
  const nonce = sodium.crypto_generichash(24, concat(epk, pk), null);
  return concat(epk, sodium.crypto_box_easy(key, nonce, pk, esk));
}

/** The wrap of K for one recipient (random ephemeral key, or the i-th given seed's). */
function wrapKey(key, pk, ephSeed) {
  try {
    if (!ephSeed) return sodium.crypto_box_seal(key, pk);
    const eph = sodium.crypto_box_seed_keypair(bytes(ephSeed, 32, 'eph seed'));
    const sealed = sealWith(key, pk, eph.privateKey);
    wipe(eph.privateKey);
    return sealed;
  } catch (e) {
    if (e instanceof SesError) throw e;
    throw new SesError('INVALID_ARG', 'an unusable recipient key');
  }
}

function checkSeal(content, recipients) {
  const { contentType, body } = content ?? {};
  if (!Number.isInteger(contentType) || contentType < 1 || contentType > CONTENT_TYPE_MAX) {
    throw new SesError('INVALID_ARG', 'content type 1..6');
  }
  bytes(body, undefined, 'body');
  if (!Array.isArray(recipients) || recipients.length < 1 || recipients.length > MAX_WRAPS) {
    throw new SesError('INVALID_ARG', '1..32 recipients');
  }
  idSet(recipients.map((r) => r.deviceId), 'recipients');
  for (const r of recipients) bytes(r.boxPk, 32, 'recipient box_pk');
  if (body.length > BODY_MAX) throw new SesError('TOO_LARGE', 'a body is at most 65,535 bytes');
}

function sealCore(header, content, recipients, signSk, key, nonce, ephSeeds) {
  const h = normalHeader(header);
  checkSeal(content, recipients);
  bytes(signSk, 64, 'sign_sk');
  if (h.senderSeq === 0n || h.senderSeq > SEQ_MAX) {
    throw new SesError('INVALID_ARG', 'sender_seq is 1 .. 2^53 - 1');
  }
  const wraps = recipients.map((r, i) =>
    concat(r.deviceId, wrapKey(key, r.boxPk, ephSeeds?.[i])));
  const head = concat(fixedHeader(h, kcommit(key, h.msgId), nonce, recipients.length), ...wraps);
  const pt = innerPlaintext(h, content.contentType, content.body);
  let ct;
  try {
    ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(pt, head, null, nonce, key);
  } finally {
    wipe(pt);
  }
  const env = concat(head, u32be(ct.length), ct, new Uint8Array(SIG_BYTES));
  env.set(sodium.crypto_sign_detached(signedBytes(env), signSk), env.length - SIG_BYTES);
  return env;
}

/**
 * Seals a body to recipient devices and signs it (§10 "Sender" steps 2-4): fresh K, nonce and
 * ephemeral wrap keys; K and the plaintext are wiped.
 * @param {object} header {threadId, msgId, senderUserId, senderDeviceId (16 bytes each),
 *   senderSeq (>= 1), rosterHash (32), createdMs, alertType?, severity?, deadlineMs?}; the
 *   integers Number, BigInt or decimal strings
 * @param {{contentType: number, body: Uint8Array}} content type 1..6, body <= 65,535 bytes
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array}[]} recipients 1..32 distinct devices (the
 *   sending device too, to read its messages back)
 * @param {Uint8Array} signSk the sending device's Ed25519 secret key (64 bytes)
 * @returns {Uint8Array} the envelope
 * @throws {SesError} INVALID_ARG, TOO_LARGE
 */
export function seal(header, content, recipients, signSk) {
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_keygen();
  try {
    return sealCore(header, content, recipients, signSk, key,
      sodium.randombytes_buf(NONCE_BYTES), null);
  } finally {
    wipe(key);
  }
}

/**
 * seal with every random input given: K, the nonce, and per recipient the seed of its wrap's
 * ephemeral key pair (crypto_box_seed_keypair). FOR KNOWN-ANSWER VECTORS AND TESTS ONLY:
 * reusing K, a nonce or an ephemeral key across messages is fatal.
 * @param {object} header as seal's
 * @param {{contentType: number, body: Uint8Array}} content
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array}[]} recipients
 * @param {Uint8Array} signSk
 * @param {{key: Uint8Array, nonce: Uint8Array, ephSeeds: Uint8Array[]}} det 32, 24 and 32 bytes
 * @returns {Uint8Array} the envelope
 * @throws {SesError} INVALID_ARG, TOO_LARGE
 */
export function sealDet(header, content, recipients, signSk, det) {
  if (!det || !Array.isArray(det.ephSeeds) || det.ephSeeds.length !== recipients?.length) {
    throw new SesError('INVALID_ARG', 'one ephemeral seed per recipient');
  }
  return sealCore(header, content, recipients, signSk, bytes(det.key, 32, 'key'),
    bytes(det.nonce, NONCE_BYTES, 'nonce'), det.ephSeeds);
}

/**
 * Opens an envelope as one of its recipients (§10 "Receiver" steps 1-8): structure, the
 * signature before anything else, no ghost wraps, this device's wrap, kcommit, decryption and
 * inner checks, sender_seq above lastSeenSeq. Still the caller's: the roster hash, the sender's
 * membership, msg_id unseen, created_ms skew (see receive for the whole decision).
 * @param {Uint8Array} b the envelope
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array, boxSk: Uint8Array}} me this device
 * @param {{senderSignPk: Uint8Array, expected?: Uint8Array[], lastSeenSeq?: bigint|number}} o
 *   the sending device's key; the expected recipient devices (distinct); 0 when none seen
 * @returns {object} {hdr, contentType, body, nWraps, nMissing} (the caller wipes body)
 * @throws {SesError} INVALID_ARG, UNSUPPORTED, BAD_ENVELOPE, BAD_SIGNATURE, GHOST_DEVICE,
 *   NOT_A_RECIPIENT, DECRYPT_FAILED, BAD_COMMITMENT, INNER_MISMATCH, REPLAYED
 */
export function open(b, me, o) {
  const { view, missing } = openPrelude(b, me.deviceId, o.senderSignPk, o.expected ?? []);
  const mine = wrapOf(view, me.deviceId);
  if (!mine) throw new SesError('NOT_A_RECIPIENT', 'no key wrapped to this device');
  return openFinish(view, mine, me, toU64(o.lastSeenSeq ?? 0n), missing);
}

/**
 * Receiver step 1 of receive: the parse, then the frame's claim (its thread, sender and
 * device) against the header, for a caller that needs the (unauthenticated) header to find the
 * sender's key.
 * @param {Uint8Array} b
 * @param {{threadId: Uint8Array, senderUserId: Uint8Array, senderDeviceId: Uint8Array}} claim
 * @returns {object} parse's view
 * @throws {SesError} UNSUPPORTED, BAD_ENVELOPE, INNER_MISMATCH
 */
export function parseClaimed(b, claim) {
  const v = parse(b);
  const h = v.hdr;
  const same = bytesEqual(h.senderUserId, claim.senderUserId) &&
    bytesEqual(h.senderDeviceId, claim.senderDeviceId) && bytesEqual(h.threadId, claim.threadId);
  if (!same) {
    throw new SesError('INNER_MISMATCH', 'the frame names another thread, sender or device');
  }
  return v;
}

/**
 * A fresh per-walk replay record (see the header: never persisted).
 * @returns {{seq: Map<string, bigint>, ids: Set<string>}}
 */
export function newRun() {
  return { seq: new Map(), ids: new Set() };
}

/** open, or openRewrap when ctx.rewrap. */
function openAs(b, me, ctx, expected, lastSeen) {
  const o = { senderSignPk: ctx.senderSignPk, expected, lastSeenSeq: lastSeen };
  return ctx.rewrap ? openRewrap(b, me, { ...o, rewrap: ctx.rewrap }) : open(b, me, o);
}

/** open after GHOST_DEVICE with the unexpected wrap devices expected; they go to ghosts. */
function openWithGhosts(b, me, ctx, view, lastSeen, ghosts) {
  const all = [...(ctx.expected ?? [])];
  const known = new Set(all.map(toHex));
  for (const w of view.wraps) {
    if (known.has(toHex(w.deviceId))) continue;
    known.add(toHex(w.deviceId));
    all.push(w.deviceId);
    ghosts.push(Uint8Array.from(w.deviceId));
  }
  return openAs(b, me, ctx, all, lastSeen);
}

/** A refusal decision. */
function refused(code, reason, lastSeen, ghosts) {
  const r = reason === 'ENVELOPE' && code === 'REPLAYED' ? 'SEQ' : reason;
  return { accepted: false, code, reason: r, lastSeen, ghosts, advanceMark: false, opened: null };
}

function checkReceiveArgs(me, claim, ctx) {
  if (!me || !claim || !ctx || !Number.isSafeInteger(claim.seq) || claim.seq < 1) {
    throw new SesError('INVALID_ARG', 'claim.seq >= 1, me and ctx needed');
  }
  bytes(me.deviceId, 16, 'my device id');
  bytes(me.boxPk, 32, 'my box_pk');
  bytes(me.boxSk, 32, 'my box_sk');
  bytes(ctx.senderSignPk, 32, 'sender sign_pk');
  idSet(ctx.expected ?? [], 'expected devices');
}

/**
 * The receiver's decision on one delivered message (ses_envelope_receive), the first failure
 * deciding:
 *  1. the structure, then the claim against the header (INNER_MISMATCH, reason CLAIM);
 *  2. open (or openRewrap with ctx.rewrap) against ctx.expected and the bound lastSeen = this
 *     run's last sender_seq from that device, or the persisted mark's for a message newer than
 *     the mark (every code of those, reason ENVELOPE; REPLAYED there is reason SEQ); with
 *     ctx.allowGhosts a GHOST_DEVICE is not final: the unexpected devices go to ghosts and the
 *     envelope is opened again with them expected;
 *  3. the persisted mark: the message at mark.seq must carry mark.sender_seq, one below it a
 *     smaller sender_seq (REPLAYED, reason MARK);
 *  4. a msg_id opened once in this run (REPLAYED, reason MSG_ID).
 * Writes only on acceptance: run gets the sender_seq and msg_id; marks[sender device] advances
 * to (claim.seq, sender_seq) when claim.seq is above its seq (advanceMark).
 * @param {Uint8Array} b the envelope
 * @param {{deviceId: Uint8Array, boxPk: Uint8Array, boxSk: Uint8Array}} me this device
 * @param {{threadId: Uint8Array, senderUserId: Uint8Array, senderDeviceId: Uint8Array,
 *   seq: number}} claim what the frame says: the thread it was fetched from, its sender, device
 *   and seq (>= 1)
 * @param {object} ctx {senderSignPk, expected: Uint8Array[], rewrap?: {sealed, sig, byDeviceId,
 *   bySignPk} (the caller checked: an active device of this user), allowGhosts?: boolean,
 *   marks?: the thread's persisted marks (header), run?: newRun()'s}
 * @returns {{accepted: boolean, code: string|null, reason: string, lastSeen: bigint,
 *   ghosts: Uint8Array[], advanceMark: boolean, opened: object|null}} reason ACCEPTED, CLAIM,
 *   ENVELOPE, SEQ, MARK or MSG_ID; opened as open's
 * @throws {SesError} INVALID_ARG only (not the envelope's fault)
 */
export function receive(b, me, claim, ctx) {
  checkReceiveArgs(me, claim, ctx);
  const ghosts = [];
  let view;
  try {
    view = parseClaimed(b, claim);
  } catch (e) {
    if (!(e instanceof SesError) || e.code === 'INVALID_ARG') throw e;
    return refused(e.code, e.code === 'INNER_MISMATCH' ? 'CLAIM' : 'ENVELOPE', 0n, ghosts);
  }
  const dev = idToText(view.hdr.senderDeviceId);
  const mark = ctx.marks?.[dev] ?? { seq: 0, sender_seq: '0' };
  const markSseq = toU64(mark.sender_seq ?? '0');
  let lastSeen = ctx.run?.seq.get(dev) ?? 0n;
  if (claim.seq > mark.seq && markSseq > lastSeen) lastSeen = markSseq;
  let opened;
  try {
    try {
      opened = openAs(b, me, ctx, ctx.expected ?? [], lastSeen);
    } catch (e) {
      if (!(e instanceof SesError) || e.code !== 'GHOST_DEVICE' || !ctx.allowGhosts) throw e;
      opened = openWithGhosts(b, me, ctx, view, lastSeen, ghosts);
    }
  } catch (e) {
    if (!(e instanceof SesError) || e.code === 'INVALID_ARG') throw e;
    return refused(e.code, 'ENVELOPE', lastSeen, ghosts);
  }
  const sseq = opened.hdr.senderSeq;
  const markBad = claim.seq === mark.seq ? sseq !== markSseq
    : claim.seq < mark.seq && sseq >= markSseq;
  const mid = toHex(opened.hdr.msgId);
  const reason = markBad ? 'MARK' : ctx.run?.ids.has(mid) ? 'MSG_ID' : null;
  if (reason) {
    wipe(opened.body);
    return refused('REPLAYED', reason, lastSeen, ghosts);
  }
  ctx.run?.seq.set(dev, sseq);
  ctx.run?.ids.add(mid);
  const advanceMark = claim.seq > mark.seq;
  if (advanceMark && ctx.marks) ctx.marks[dev] = { seq: claim.seq, sender_seq: sseq.toString() };
  return { accepted: true, code: null, reason: 'ACCEPTED', lastSeen, ghosts, advanceMark, opened };
}
