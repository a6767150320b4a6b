// keystore.js - this browser as a device: its profile and secret keys in IndexedDB, the secrets
// encrypted with AES-GCM under a WebCrypto key that is non-extractable (script can use it, never
// read it; the way Element Web keeps its pickle key), bound to the user and device by the
// additional data. The same key seals drafts and the local cache (sealLocal/openLocal). Clearing
// the site's data loses the device: the client says so.

const DB_NAME = 'sesame';
const DB_VERSION = 1;
const STORE = 'kv';
const TEXT = new TextEncoder();

/** @returns {Promise<IDBDatabase>} */
function openDb(idb = globalThis.indexedDB) {
  return new Promise((resolve, reject) => {
    const req = idb.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const out = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(out?.result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

const get = (db, key) => tx(db, 'readonly', (s) => s.get(key));
const put = (db, key, value) => tx(db, 'readwrite', (s) => s.put(value, key));

/** The wrapping key, made (non-extractable) on first use. */
async function wrapKey(db) {
  let key = await get(db, 'wrap_key');
  if (!key) {
    key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, [
      'encrypt',
      'decrypt',
    ]);
    await put(db, 'wrap_key', key);
  }
  return key;
}

function aad(context, profile) {
  return TEXT.encode(`sesame/v1/${context}\0${profile.user}\0${profile.device}`);
}

async function seal(db, context, profile, bytes) {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await wrapKey(db);
  const ct = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: aad(context, profile) },
    key,
    bytes,
  );
  return { iv, ct: new Uint8Array(ct) };
}

async function unseal(db, context, profile, box) {
  const key = await wrapKey(db);
  const pt = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: box.iv, additionalData: aad(context, profile) },
    key,
    box.ct,
  );
  return new Uint8Array(pt);
}

/**
 * Stores this device after enrolment: the profile (ids, role, name, site; not secret) and the
 * secret keys (a Uint8Array: the caller's serialisation), sealed.
 * @param {{user: string, device: string, role: string, name: string, site: string|null}} profile
 * @param {Uint8Array} secrets
 */
export async function saveDevice(profile, secrets) {
  const db = await openDb();
  const box = await seal(db, 'device-keys', profile, secrets);
  await put(db, 'device', { profile, box });
  db.close();
}

/**
 * This browser's device, or null when it is not enrolled (or its keys no longer open: then it
 * must be enrolled again).
 * @returns {Promise<{profile: object, secrets: Uint8Array}|null>}
 */
export async function loadDevice() {
  const db = await openDb();
  try {
    const rec = await get(db, 'device');
    if (!rec) return null;
    const secrets = await unseal(db, 'device-keys', rec.profile, rec.box);
    return { profile: rec.profile, secrets };
  } catch {
    return null;
  } finally {
    db.close();
  }
}

/** Seals local data (a draft, a cached record) for this device under a context name. */
export async function sealLocal(profile, context, bytes) {
  const db = await openDb();
  try {
    return await seal(db, `local/${context}`, profile, bytes);
  } finally {
    db.close();
  }
}

/** Opens what sealLocal sealed; throws when it was not sealed here for this context. */
export async function openLocal(profile, context, box) {
  const db = await openDb();
  try {
    return await unseal(db, `local/${context}`, profile, box);
  } finally {
    db.close();
  }
}

/** Stores a sealed local value under name. */
export async function putLocal(name, value) {
  const db = await openDb();
  try {
    await put(db, `local:${name}`, value);
  } finally {
    db.close();
  }
}

/** A stored local value, or undefined. */
export async function getLocal(name) {
  const db = await openDb();
  try {
    return await get(db, `local:${name}`);
  } finally {
    db.close();
  }
}

/** The enrolment code from the link's fragment (#code=...), which never reaches a server. */
export function codeFromFragment(hash = globalThis.location?.hash ?? '') {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const code = params.get('code');
  return code && /^[A-Za-z2-7]{8}-?[A-Za-z2-7]{26}$/.test(code) ? code.toUpperCase() : null;
}
