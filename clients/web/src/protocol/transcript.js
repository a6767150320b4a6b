// transcript.js - the signed bytes of login and enrolment (PROTOCOL.md §5), key ids, enrolment
// codes (§6), a device's key pairs, and the two pre-login frames (§4, §7: `auth`, `enroll`) for a
// server's hello. The C twins are protocol/src/transcript.c, encode.c (codes) and the CLI's
// conn.c (frames); protocol/vectors/transcripts.json pins the bytes.

import { SesError } from './errors.js';
import sodium, { wipe } from './sodium.js';
import {
  bytes,
  concat,
  context,
  fromB32,
  fromB64url,
  idFromText,
  idToText,
  toB32,
  toB64url,
  u64be,
  utf8Encode,
} from './encode.js';

export const CTX_LOGIN = 'sesame/v1/login';
export const CTX_ENROLL = 'sesame/v1/enroll';
export const CTX_KID = 'sesame/v1/kid';
/** Bytes of the login transcript (context and NUL, 16 + 32 + 32 + 16 + 8). */
export const LOGIN_TRANSCRIPT_LEN = 120;
/** Bytes of the enrolment transcript (context and NUL, 16 + 32 + 5 + 32 + 32 + 8). */
export const ENROLL_TRANSCRIPT_LEN = 142;
export const TICKET_BYTES = 5;
export const SECRET_BYTES = 16;
export const NONCE_BYTES = 32;
/** Largest pre-login frame (§2). */
export const MAX_PREAUTH_FRAME = 1024;
/** Room left in a pre-login frame for its `"id":N,` (the Connection adds it). */
const ID_ROOM = 24;
/** Display and device names: 1..64 bytes of UTF-8 (§2). */
const MAX_NAME_BYTES = 64;
/** C0/C1 controls, invisible characters and bidi overrides a name may not hold (§2). */
const NAME_FORBIDDEN =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/u;

/**
 * kid16(pk) = BLAKE2b-128("sesame/v1/kid" 0x00 | pk), unkeyed.
 * @param {Uint8Array} pk
 * @returns {Uint8Array} 16 bytes
 */
export function kid16(pk) {
  return sodium.crypto_generichash(16, concat(context(CTX_KID), bytes(pk)), null);
}

/**
 * The login transcript: "sesame/v1/login" 0x00 | server_id | snonce | cnonce | device_id | ts.
 * @param {Uint8Array} serverId 16 bytes
 * @param {Uint8Array} snonce 32
 * @param {Uint8Array} cnonce 32
 * @param {Uint8Array} deviceId 16
 * @param {number|bigint|string} tsMs u64 milliseconds
 * @returns {Uint8Array} 120 bytes
 */
export function loginTranscript(serverId, snonce, cnonce, deviceId, tsMs) {
  return concat(
    context(CTX_LOGIN),
    bytes(serverId, 16, 'server_id'),
    bytes(snonce, NONCE_BYTES, 'snonce'),
    bytes(cnonce, NONCE_BYTES, 'cnonce'),
    bytes(deviceId, 16, 'device_id'),
    u64be(tsMs),
  );
}

/**
 * The enrolment transcript: "sesame/v1/enroll" 0x00 | server_id | snonce | ticket | sign_pk |
 * box_pk | ts.
 * @param {Uint8Array} serverId 16 bytes
 * @param {Uint8Array} snonce 32
 * @param {Uint8Array} ticket 5
 * @param {Uint8Array} signPk 32
 * @param {Uint8Array} boxPk 32
 * @param {number|bigint|string} tsMs u64 milliseconds
 * @returns {Uint8Array} 142 bytes
 */
export function enrollTranscript(serverId, snonce, ticket, signPk, boxPk, tsMs) {
  return concat(
    context(CTX_ENROLL),
    bytes(serverId, 16, 'server_id'),
    bytes(snonce, NONCE_BYTES, 'snonce'),
    bytes(ticket, TICKET_BYTES, 'ticket'),
    bytes(signPk, 32, 'sign_pk'),
    bytes(boxPk, 32, 'box_pk'),
    u64be(tsMs),
  );
}

