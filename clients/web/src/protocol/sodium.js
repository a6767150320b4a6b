// sodium.js - libsodium-wrappers, initialised once (`await sodium.ready`) for every module of
// src/protocol, which import it from here.

import sodium from 'libsodium-wrappers';

await sodium.ready;

/** The ready libsodium-wrappers module. */
export default sodium;

/**
 * Wipes secret bytes in place (sodium.memzero); null and undefined are fine.
 * @param {...(Uint8Array|null|undefined)} arrays
 */
export function wipe(...arrays) {
  for (const a of arrays) if (a instanceof Uint8Array) sodium.memzero(a);
}
