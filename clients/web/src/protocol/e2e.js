// e2e.js - the web client's end-to-end layer over the wire (PROTOCOL.md §10-§12), a port of the
// CLI's (clients/cli/e2e*.c, cmd_thread.c, cmd_msg.c, cmd_device.c): the caseload's threads, a
// thread's roster checked against its roster hash and this device's own keys, members' device
// keys, sealing and sending to every active device of every member with the next sender_seq,
// reading a thread (each message opened with every receiver check, through this device's own
// wrap or a history re-wrap), the thread's title, and sharing the history with another device of
// the same user. It runs over an async `request(frame) -> reply` (Connection.request), which
// rejects with an error whose `code` is the server's.
//
// Local state: a plain, JSON-safe object the caller persists (the web app seals it in IndexedDB;
// the same keys as the CLI's state.json). It holds no secret and no clinical content:
//   {v: 1, device: ID,
//    threads: {THREAD_ID: {
//      send_seq: N,          last sender_seq this device used in the thread (§10)
//      synced: S,            server seq up to which the app showed the thread (the app's)
//      title_seq: S, titles_upto: U   seq of the latest title found; up to where titles were
//                            looked for (threadTitle then fetches only what is new)
//      senders: {DEVICE_ID: {seq: S, sender_seq: "N"}}   replay marks (envelope.js receive)
//      devices: {DEVICE_ID: 1}   every device seen in the thread's rosters (older messages)
//    }},
//    users: {USER_ID: {devices: ["DEVICE_ID SIGN_PK BOX_PK", ...] (sorted: key-change warnings),
//                      keys: {DEVICE_ID: SIGN_PK}}}   pinned: every signing key ever seen, so
//                                                     that messages verified before a revocation
//                                                     still verify
//   }

import { E2E_VERIFY_FAILED, SesError } from './errors.js';
import sodium, { wipe } from './sodium.js';
import {
  bytesEqual,
  canonicalId,
  fromB64url,
  idFromText,
  idToText,
  toB64url,
  utf8Decode,
  utf8Encode,
} from './encode.js';
import {
  BODY_MAX,
  CONTENT,
  ENVELOPE_B64_MAX,
  newRun,
  parse,
  parseClaimed,
  receive,
  rosterHash,
  seal,
  verifySig,
  wrapOf,
} from './envelope.js';
import { rewrapCreate } from './rewrap.js';
import { fingerprint, groupFingerprint, safetyNumber, safetyRows } from './fingerprint.js';

/** Messages per fetch request (the protocol maximum). */
export const FETCH_PAGE = 500;
/** Re-wraps per rewrap request (the protocol maximum). */
export const REWRAP_BATCH = 200;
const MAX_MEMBERS = 32;
const MAX_DEVICES = 32;
/** A created_ms this far from the server's ts is noted with the message. */
const SKEW_NOTE_MS = 24 * 3600 * 1000;
const TEXT_TYPES = new Set([CONTENT.TEXT, CONTENT.ALERT_NOTE, CONTENT.THREAD_TITLE]);

/**
 * An empty local state for a device.
 * @param {string} deviceId the device id's text
 * @returns {object} the shape in this file's header
 */
export function newState(deviceId) {
  return { v: 1, device: canonicalId(deviceId), threads: {}, users: {} };
}

const verifyFailed = (msg) => new SesError(E2E_VERIFY_FAILED, msg);
const isObj = (o) => o !== null && typeof o === 'object' && !Array.isArray(o);
const isCount = (n) => Number.isSafeInteger(n) && n >= 0;
const short = (id) => `${id.slice(0, 8)}…`;

/** The id o[key] as {id, text}, or null (absent or not an id). */
function getId(o, key) {
  const text = isObj(o) ? canonicalId(o[key]) : null;
  return text ? { id: idFromText(text), text } : null;
}

/** The base64url o[key] of exactly n bytes, or null. */
function getKey(o, key, n) {
  try {
    return fromB64url(o[key], n);
  } catch {
    return null;
  }
}

/** A string o[key] of fewer than cap UTF-8 bytes, or null. */
function getText(o, key, cap) {
  const s = o?.[key];
  try {
    return typeof s === 'string' && utf8Encode(s).length < cap ? s : null;
  } catch {
    return null;
  }
}

/** One device {device, sign_pk, box_pk} of a roster or keys reply, or null. */
function parseDevice(d) {
  const id = getId(d, 'device');
  const signPk = getKey(d, 'sign_pk', 32);
  const boxPk = getKey(d, 'box_pk', 32);
  if (!id || !signPk || !boxPk) return null;
  return { device: id.text, id: id.id, signPk, boxPk, created: d.created ?? null };
}

/** One member of a roster reply, or null; seen collects device ids (a device twice: null). */
function parseMember(mj, seen) {
  const user = getId(mj, 'user');
  const name = getText(mj, 'name', 65);
  const role = getText(mj, 'role', 16);
  if (!user || name === null || role === null || !Array.isArray(mj.devices) ||
    mj.devices.length > MAX_DEVICES) {
    return null;
  }
  const devices = mj.devices.map(parseDevice);
  if (devices.some((d) => !d || seen.has(d.device) || !seen.add(d.device))) return null;
  return { user: user.text, userId: user.id, name, role, devices };
}

