// fingerprint.js - what a person compares between two devices, exactly as the CLI prints it:
// a device key fingerprint (`sesame device fingerprint`, e2e_fingerprint in
// clients/cli/e2e_roster.c: the first 8 bytes of BLAKE2b-256 of sign_pk, as 16 hex characters,
// shown "abcd ef01 2345 6789"; PROTOCOL.md §12 asks for it before a history re-wrap) and the
// safety number of two users (`sesame safety-number`, clients/cli/cmd_directory.c: Signal's
// numeric fingerprint, version 0, 5200 iterations of SHA-512, over each user's sorted active
// device signing keys). SHA-512 is WebCrypto's (libsodium-wrappers has none), hence async.

import sodium from './sodium.js';
import { bytes, compareBytes, concat, toHex } from './encode.js';

const SAFETY_ITERATIONS = 5200;
const SAFETY_VERSION = 0;

/**
 * 16 hex characters identifying a device's signing key: the first 8 bytes of BLAKE2b-256
 * (unkeyed) of sign_pk.
 * @param {Uint8Array} signPk 32 bytes
 * @returns {string}
 */
export function fingerprint(signPk) {
  return toHex(sodium.crypto_generichash(32, bytes(signPk, 32, 'sign_pk'), null).subarray(0, 8));
}

/**
 * A fingerprint in groups of 4 ("abcd ef01 2345 6789"), as the CLI shows it.
 * @param {string} fp 16 hex characters
 * @returns {string}
 */
export function groupFingerprint(fp) {
  return fp.match(/.{1,4}/g).join(' ');
}

async function sha512(data) {
  return new Uint8Array(await globalThis.crypto.subtle.digest('SHA-512', data));
}

/**
 * One user's 30 digits: h = version u16 | keys | id; 5200 times h = SHA-512(h | keys); the first
 * 30 bytes as six 5-byte big-endian integers, each mod 100000, as 5 digits.
 * @param {Uint8Array} keys the keys, already concatenated in the order to hash
 * @param {Uint8Array} id the user's stable identifier (16-byte user id)
 * @returns {Promise<string>}
 */
export async function safetyHalf(keys, id) {
  let h = concat(Uint8Array.of(SAFETY_VERSION >> 8, SAFETY_VERSION & 0xff), keys, id);
  for (let i = 0; i < SAFETY_ITERATIONS; i++) h = await sha512(concat(h, keys));
  let out = '';
  for (let c = 0; c < 6; c++) {
    let v = 0;
    for (let k = 0; k < 5; k++) v = v * 256 + h[c * 5 + k];
    out += String(v % 100000).padStart(5, '0');
  }
  return out;
}

/**
 * The 60-digit safety number of two users: each half over that user's active device signing
 * keys, sorted, and user id; the two halves sorted and concatenated (both sides see the same).
 * @param {{userId: Uint8Array, signPks: Uint8Array[]}} mine
 * @param {{userId: Uint8Array, signPks: Uint8Array[]}} theirs
 * @returns {Promise<string>}
 */
export async function safetyNumber(mine, theirs) {
  const half = (u) => safetyHalf(concat(...[...u.signPks].sort(compareBytes)),
    bytes(u.userId, 16, 'user id'));
  const [a, b] = await Promise.all([half(mine), half(theirs)]);
  return a <= b ? a + b : b + a;
}

/**
 * A safety number as the CLI prints it: 3 rows of 4 groups of 5 digits.
 * @param {string} number 60 digits
 * @returns {string[]} the 3 rows
 */
export function safetyRows(number) {
  const groups = number.match(/.{5}/g);
  return [0, 1, 2].map((r) => groups.slice(r * 4, r * 4 + 4).join(' '));
}