/**
 * Ed25519 signature (RFC 8032, deterministic) of msg.
 * @param {Uint8Array} msg
 * @param {Uint8Array} signSk 64 bytes
 * @returns {Uint8Array} 64 bytes
 */
export function sign(msg, signSk) {
  return sodium.crypto_sign_detached(bytes(msg), bytes(signSk, 64, 'sign_sk'));
}

/**
 * Whether sig is pk's Ed25519 signature of msg (false for keys or signatures of a wrong size).
 * @param {Uint8Array} sig
 * @param {Uint8Array} msg
 * @param {Uint8Array} pk
 * @returns {boolean}
 */
export function verify(sig, msg, pk) {
  if (!(sig instanceof Uint8Array) || sig.length !== 64) return false;
  if (!(pk instanceof Uint8Array) || pk.length !== 32) return false;
  try {
    return sodium.crypto_sign_verify_detached(sig, bytes(msg), pk);
  } catch {
    return false;
  }
}

/**
 * "TTTTTTTT-SSSSSSSSSSSSSSSSSSSSSSSSSS": the ticket and the secret in upper-case base32.
 * @param {Uint8Array} ticket 5 bytes
 * @param {Uint8Array} secret 16 bytes
 * @returns {string}
 */
export function formatCode(ticket, secret) {
  const t = toB32(bytes(ticket, TICKET_BYTES, 'ticket'), true);
  return `${t}-${toB32(bytes(secret, SECRET_BYTES, 'secret'), true)}`;
}

/**
 * The ticket and secret of an enrolment code: either case, the dash after the ticket optional
 * (at most one, only there), nothing else (as ses_code_parse). The caller wipes secret.
 * @param {string} text
 * @returns {{ticket: Uint8Array, secret: Uint8Array}}
 * @throws {SesError} CODE_INVALID
 */
export function parseCode(text) {
  const m = typeof text === 'string' ? /^([A-Za-z2-7]{8})-?([A-Za-z2-7]{26})$/.exec(text) : null;
  if (!m) throw new SesError('CODE_INVALID', 'not an enrolment code');
  try {
    return { ticket: fromB32(m[1], TICKET_BYTES), secret: fromB32(m[2], SECRET_BYTES) };
  } catch {
    throw new SesError('CODE_INVALID', 'not an enrolment code');
  }
}

/**
 * A device's key pair from seeds (known-answer vectors; a real device uses newDeviceKeys):
 * crypto_sign_seed_keypair and crypto_box_seed_keypair.
 * @param {Uint8Array} signSeed 32 bytes
 * @param {Uint8Array} boxSeed 32 bytes
 * @returns {{signPk: Uint8Array, signSk: Uint8Array, boxPk: Uint8Array, boxSk: Uint8Array}}
 */
export function deviceKeysFromSeeds(signSeed, boxSeed) {
  const s = sodium.crypto_sign_seed_keypair(bytes(signSeed, 32, 'sign seed'));
  const b = sodium.crypto_box_seed_keypair(bytes(boxSeed, 32, 'box seed'));
  return { signPk: s.publicKey, signSk: s.privateKey, boxPk: b.publicKey, boxSk: b.privateKey };
}

/**
 * Fresh key pairs of a new device: an Ed25519 signing pair and a separate X25519 box pair.
 * @returns {{signPk: Uint8Array, signSk: Uint8Array, boxPk: Uint8Array, boxSk: Uint8Array}}
 */
export function newDeviceKeys() {
  const s = sodium.crypto_sign_keypair();
  const b = sodium.crypto_box_keypair();
  return { signPk: s.publicKey, signSk: s.privateKey, boxPk: b.publicKey, boxSk: b.privateKey };
}

/**
 * The fields of a server's hello ({"t":"hello","v":1,"server_id":B64(16),"nonce":B64(32),
 * "time":MS}).
 * @param {object} hello
 * @returns {{serverId: Uint8Array, snonce: Uint8Array, time: number}}
 * @throws {SesError} BAD_FRAME (not a hello), UNSUPPORTED (another version), BAD_FIELD
 */