/**
 * The roster fields of a thread_info (or thread, thread_add, thread_remove) reply, parsed but
 * not yet checked against its hash.
 * @param {object} reply
 * @returns {object|null} null when malformed
 */
function parseRosterFields(reply) {
  const thread = getId(reply, 'thread');
  const patient = getText(reply, 'patient', 40);
  const hash = getKey(reply ?? {}, 'roster_hash', 32);
  const v = reply?.roster_version;
  if (!thread || patient === null || !hash || !isCount(v) || v > 0xffffffff ||
    !isCount(reply.last_seq) || !Array.isArray(reply.members) ||
    reply.members.length > MAX_MEMBERS) {
    return null;
  }
  const seen = new Set();
  const members = [];
  for (const mj of reply.members) {
    const m = parseMember(mj, seen);
    if (!m || members.some((o) => o.user === m.user)) return null;
    members.push(m);
  }
  return { thread: thread.text, threadId: thread.id, patient, version: v, hash,
    lastSeq: reply.last_seq, members, meta: isObj(reply.meta) ? reply.meta : null };
}

/**
 * The member of a roster with a user id.
 * @param {object} r a roster (E2eSession.parseRoster's)
 * @param {string} user id text (canonical)
 * @returns {object|undefined} the member {user, userId, name, role, devices}
 */
export function rosterMember(r, user) {
  return r.members.find((m) => m.user === user);
}

/** Every active device of every member of r. */
function rosterDevices(r) {
  return r.members.flatMap((m) => m.devices);
}

/** Whether env (bytes) has a wrap for device id bytes. */
function hasWrapOf(envBytes, id) {
  try {
    return wrapOf(parse(envBytes), id) !== null;
  } catch {
    return false;
  }
}

/**
 * An envelope's base64url text (a message's "env") decoded.
 * @param {unknown} b64
 * @returns {Uint8Array}
 * @throws {SesError} BAD_ENVELOPE (empty, longer than any envelope, or not base64url)
 */
export function decodeEnv(b64) {
  if (typeof b64 !== 'string' || b64.length === 0 || b64.length > ENVELOPE_B64_MAX) {
    throw new SesError('BAD_ENVELOPE', 'no envelope');
  }
  try {
    return fromB64url(b64);
  } catch {
    throw new SesError('BAD_ENVELOPE', 'the envelope is not base64url');
  }
}

/** A title or message text: valid UTF-8 without NUL, 1..65,535 bytes. */
function textBody(text, what) {
  const b = utf8Encode(text);
  if (b.length < 1 || b.length > BODY_MAX || b.includes(0)) {
    throw new SesError('BAD_FIELD', `the ${what} must be 1..65,535 bytes of text`);
  }
  return b;
}

/**
 * One logged-in device's end-to-end session.
 */
export class E2eSession {
  /**
   * @param {object} o
   * @param {(frame: object) => Promise<object>} o.request sends a request, resolves with its
   *   reply, rejects with an error carrying the server's `code` (Connection.request)
   * @param {{userId: string, deviceId: string, signPk: Uint8Array, signSk: Uint8Array,
   *   boxPk: Uint8Array, boxSk: Uint8Array}} o.device this device (ids as text)
   * @param {object} [o.state] the local state (newState's shape); kept and changed in place
   * @param {(state: object) => Promise<void>} [o.save] persists the state; awaited after every
   *   new sender_seq, before the message is sent (§10 "persisted before sending")
   * @param {() => number} [o.now] ms since the epoch
   * @param {(ev: {thread: string, seq: number, device: string, code: string,
   *   detail: string|null}) => void} [o.onSecurityEvent] a refused envelope (§10 "Receiver")
   * @param {(text: string) => void} [o.onWarning] key changes, counters caught up, ...
   */
  constructor(o) {
    this.request = o.request;
    const d = o.device;
    this.me = { user: canonicalId(d.userId), device: canonicalId(d.deviceId) };
    if (!this.me.user || !this.me.device) throw new SesError('INVALID_ARG', 'device ids');
    this.keys = { userId: idFromText(this.me.user), deviceId: idFromText(this.me.device),
      signPk: d.signPk, signSk: d.signSk, boxPk: d.boxPk, boxSk: d.boxSk };
    this.state = o.state ?? newState(this.me.device);
    this.save = o.save ?? (async () => {});
    this.now = o.now ?? Date.now;
    this.onSecurityEvent = o.onSecurityEvent ?? (() => {});
    this.onWarning = o.onWarning ?? (() => {});
    this.keysCache = new Map();
    this.refused = 0;
  }

  /** The state of a thread, created empty when absent. */
  threadState(thread) {
    const t = (this.state.threads[thread] ??= {});
    for (const k of ['send_seq', 'synced', 'title_seq', 'titles_upto']) t[k] ??= 0;
    t.senders ??= {};
    t.devices ??= {};
    return t;
  }

  /** The state of a user, created empty when absent. */
  userState(user) {
    const u = (this.state.users[user] ??= {});
    u.keys ??= {};
    return u;
  }

  // --- threads and rosters -----------------------------------------------------------------

  /**
   * The caseload: the `threads` reply's entries with a valid thread id (most recent first).
   * @returns {Promise<object[]>} [{thread, patient, roster_version, last_seq, last_ms,
   *   read_seq, unread}]
   */
  async listThreads() {
    const reply = await this.request({ t: 'threads' });
    const list = Array.isArray(reply?.threads) ? reply.threads : [];
    return list.filter((t) => canonicalId(t?.thread) === t?.thread);
  }

  /**
   * Parses and checks a roster reply: well-formed, the roster hash recomputed from the member
   * ids and version equals the server's, this device (when its user is a member) listed with
   * its own keys. Remembers the members' device keys (a change is in roster.changes and
   * onWarning) and the thread's devices in the state.
   * @param {object} reply thread_info, thread, thread_add or thread_remove
   * @returns {object} {thread, threadId, patient, version, hash, lastSeq, members: [{user,
   *   userId, name, role, devices: [{device, id, signPk, boxPk}]}], changes: string[]}
   * @throws {SesError} E2E_VERIFY_FAILED
   */
  parseRoster(reply) {
    const r = parseRosterFields(reply);
    if (!r) throw verifyFailed(`the server's roster of thread ${reply?.thread} is malformed`);
    let hash;
    try {
      hash = rosterHash(r.threadId, r.version, r.members.map((m) => m.userId));
    } catch {
      hash = new Uint8Array(32);
    }
    if (!sodium.memcmp(hash, r.hash)) {
      throw verifyFailed(`the server's roster hash of thread ${r.thread} does not match its ` +
        `member list (version ${r.version}); refusing to use it`);
    }
    this.checkMine(r);
    const known = this.threadState(r.thread).devices;
    r.changes = [];
    for (const m of r.members) {
      const change = this.noteDevices(m.user, m.name, m.devices);
      if (change) r.changes.push(change);
      for (const d of m.devices) known[d.device] = 1;
    }
    return r;
  }

  /** This device in r: listed with its own keys when its user is a member. */
  checkMine(r) {
    const me = rosterMember(r, this.me.user);
    if (!me) return;
    const mine = me.devices.find((d) => d.device === this.me.device);
    if (!mine) {
      throw verifyFailed(`the server's roster of thread ${r.thread} leaves out this device`);
    }
    if (!sodium.memcmp(mine.signPk, this.keys.signPk) ||
      !sodium.memcmp(mine.boxPk, this.keys.boxPk)) {
      throw verifyFailed('the server lists this device with keys that are not its own');
    }
  }

  /**
   * Remembers a user's current device keys; returns the warning when they differ from the ones
   * last seen (also given to onWarning), else null.
   * @param {string} user
   * @param {string} name
   * @param {{device: string, signPk: Uint8Array, boxPk: Uint8Array}[]} devices
   * @returns {string|null}
   */
  noteDevices(user, name, devices) {
    const now = devices.map((d) => `${d.device} ${toB64url(d.signPk)} ${toB64url(d.boxPk)}`)
      .sort();
    const u = this.userState(user);
    const before = u.devices;
    let warning = null;
    if (Array.isArray(before) && before.join('\n') !== now.join('\n')) {
      const added = now.filter((l) => !before.includes(l)).map(short);
      const gone = before.filter((l) => !now.includes(l)).map(short);
      const parts = [added.length ? `new or changed ${added.join(', ')}` : '',
        gone.length ? `gone ${gone.join(', ')}` : ''].filter(Boolean);
      warning = `the devices of ${name} (${short(user)}) changed: ${parts.join('; ')}; ` +
        'compare safety numbers';
      this.onWarning(warning);
    }
    u.devices = now;
    for (const d of devices) u.keys[d.device] = toB64url(d.signPk);
    return warning;
  }

  /**
   * thread_info of a thread, checked to be that thread's, and parseRoster; roster.meta is the
   * reply's "meta" object ({} when absent).
   * @param {string} thread id text
   * @returns {Promise<object>} the roster
   * @throws {SesError} E2E_VERIFY_FAILED; the server's errors
   */
  async fetchRoster(thread) {
    const want = canonicalId(thread);
    if (!want) throw new SesError('BAD_FIELD', 'not a thread id');
    const reply = await this.request({ t: 'thread_info', thread: want });
    if (canonicalId(reply?.thread) !== want) {
      throw verifyFailed(`asked for the roster of thread ${want}, the server sent another`);
    }
    const r = this.parseRoster(reply);
    r.meta = isObj(reply.meta) ? reply.meta : {};
    return r;
  }

  /**
   * A user's active devices (`keys`), cached for this session; strict (the CLI's fetch_keys).
   * @param {string} user id text
   * @returns {Promise<{device: string, id: Uint8Array, signPk: Uint8Array, boxPk: Uint8Array,
   *   created: number|null}[]>}
   * @throws {SesError} E2E_VERIFY_FAILED (malformed reply); the server's errors
   */
  async fetchKeys(user) {
    const u = canonicalId(user);
    if (!u) throw new SesError('BAD_FIELD', 'not a user id');
    if (!this.keysCache.has(u)) {
      const reply = await this.request({ t: 'keys', user: u });
      const devs = reply?.devices;
      const parsed = Array.isArray(devs) && devs.length <= MAX_DEVICES ? devs.map(parseDevice) : [];
      if (canonicalId(reply?.user) !== u || !Array.isArray(devs) || parsed.length !== devs.length ||
        parsed.some((d) => !d)) {
        throw verifyFailed(`malformed keys reply for user ${u}`);
      }
      this.keysCache.set(u, parsed);
    }
    return this.keysCache.get(u);
  }