export function parseHello(hello) {
  if (hello === null || typeof hello !== 'object' || hello.t !== 'hello') {
    throw new SesError('BAD_FRAME', 'not a hello');
  }
  if (hello.v !== 1) throw new SesError('UNSUPPORTED', `protocol version ${hello.v}`);
  const serverId = fromB64url(hello.server_id, 16);
  const snonce = fromB64url(hello.nonce, NONCE_BYTES);
  if (!Number.isSafeInteger(hello.time) || hello.time < 0) {
    throw new SesError('BAD_FIELD', 'hello time');
  }
  return { serverId, snonce, time: hello.time };
}

/** ts of a frame: a JSON number, so a non-negative safe integer. */
function frameTs(nowMs) {
  if (!Number.isSafeInteger(nowMs) || nowMs < 0) {
    throw new SesError('INVALID_ARG', 'time must be a non-negative safe integer');
  }
  return nowMs;
}

/**
 * The `auth` frame for a hello (without `id`: the Connection adds it): {"t":"auth","device",
 * "snonce","cnonce","ts","sig"}, sig over the login transcript.
 * @param {object} hello the server's hello
 * @param {{deviceId: string, signSk: Uint8Array}} device the device id's text and signing key
 * @param {number} nowMs this client's time (ms since the epoch)
 * @param {{cnonce?: Uint8Array}} [opts] cnonce: 32 given bytes (vectors only; default random)
 * @returns {object}
 * @throws {SesError} see parseHello; BAD_FIELD (device id), INVALID_ARG
 */
export function authFrame(hello, device, nowMs, opts = {}) {
  const { serverId, snonce } = parseHello(hello);
  const deviceId = idFromText(device.deviceId);
  const cnonce = opts.cnonce ?? sodium.randombytes_buf(NONCE_BYTES);
  const ts = frameTs(nowMs);
  const sig = sign(loginTranscript(serverId, snonce, cnonce, deviceId, ts), device.signSk);
  return {
    t: 'auth',
    device: idToText(deviceId),
    snonce: toB64url(snonce),
    cnonce: toB64url(cnonce),
    ts,
    sig: toB64url(sig),
  };
}

/**
 * Checks a display or device name: 1..64 bytes of UTF-8 without control, invisible or
 * bidi-override characters (§2).
 * @param {string} name
 * @returns {string} name
 * @throws {SesError} BAD_FIELD
 */
export function checkName(name) {
  const n = utf8Encode(name).length;
  if (n < 1 || n > MAX_NAME_BYTES || NAME_FORBIDDEN.test(name)) {
    throw new SesError('BAD_FIELD', 'a name is 1..64 bytes of text without control characters');
  }
  return name;
}

/**
 * The `enroll` frame for a hello (without `id`): {"t":"enroll","code","sign_pk","box_pk","ts",
 * "sig"[,"device_name"]}, the code in its canonical form, sig over the enrolment transcript.
 * @param {object} hello the server's hello
 * @param {string} code the enrolment code as typed (either case, dash optional)
 * @param {{signPk: Uint8Array, signSk: Uint8Array, boxPk: Uint8Array}} keys the new device's
 * @param {number} nowMs this client's time (ms since the epoch)
 * @param {string} [deviceName]
 * @returns {object}
 * @throws {SesError} CODE_INVALID, BAD_FIELD (device name), TOO_LARGE (frame over 1 KiB), and
 *   see parseHello
 */
export function enrollFrame(hello, code, keys, nowMs, deviceName) {
  const { serverId, snonce } = parseHello(hello);
  const { ticket, secret } = parseCode(code);
  const ts = frameTs(nowMs);
  const tr = enrollTranscript(serverId, snonce, ticket, keys.signPk, keys.boxPk, ts);
  const frame = {
    t: 'enroll',
    code: formatCode(ticket, secret),
    sign_pk: toB64url(keys.signPk),
    box_pk: toB64url(keys.boxPk),
    ts,
    sig: toB64url(sign(tr, keys.signSk)),
  };
  wipe(secret);
  if (deviceName !== undefined && deviceName !== null) frame.device_name = checkName(deviceName);
  if (utf8Encode(JSON.stringify(frame)).length + ID_ROOM > MAX_PREAUTH_FRAME) {
    throw new SesError('TOO_LARGE', 'the enroll frame would exceed 1 KiB');
  }
  return frame;
}