  /** The signing key of a device of user from `keys`, or null (unknown, not allowed). */
  async outsideKey(user, device) {
    try {
      return (await this.fetchKeys(user)).find((d) => d.device === device)?.signPk ?? null;
    } catch (e) {
      if (e instanceof SesError && e.code === E2E_VERIFY_FAILED) throw e;
      this.keysCache.set(user, []); /* unknown user or not allowed: no keys */
      return null;
    }
  }

  // --- sending -----------------------------------------------------------------------------

  /** Reserves the next sender_seq in thread (max(send_seq, floor) + 1) and persists it. */
  async nextSendSeq(thread, floor) {
    const t = this.threadState(thread);
    t.send_seq = Math.max(t.send_seq, floor) + 1;
    await this.save(this.state);
    return t.send_seq;
  }

  /** Seals body to every device of r; returns the base64url envelope and its msg_id. */
  async sealFor(r, floor, contentType, body) {
    const recipients = rosterDevices(r).map((d) => ({ deviceId: d.id, boxPk: d.boxPk }));
    if (recipients.length > 32) {
      throw new SesError('TOO_LARGE', `the members of thread ${r.thread} have more than 32 ` +
        'devices');
    }
    const msgId = sodium.randombytes_buf(16);
    const header = { threadId: r.threadId, msgId, senderUserId: this.keys.userId,
      senderDeviceId: this.keys.deviceId, senderSeq: await this.nextSendSeq(r.thread, floor),
      rosterHash: r.hash, createdMs: this.now() };
    const env = seal(header, { contentType, body }, recipients, this.keys.signSk);
    return { b64: toB64url(env), msgId };
  }

  /**
   * This device's own messages in r after seq `after` (all wrapped to it): the highest
   * sender_seq, and the seq of the one with msgId (0 when none).
   */
  async scanOwn(r, after, msgId) {
    let maxSseq = 0n;
    let found = 0;
    await this.walkFrames(r, after, r.lastSeq, (mj) => {
      if (mj.device !== this.me.device) return;
      try {
        const v = parse(decodeEnv(mj.env));
        if (!bytesEqual(v.hdr.senderDeviceId, this.keys.deviceId) ||
          !bytesEqual(v.hdr.threadId, r.threadId)) return;
        verifySig(v, this.keys.signPk);
        if (v.hdr.senderSeq > maxSseq) maxSseq = v.hdr.senderSeq;
        if (msgId && bytesEqual(v.hdr.msgId, msgId)) found = mj.seq;
      } catch {
        /* not one of this device's verified messages */
      }
    }, true);
    return { maxSseq, found };
  }

  /**
   * Seals a body to every active device of every member of roster r, this device included, with
   * a fresh msg_id and the next persisted sender_seq, and sends it. CONFLICT (the roster
   * changed) fetches the roster again and seals anew once (after looking whether an earlier
   * resend of the same bytes was stored); REPLAYED (the local counter was behind) raises the
   * counter above this device's last message in the thread and seals anew once. (Resends of
   * the same bytes after a lost connection are the Connection's.)
   * @param {object} r the thread's roster (fetchRoster)
   * @param {number} contentType 1..6
   * @param {Uint8Array} body at most 65,535 bytes
   * @returns {Promise<{sent: object, roster: object}>} the server's `sent` reply and the roster
   *   it was sealed to (a new one after CONFLICT)
   * @throws {SesError} DENIED (not a member), TOO_LARGE, INVALID_ARG; the server's errors
   */
  async send(r, contentType, body) {
    const retried = { CONFLICT: false, REPLAYED: false };
    let floor = 0;
    for (;;) {
      if (!rosterMember(r, this.me.user)) {
        throw new SesError('DENIED', `you are not a member of thread ${r.thread}`);
      }
      const base = r.lastSeq;
      const { b64, msgId } = await this.sealFor(r, floor, contentType, body);
      let sent;
      try {
        sent = await this.request({ t: 'send', thread: r.thread, env: b64 });
      } catch (e) {
        if (!(e?.code in retried) || retried[e.code]) throw e;
        retried[e.code] = true;
        r = await this.fetchRoster(r.thread);
        const own = await this.scanOwn(r, e.code === 'CONFLICT' ? base : 0, msgId);
        if (own.found > 0) {
          return { sent: { t: 'sent', thread: r.thread, seq: own.found, msg_id: toB64url(msgId),
            duplicate: true }, roster: r };
        }
        if (e.code === 'REPLAYED') {
          floor = Number(own.maxSseq);
          this.onWarning(`the local message counter of thread ${short(r.thread)} was behind; ` +
            `continuing after ${floor}`);
        }
        continue;
      }
      return { sent, roster: r };
    }
  }

  /**
   * Sends a text message (content type 1).
   * @param {object} r roster
   * @param {string} text 1..65,535 bytes of UTF-8
   * @returns {Promise<{sent: object, roster: object}>} see send
   */
  async sendText(r, text) {
    return this.sendWiped(r, CONTENT.TEXT, textBody(text, 'text'));
  }

  /**
   * Sends the thread's title (content type 4; the latest verified one is the title).
   * @param {object} r roster
   * @param {string} title 1..65,535 bytes of UTF-8
   * @returns {Promise<{sent: object, roster: object}>} see send
   */
  async sendTitle(r, title) {
    return this.sendWiped(r, CONTENT.THREAD_TITLE, textBody(title, 'title'));
  }

  /**
   * Sends an encoded record body of a content type (2 scale record, 3 alert note, 5
   * recommendation, 6 patient card), as other modules encode it.
   * @param {object} r roster
   * @param {number} contentType 1..6
   * @param {Uint8Array} body
   * @returns {Promise<{sent: object, roster: object}>} see send
   */
  async sendRecord(r, contentType, body) {
    return this.send(r, contentType, body);
  }

  async sendWiped(r, contentType, body) {
    try {
      return await this.send(r, contentType, body);
    } finally {
      wipe(body);
    }
  }

  // --- reading -----------------------------------------------------------------------------

  /**
   * Calls fn for each message frame of r with after < seq <= upto, in order (fetch in pages of
   * 500 seqs; the server leaves out messages not wrapped to this device).
   * @param {object} r roster
   * @param {number} after
   * @param {number} upto
   * @param {(frame: object) => (void|Promise<void>)} fn
   * @param {boolean} [fullPages] always ask for 500 (the CLI's scan)
   * @throws {SesError} E2E_VERIFY_FAILED (a reply of another thread, out of order)
   */
  async walkFrames(r, after, upto, fn, fullPages = false) {
    for (let a = after; a < upto;) {
      const limit = fullPages ? FETCH_PAGE : Math.min(FETCH_PAGE, upto - a);
      const reply = await this.request({ t: 'fetch', thread: r.thread, after: a, limit });
      /* the page covers a < seq <= through: the server may end it early to keep it small */
      const through = reply?.through;
      if (!Array.isArray(reply?.messages) || canonicalId(reply.thread) !== r.thread ||
          !Number.isSafeInteger(through) || through < a || through > a + limit) {
        throw verifyFailed(`malformed fetch reply for thread ${r.thread}`);
      }
      let prev = a;
      for (const mj of reply.messages) {
        const seq = Number.isSafeInteger(mj?.seq) ? mj.seq : -1;
        if (seq <= prev || seq > through) {
          throw verifyFailed(`the server sent messages of thread ${r.thread} out of order`);
        }
        prev = seq;
        await fn(mj);
      }
      if (through === a) break; /* past the thread's end */
      a = through;
    }
  }

  /**
   * The thread's messages after < seq <= upto, each opened (openMessage) with one replay run.
   * @param {object} r roster
   * @param {{after?: number, upto?: number, run?: object}} [o] defaults 0, r.lastSeq, newRun()
   * @returns {Promise<object[]>} openMessage's results, in seq order
   */
  async fetchMessages(r, o = {}) {
    const run = o.run ?? newRun();
    const out = [];
    await this.walkFrames(r, o.after ?? 0, o.upto ?? r.lastSeq, async (mj) => {
      out.push(await this.openMessage(r, run, mj));
    });
    return out;
  }

  /** The message's refusal: noted, counted, reported as a security event. */
  refuse(m, code, detail) {
    m.status = 'refused';
    m.code = code;
    if (detail) m.notes.push(detail);
    this.refused++;
    this.onSecurityEvent({ thread: m.thread, seq: m.seq, device: m.device, code,
      detail: detail ?? null });
    return m;
  }

  /**
   * The sending device's signing key: the roster's, else `keys` of the sender, else (for a
   * message at or below the persisted mark) the key pinned when it was verified; null when
   * none (the message is then unverified).
   */
  async senderKey(r, m, hu, hd, mark) {
    const member = rosterMember(r, hu);
    const listed = member?.devices.find((d) => d.device === hd);
    if (listed) return listed.signPk;
    const pk = await this.senderOutsideKey(m, hu, hd, mark);
    if (pk && !member) m.notes.push('the sender is no longer a member');
    return pk;
  }

  /** A sender device's key outside the roster: `keys`, else pinned (see senderKey). */
  async senderOutsideKey(m, hu, hd, mark) {
    const pk = await this.outsideKey(hu, hd);
    if (pk) return pk;
    const old = this.state.users[hu]?.keys?.[hd];
    const pinned = old ? getKey({ k: old }, 'k', 32) : null;
    if (!pinned || m.seq > (mark?.seq ?? 0)) {
      m.notes.push(`cannot verify the sender: device ${short(hd)} is not an active device of ` +
        `${m.sender} (revoked since?)`);
      return null;
    }
    m.notes.push(`sent from device ${short(hd)}, no longer active (revoked since?); verified ` +
      'with its key as seen earlier');
    return pinned;
  }

  /**
   * A history re-wrap of a frame for this device, its signer checked to be another active
   * device of this device's own user; null when the frame has none (or this device has a wrap).
   * Returns {bad: true} when malformed, {unverified: by} when the signer is not such a device.
   */
  async rewrapOf(mj, view) {
    const rj = mj.rewrap;
    if (rj === undefined || rj === null || wrapOf(view, this.keys.deviceId)) return null;
    const sealed = getKey(rj ?? {}, 'sealed', 80);
    const sig = getKey(rj ?? {}, 'sig', 64);
    const by = getId(rj, 'by');
    if (!isObj(rj) || !sealed || !sig || !by) return { bad: true };
    const byPk = by.text === this.me.device ? null : await this.outsideKey(this.me.user, by.text);
    if (!byPk) return { unverified: by.text };
    return { sealed, sig, byDeviceId: by.id, bySignPk: byPk, by: by.text };
  }

  /** Expected recipients: the roster's devices and every device seen in earlier rosters. */
  expectedDevices(r) {
    const all = new Set([...rosterDevices(r).map((d) => d.device),
      ...Object.keys(this.threadState(r.thread).devices)]);
    return [...all].filter((t) => canonicalId(t) === t).map(idFromText);
  }

  /**
   * Opens one message of thread r ({seq, sender, device, ts, env[, rewrap]}, from fetch or a
   * push) with every receiver check (envelope.js receive; ghost wraps shown with a note), the
   * sender device's key from the roster (or `keys`, or as pinned), a history re-wrap only from
   * another active device of this user, expected devices = the roster's and every device seen
   * in the thread's earlier rosters, and the replay marks of the state (advanced) and of run.
   * @param {object} r roster
   * @param {object} run newRun()'s, one per walk through the thread
   * @param {object} mj the message frame
   * @returns {Promise<object>} {seq, ts, thread, patient, sender, device, status: 'ok' |
   *   'unverified' | 'refused', code (refused: the receiver code), notes: string[],
   *   contentType, text (types 1, 3, 4), body (other types: the bytes, for other modules),
   *   senderSeq, createdMs (BigInt), senderSignPk, rewrapped, ghosts (device id texts)}
   */
  async openMessage(r, run, mj) {
    const m = { seq: Number.isSafeInteger(mj?.seq) ? mj.seq : 0,
      ts: Number.isSafeInteger(mj?.ts) ? mj.ts : 0, thread: r.thread, patient: r.patient,
      sender: typeof mj?.sender === 'string' ? mj.sender : '?',
      device: typeof mj?.device === 'string' ? mj.device : '?', status: 'unverified',
      code: null, notes: [], contentType: null, text: null, body: null, senderSeq: null,
      createdMs: null, senderSignPk: null, rewrapped: false, ghosts: [] };
    let envBytes;
    try {
      if (m.seq < 1) throw new SesError('BAD_ENVELOPE', 'no seq');
      envBytes = decodeEnv(mj.env);
    } catch {
      return this.refuse(m, 'BAD_ENVELOPE', 'malformed message frame');
    }
    const claim = this.claimOf(r, m);
    let view;
    try {
      view = parseClaimed(envBytes, claim);
    } catch (e) {
      return this.refuse(m, e.code, e.code === 'INNER_MISMATCH'
        ? "the server's sender, device or thread differs from the envelope's header" : null);
    }
    return this.openParsed(r, run, mj, m, envBytes, view, claim);
  }

  /** The frame's claim: its sender, device and the thread it was fetched from. */
  claimOf(r, m) {
    const sender = canonicalId(m.sender);
    const device = canonicalId(m.device);
    return { threadId: r.threadId, seq: m.seq,
      senderUserId: sender && device ? idFromText(sender) : new Uint8Array(16),
      senderDeviceId: device ? idFromText(device) : new Uint8Array(16) };
  }

  async openParsed(r, run, mj, m, envBytes, view, claim) {
    const hu = idToText(view.hdr.senderUserId);
    const hd = idToText(view.hdr.senderDeviceId);
    m.senderSeq = view.hdr.senderSeq;
    m.createdMs = view.hdr.createdMs;
    const marks = this.threadState(r.thread).senders;
    const signPk = await this.senderKey(r, m, hu, hd, marks[hd]);
    if (!signPk) return m;
    const rw = await this.rewrapOf(mj, view);
    if (rw?.bad) return this.refuse(m, 'BAD_ENVELOPE', 'malformed history re-wrap');
    if (rw?.unverified) {
      m.notes.push('cannot verify the history shared with this device: device ' +
        `${short(rw.unverified)} is not another active device of yours`);
      return m;
    }
    if (rw) {
      m.rewrapped = true;
      m.notes.push(`history shared with this device by your device ${short(rw.by)}`);
    }
    const d = receive(envBytes, this.keys, claim, { senderSignPk: signPk,
      expected: this.expectedDevices(r), rewrap: rw ?? undefined, allowGhosts: true, marks, run });
    m.ghosts = d.ghosts.map(idToText);
    if (m.ghosts.length) {
      m.notes.push(`cannot verify recipients: also wrapped to ${m.ghosts.map(short).join(', ')}, ` +
        'not an active device of a member now (revoked or removed since?)');
    }
    if (!d.accepted) return this.refuse(m, d.code, this.refusalDetail(d, view));
    m.status = 'ok';
    m.senderSignPk = signPk;
    this.takeContent(m, d.opened);
    this.noteDelivery(r, m, d.opened, view, rw);
    return m;
  }

  refusalDetail(d, view) {
    switch (d.reason) {
      case 'SEQ':
        return `sender_seq ${view.hdr.senderSeq} is not above ${d.lastSeen}, the last seen ` +
          'from that device';
      case 'MARK':
        return 'sender_seq disagrees with the one seen earlier at that seq';
      case 'MSG_ID':
        return 'a msg_id seen twice';
      default:
        return null;
    }
  }

  /** Text of types 1, 3 and 4 (valid UTF-8 without NUL); other types as bytes. */
  takeContent(m, opened) {
    m.contentType = opened.contentType;
    if (!TEXT_TYPES.has(opened.contentType)) {
      m.body = opened.body;
      if (opened.contentType > 6) m.notes.push('unsupported content');
      return;
    }
    try {
      if (opened.body.includes(0)) throw new Error('NUL');
      m.text = utf8Decode(opened.body);
    } catch {
      m.notes.push('the text is not valid UTF-8');
    }
    wipe(opened.body);
  }

  /** Notes: members' devices left out (when sealed to the current roster), a far clock. */
  noteDelivery(r, m, opened, view, rw) {
    if (sodium.memcmp(opened.hdr.rosterHash, r.hash)) {
      for (const mem of r.members) {
        for (const dv of mem.devices) {
          if (bytesEqual(dv.id, opened.hdr.senderDeviceId) || wrapOf(view, dv.id)) continue;
          if (rw && dv.device === this.me.device) continue;
          m.notes.push(`not delivered to ${mem.name}'s device ${short(dv.device)}`);
        }
      }
    }
    const skew = Number(opened.hdr.createdMs) - m.ts;
    if (Math.abs(skew) > SKEW_NOTE_MS) {
      m.notes.push(`written at ${new Date(Number(opened.hdr.createdMs)).toISOString()} by the ` +
        "sender's clock");
    }
  }

  /**
   * The latest title of r this device can read (cmd_thread.c find_title): with a title known
   * from the state's marks, only that message and the ones after titles_upto are fetched; else
   * (or when it is gone or refused now) every message, each walk with a fresh replay run.
   * Moves the marks on.
   * @param {object} r roster
   * @returns {Promise<{title: string|null, seq: number}>}
   */
  async threadTitle(r) {
    const ts = this.threadState(r.thread);
    const acc = { title: null, seq: 0 };
    const take = (from, upto, run = newRun()) => this.walkFrames(r, from, upto, async (mj) => {
      const m = await this.openMessage(r, run, mj);
      if (m.status === 'ok' && m.contentType === CONTENT.THREAD_TITLE && m.text !== null) {
        acc.title = m.text;
        acc.seq = m.seq;
      }
    });
    if (ts.title_seq > 0 && ts.title_seq <= ts.titles_upto && ts.titles_upto <= r.lastSeq) {
      await take(ts.title_seq - 1, ts.title_seq);
      if (acc.title !== null) await take(ts.titles_upto, r.lastSeq);
      else await take(0, r.lastSeq); /* gone or refused now: look again */
    } else {
      await take(0, r.lastSeq);
    }
    if (acc.title !== null) ts.title_seq = Math.max(ts.title_seq, acc.seq);
    ts.titles_upto = Math.max(ts.titles_upto, r.lastSeq);
    return acc;
  }

  /**
   * Moves the delivery (read = false) or read cursor of a thread to seq (nothing below 1).
   * @param {string} thread
   * @param {boolean} read
   * @param {number} seq
   * @returns {Promise<void>}
   */
  async cursor(thread, read, seq) {
    if (!(seq >= 1)) return;
    await this.request(read ? { t: 'read', thread, seq } : { t: 'ack', thread, delivered: seq });
  }

  /**
   * The safety number with another user (`sesame safety-number USER_ID`, cmd_directory.c): over
   * both users' active device signing keys from `keys`, which are remembered (a change since
   * last seen goes to onWarning).
   * @param {string} user the other user's id text
   * @returns {Promise<{user: string, safetyNumber: string, rows: string[], devices: object[],
   *   myDevices: object[]}>} devices: [{device, sign_pk}] of each side
   * @throws {SesError} INVALID_ARG (this user, not an id), NOT_FOUND (no active device),
   *   E2E_VERIFY_FAILED; the server's errors
   */
  async safetyNumber(user) {
    const u = canonicalId(user);
    if (!u || u === this.me.user) throw new SesError('INVALID_ARG', "give the other user's id");
    const mine = await this.fetchKeys(this.me.user);
    const theirs = await this.fetchKeys(u);
    if (theirs.length === 0) throw new SesError('NOT_FOUND', `user ${u} has no active device`);
    this.noteDevices(u, short(u), theirs);
    this.noteDevices(this.me.user, short(this.me.user), mine);
    const number = await safetyNumber(
      { userId: this.keys.userId, signPks: mine.map((d) => d.signPk) },
      { userId: idFromText(u), signPks: theirs.map((d) => d.signPk) });
    const list = (ds) => ds.map((d) => ({ device: d.device, sign_pk: toB64url(d.signPk) }));
    return { user: u, safetyNumber: number, rows: safetyRows(number), devices: list(theirs),
      myDevices: list(mine) };
  }

  // --- history re-wrap (§12) ---------------------------------------------------------------

  /**
   * Another active device of this user (`keys` of this user), with its fingerprint for the user
   * to compare before sharing (cmd_device.c share-history).
   * @param {string} targetDevice id text
   * @returns {Promise<{device: string, id: Uint8Array, signPk: Uint8Array, boxPk: Uint8Array,
   *   created: number|null, fingerprint: string, grouped: string}>}
   * @throws {SesError} INVALID_ARG (this device, not an id), DENIED (not an active device of
   *   this user), E2E_VERIFY_FAILED
   */
  async shareHistoryTarget(targetDevice) {
    const t = canonicalId(targetDevice);
    if (!t) throw new SesError('INVALID_ARG', 'not a device id');
    if (t === this.me.device) throw new SesError('INVALID_ARG', 'that is this device');
    const d = (await this.fetchKeys(this.me.user)).find((k) => k.device === t);
    if (!d) {
      throw new SesError('DENIED', `device ${t} is not an active device of yours; only your ` +
        'own devices can receive your history');
    }
    const fp = fingerprint(d.signPk);
    return { ...d, fingerprint: fp, grouped: groupFingerprint(fp) };
  }

  /**
   * Shares the thread history with another device of this user: for every message of the
   * threads (the given ones, else the caseload) that this device opens through its own wrap
   * with every receiver check and the target has no wrap of, the key is re-wrapped for the
   * target (rewrapCreate) and posted in `rewrap` requests of up to 200. Call after the user
   * compared shareHistoryTarget's fingerprint with the one the target device shows.
   * @param {string} targetDevice id text
   * @param {{threads?: string[]}} [o]
   * @returns {Promise<{device: string, fingerprint: string, threads: number, rewrapped: number,
   *   stored: number, skipped: number}>} rewrapped: posted; stored: newly stored by the server
   * @throws {SesError} see shareHistoryTarget; the server's errors
   */
  async shareHistory(targetDevice, o = {}) {
    const target = await this.shareHistoryTarget(targetDevice);
    const threads = o.threads ?? (await this.listThreads()).map((t) => t.thread);
    const sh = { target, posted: 0, stored: 0, skipped: 0 };
    for (const t of threads) await this.shareThread(sh, t);
    return { device: target.device, fingerprint: target.fingerprint, threads: threads.length,
      rewrapped: sh.posted, stored: sh.stored, skipped: sh.skipped };
  }

  async shareThread(sh, thread) {
    const r = await this.fetchRoster(thread);
    const mine = rosterMember(r, this.me.user)?.devices ?? [];
    const listed = mine.find((d) => d.device === sh.target.device);
    if (listed && (!sodium.memcmp(listed.signPk, sh.target.signPk) ||
      !sodium.memcmp(listed.boxPk, sh.target.boxPk))) {
      throw verifyFailed(`the roster of thread ${r.thread} lists device ${sh.target.device} ` +
        'with other keys');
    }
    const run = newRun();
    const items = [];
    await this.walkFrames(r, 0, r.lastSeq, async (mj) => {
      const item = await this.shareOne(sh, r, run, mj);
      if (item) items.push(item);
      if (items.length >= REWRAP_BATCH) await this.flushRewraps(sh, r, items.splice(0));
    }, true);
    await this.flushRewraps(sh, r, items);
  }

  /** One fetched message: its rewrap item for the target, or null (skipped or not needed). */
  async shareOne(sh, r, run, mj) {
    const m = await this.openMessage(r, run, mj);
    wipe(m.body);
    if (m.status !== 'ok' || m.rewrapped) {
      sh.skipped++;
      return null;
    }
    const envBytes = decodeEnv(mj.env);
    if (hasWrapOf(envBytes, sh.target.id)) return null;
    try {
      const { sealed, sig } = rewrapCreate(envBytes, this.keys, m.senderSignPk,
        { deviceId: sh.target.id, boxPk: sh.target.boxPk });
      return { seq: m.seq, sealed: toB64url(sealed), sig: toB64url(sig) };
    } catch (e) {
      sh.skipped++;
      this.onWarning(`message #${m.seq} of thread ${r.thread}: cannot re-wrap its key: ${e.code}`);
      return null;
    }
  }

  async flushRewraps(sh, r, items) {
    if (items.length === 0) return;
    const reply = await this.request({ t: 'rewrap', thread: r.thread, device: sh.target.device,
      items });
    const c = reply?.count;
    if (canonicalId(reply?.thread) !== r.thread || canonicalId(reply?.device) !==
      sh.target.device || !isCount(c) || c > items.length) {
      throw verifyFailed(`malformed rewrap reply for thread ${r.thread}`);
    }
    sh.posted += items.length;
    sh.stored += c;
  }
}
