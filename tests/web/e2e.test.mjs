// e2e.test.mjs - the web client's end-to-end layer (clients/web/src/protocol/e2e.js) over a
// small in-memory stand-in for sesamed's thread requests (thread_info, threads, keys, send,
// fetch, rewrap: only what the layer's logic needs; the real server is the browser tests'):
// rosters checked against their hash and this device's keys, key-change warnings, text, titles
// and records sealed to every active device and read back, the retries after CONFLICT and
// REPLAYED, refusals of a tampering server, history shared with a new device of the same user,
// and the fingerprint and safety number as the CLI prints them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';

const here = (rel) => new URL(rel, import.meta.url);
if (!existsSync(here('../../clients/web/node_modules/libsodium-wrappers/package.json'))) {
  throw new Error('clients/web/node_modules is missing: run `npm ci` in clients/web first');
}
const lib = (name) => import(here(`../../clients/web/src/protocol/${name}.js`).href);
const enc = await lib('encode');
const tr = await lib('transcript');
const envl = await lib('envelope');
const e2e = await lib('e2e');
const fpr = await lib('fingerprint');
const { default: sodium } = await lib('sodium');

const idText = (n) => enc.idToText(new Uint8Array(16).fill(n));

/** The fake server: users with devices, threads with members, messages and re-wraps. */
class FakeServer {
  constructor() {
    this.users = new Map(); // user -> {name, role, devices: [{device, keys}]}
    this.threads = new Map(); // thread -> {patient, version, members, messages, rewraps}
    this.log = [];
  }

  addDevice(user, name, role, n) {
    const u = this.users.get(user) ?? { name, role, devices: [] };
    this.users.set(user, u);
    const d = { device: idText(n), keys: tr.newDeviceKeys() };
    u.devices.push(d);
    return { userId: user, deviceId: d.device, ...d.keys };
  }

  devJson(d) {
    return { device: d.device, sign_pk: enc.toB64url(d.keys.signPk),
      box_pk: enc.toB64url(d.keys.boxPk), created: 1 };
  }

  roster(thread) {
    const t = this.threads.get(thread);
    const hash = envl.rosterHash(enc.idFromText(thread), t.version,
      t.members.map(enc.idFromText));
    return { t: 'thread_info', thread, patient: t.patient, roster_version: t.version,
      roster_hash: enc.toB64url(hash), last_seq: t.messages.length,
      members: t.members.map((u) => ({ user: u, name: this.users.get(u).name,
        role: this.users.get(u).role,
        devices: this.users.get(u).devices.map((d) => this.devJson(d)) })) };
  }

  /** The request function of one device. */
  as(device) {
    const user = [...this.users].find(([, u]) => u.devices.some((d) => d.device === device))[0];
    return async (frame) => {
      this.log.push({ device, frame });
      const reply = this.handle(user, device, structuredClone(frame));
      if (reply.t === 'error') throw Object.assign(new Error(reply.code), { code: reply.code });
      return structuredClone(reply);
    };
  }

  handle(user, device, f) {
    const t = this.threads.get(f.thread);
    switch (f.t) {
      case 'threads':
        return { t: 'threads', threads: [...this.threads].filter(([, x]) => x.members
          .includes(user)).map(([id, x]) => ({ thread: id, patient: x.patient,
          last_seq: x.messages.length })) };
      case 'thread_info':
        return this.roster(f.thread);
      case 'keys':
        return { t: 'keys', user: f.user,
          devices: (this.users.get(f.user)?.devices ?? []).map((d) => this.devJson(d)) };
      case 'send':
        return this.send(user, device, t, f);
      case 'fetch':
        return this.fetch(device, t, f);
      case 'rewrap':
        return this.rewrap(device, t, f);
      default:
        return { t: 'error', code: 'UNKNOWN_TYPE' };
    }
  }

  send(user, device, t, f) {
    const bytes = enc.fromB64url(f.env);
    const v = envl.parse(bytes);
    const stored = t.messages.find((m) => enc.toHex(m.msgId) === enc.toHex(v.hdr.msgId));
    if (stored) return { t: 'sent', thread: f.thread, seq: stored.seq, duplicate: true };
    const r = this.roster(f.thread);
    const want = r.members.flatMap((m) => m.devices.map((d) => d.device)).sort();
    const got = v.wraps.map((w) => enc.idToText(w.deviceId)).sort();
    if (enc.toB64url(v.hdr.rosterHash) !== r.roster_hash || want.join() !== got.join()) {
      return { t: 'error', code: 'CONFLICT' };
    }
    const prev = t.messages.filter((m) => m.device === device).map((m) => m.sseq);
    if (prev.some((s) => s >= v.hdr.senderSeq)) return { t: 'error', code: 'REPLAYED' };
    const seq = t.messages.length + 1;
    t.messages.push({ seq, sender: user, device, ts: 1767225600000, env: f.env,
      msgId: v.hdr.msgId, sseq: v.hdr.senderSeq, wraps: got });
    return { t: 'sent', thread: f.thread, seq, msg_id: enc.toB64url(v.hdr.msgId),
      duplicate: false };
  }

  /* as sesamed: the page covers after < seq <= through; with pageMax set it ends after that many
   * messages, as the server's byte budget would */
  fetch(device, t, f) {
    const messages = [];
    let through = f.after;
    for (const m of t.messages.filter((x) => x.seq > f.after && x.seq <= f.after + f.limit)) {
      if (this.pageMax !== undefined && messages.length === this.pageMax) break;
      const out = { seq: m.seq, sender: m.sender, device: m.device, ts: m.ts, env: m.env };
      const rw = t.rewraps.get(`${m.seq} ${device}`);
      if (m.wraps.includes(device)) messages.push(out);
      else if (rw) messages.push({ ...out, rewrap: rw });
      through = m.seq;
    }
    return { t: 'messages', thread: f.thread, last_seq: t.messages.length, through, messages };
  }

  rewrap(device, t, f) {
    let count = 0;
    for (const it of f.items) {
      const key = `${it.seq} ${f.device}`;
      if (t.rewraps.has(key)) continue;
      t.rewraps.set(key, { sealed: it.sealed, sig: it.sig, by: device });
      count++;
    }
    return { t: 'rewrapped', thread: f.thread, device: f.device, count };
  }
}

/** Alice (device 1) and Bob (device 2) in thread T; sessions made with session(). */
function world() {
  const s = new FakeServer();
  const alice = s.addDevice(idText(0xa1), 'Anne Martin', 'nurse', 1);
  const bob = s.addDevice(idText(0xb1), 'Dr Bernard', 'psychiatrist', 2);
  const thread = idText(0x71);
  s.threads.set(thread, { patient: 'P-7F3A', version: 1, members: [alice.userId, bob.userId],
    messages: [], rewraps: new Map() });
  const session = (dev, extra = {}) => {
    const events = { security: [], warnings: [], saves: 0 };
    const x = new e2e.E2eSession({ request: s.as(dev.deviceId), device: dev,
      save: async () => { events.saves++; }, onSecurityEvent: (ev) => events.security.push(ev),
      onWarning: (w) => events.warnings.push(w), ...extra });
    return Object.assign(x, { events });
  };
  return { s, alice, bob, thread, session };
}

test('rosters: verified against their hash and this device, key changes warned about', async () => {
  const { s, alice, bob, thread, session } = world();
  const a = session(alice);
  const r = await a.fetchRoster(thread);
  assert.equal(r.members.length, 2);
  assert.equal(r.patient, 'P-7F3A');
  assert.deepEqual(Object.keys(a.state.threads[thread].devices).sort(),
    [alice.deviceId, bob.deviceId].sort());
  assert.equal(a.state.users[bob.userId].devices.length, 1);
  assert.equal(r.changes.length, 0);
  /* Bob gains a device: warned once, remembered */
  s.addDevice(bob.userId, 'Dr Bernard', 'psychiatrist', 3);
  const r2 = await a.fetchRoster(thread);
  assert.equal(r2.changes.length, 1);
  assert.match(r2.changes[0], /devices of Dr Bernard .* changed: new or changed/);
  assert.equal((await a.fetchRoster(thread)).changes.length, 0);
  /* a roster whose hash does not match, one leaving out this device, one with other keys */
  const good = s.roster(thread);
  const bad = (change) => { const x = structuredClone(good); change(x); return x; };
  const refusals = [
    bad((x) => { x.roster_version = 2; }),
    bad((x) => { x.members[0].devices = []; }),
    bad((x) => { x.members[0].devices[0].box_pk = x.members[1].devices[0].box_pk; }),
    bad((x) => { x.members.push(x.members[0]); }),
    bad((x) => { x.roster_hash = 'AAAA'; }),
  ];
  for (const reply of refusals) {
    assert.throws(() => a.parseRoster(reply), (e) => e.code === 'E2E_VERIFY_FAILED');
  }
  const other = session(alice, { request: async () => ({ ...good, thread: idText(0x72) }) });
  await assert.rejects(other.fetchRoster(thread), (e) => e.code === 'E2E_VERIFY_FAILED');
  assert.deepEqual((await a.listThreads()).map((t) => t.thread), [thread]);
});

test('text, title and records: sealed to every device, read back, replay marks kept', async () => {
  const { s, alice, bob, thread, session } = world();
  const a = session(alice);
  let r = await a.fetchRoster(thread);
  ({ roster: r } = await a.sendTitle(r, 'Suivi Mme D.'));
  const { sent } = await a.sendText(r, 'Bonjour — PHQ-9 à refaire.');
  assert.equal(sent.seq, 2);
  const record = Uint8Array.of(1, 2, 3, 0, 255);
  await a.sendRecord(r, envl.CONTENT.SCALE, record);
  assert.equal(a.state.threads[thread].send_seq, 3);
  assert.equal(a.events.saves, 3, 'the counter is persisted before each send');
  const stored = s.threads.get(thread).messages;
  assert.deepEqual(stored[1].wraps, [alice.deviceId, bob.deviceId].sort());
  await assert.rejects(a.sendText(r, ''), (e) => e.code === 'BAD_FIELD');

  const b = session(bob);
  const rb = await b.fetchRoster(thread);
  const msgs = await b.fetchMessages(rb);
  assert.deepEqual(msgs.map((m) => m.status), ['ok', 'ok', 'ok']);
  assert.equal(msgs[0].contentType, envl.CONTENT.THREAD_TITLE);
  assert.equal(msgs[1].text, 'Bonjour — PHQ-9 à refaire.');
  assert.equal(msgs[1].senderSeq, 2n);
  assert.equal(msgs[2].text, null);
  assert.deepEqual(msgs[2].body, record);
  assert.equal(msgs[2].contentType, 2);
  assert.deepEqual(b.state.threads[thread].senders[alice.deviceId], { seq: 3, sender_seq: '3' });
  assert.deepEqual(await b.threadTitle(rb), { title: 'Suivi Mme D.', seq: 1 });
  assert.equal(b.state.threads[thread].title_seq, 1);
  assert.equal(b.state.threads[thread].titles_upto, 3);
  /* a new title: only what is new is fetched */
  await a.sendTitle(r, 'Suivi Mme D. (2)');
  const before = s.log.length;
  assert.deepEqual(await b.threadTitle(await b.fetchRoster(thread)),
    { title: 'Suivi Mme D. (2)', seq: 4 });
  const fetches = s.log.slice(before).filter((l) => l.frame.t === 'fetch').map((l) => l.frame);
  assert.deepEqual(fetches.map((f) => [f.after, f.limit]), [[0, 1], [3, 1]]);
  /* reading again (a new walk) is fine; the sender reads its own messages back */
  assert.equal((await b.fetchMessages(rb)).filter((m) => m.status === 'ok').length, 3);
  /* pages the server ends early (its byte budget): the walk goes on from `through` */
  s.pageMax = 1;
  const paged = s.log.length;
  assert.deepEqual((await b.fetchMessages(await b.fetchRoster(thread))).map((m) => m.seq),
    [1, 2, 3, 4]);
  assert.deepEqual(s.log.slice(paged).filter((l) => l.frame.t === 'fetch')
    .map((l) => l.frame.after), [0, 1, 2, 3]);
  s.pageMax = undefined;
  const ra = await a.fetchRoster(thread);
  assert.equal((await a.fetchMessages(ra)).filter((m) => m.status === 'ok').length, 4);
  assert.equal(b.events.security.length, 0);
});

test('send: seals anew after CONFLICT and after REPLAYED', async () => {
  const { s, alice, bob, thread, session } = world();
  const a = session(alice);
  const r = await a.fetchRoster(thread);
  s.addDevice(bob.userId, 'Dr Bernard', 'psychiatrist', 4); /* the roster changed since */
  const { sent, roster } = await a.sendText(r, 'one');
  assert.equal(sent.seq, 1);
  assert.equal(roster.members[1].devices.length, 2);
  const first = s.threads.get(thread).messages[0];
  assert.equal(first.wraps.length, 3);
  assert.equal(first.sseq, 2n, 'sealed anew: a new sender_seq');
  /* the local counter lost: caught up above this device's last message */
  const fresh = session(alice);
  const { sent: s2 } = await fresh.sendText(await fresh.fetchRoster(thread), 'two');
  assert.equal(s2.seq, 2);
  assert.equal(s.threads.get(thread).messages[1].sseq, 3n);
  assert.equal(fresh.state.threads[thread].send_seq, 3);
  assert.match(fresh.events.warnings.join('\n'), /counter .* was behind; continuing after 2/);
  /* not a member */
  s.threads.get(thread).members = [bob.userId];
  await assert.rejects(a.sendText(await a.fetchRoster(thread), 'x'), (e) => e.code === 'DENIED');
});

test('reading refuses what a tampering server sends, as security events', async () => {
  const { s, alice, bob, thread, session } = world();
  const a = session(alice);
  const r = await a.fetchRoster(thread);
  await a.sendText(r, 'first');
  await a.sendText(r, 'second');
  const msgs = s.threads.get(thread).messages;
  /* the first message again at a new seq, a wrong claimed sender, a broken envelope */
  msgs.push({ ...msgs[0], seq: 3 });
  msgs.push({ ...msgs[1], seq: 4, sender: bob.userId });
  msgs.push({ ...msgs[1], seq: 5, env: msgs[1].env.slice(0, -4) });
  const b = session(bob);
  const got = await b.fetchMessages(await b.fetchRoster(thread));
  assert.deepEqual(got.map((m) => m.code),
    [null, null, 'REPLAYED', 'INNER_MISMATCH', 'BAD_ENVELOPE']);
  assert.equal(b.refused, 3);
  assert.deepEqual(b.events.security.map((e) => [e.seq, e.code]),
    [[3, 'REPLAYED'], [4, 'INNER_MISMATCH'], [5, 'BAD_ENVELOPE']]);
  /* a sender device unknown to the roster and to `keys`: unverified, not shown */
  const ghost = structuredClone(s.users.get(alice.userId));
  s.users.get(alice.userId).devices = [];
  const c = session(bob);
  const r2 = await c.fetchRoster(thread);
  const seen = await c.fetchMessages(r2);
  assert.equal(seen[0].status, 'unverified');
  assert.equal(seen[0].text, null);
  s.users.set(alice.userId, ghost);
});

test('share history: a new device of the same user reads the earlier messages', async () => {
  const { s, alice, bob, thread, session } = world();
  const a = session(alice);
  const b = session(bob);
  await a.sendTitle(await a.fetchRoster(thread), 'Suivi');
  await b.sendText(await b.fetchRoster(thread), 'from Bob');
  const laptop = s.addDevice(alice.userId, 'Anne Martin', 'nurse', 5);
  const l = session(laptop);
  assert.equal((await l.fetchMessages(await l.fetchRoster(thread))).length, 0);
  const target = await a.shareHistoryTarget(laptop.deviceId);
  assert.equal(target.fingerprint, fpr.fingerprint(laptop.signPk));
  assert.match(target.grouped, /^[0-9a-f]{4}( [0-9a-f]{4}){3}$/);
  await assert.rejects(a.shareHistoryTarget(alice.deviceId), (e) => e.code === 'INVALID_ARG');
  await assert.rejects(a.shareHistoryTarget(bob.deviceId), (e) => e.code === 'DENIED');
  const res = await a.shareHistory(laptop.deviceId);
  assert.deepEqual(res, { device: laptop.deviceId, fingerprint: target.fingerprint, threads: 1,
    rewrapped: 2, stored: 2, skipped: 0 });
  const got = await l.fetchMessages(await l.fetchRoster(thread));
  assert.deepEqual(got.map((m) => [m.status, m.rewrapped, m.text]),
    [['ok', true, 'Suivi'], ['ok', true, 'from Bob']]);
  assert.equal((await a.shareHistory(laptop.deviceId)).stored, 0, 'idempotent');
  /* a re-wrap said to be by a device of another user is not trusted */
  const rw = s.threads.get(thread).rewraps;
  for (const v of rw.values()) v.by = bob.deviceId;
  const l2 = session(laptop);
  const bad = await l2.fetchMessages(await l2.fetchRoster(thread));
  assert.deepEqual(bad.map((m) => m.status), ['unverified', 'unverified']);
  /* a re-wrap by another own device whose signature does not verify is refused */
  const other = s.addDevice(alice.userId, 'Anne Martin', 'nurse', 6);
  for (const v of rw.values()) v.by = other.deviceId;
  const l3 = session(laptop);
  const refused = await l3.fetchMessages(await l3.fetchRoster(thread));
  assert.deepEqual(refused.map((m) => m.code), ['NOT_A_RECIPIENT', 'NOT_A_RECIPIENT']);
});

test('fingerprint and safety number as the CLI prints them', async () => {
  /* the e1 vector's sender key; the value computed independently (Python hashlib) */
  const pk = enc.fromHex('79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664');
  assert.equal(fpr.fingerprint(pk), '4d4dbe917544b079');
  assert.equal(fpr.groupFingerprint('4d4dbe917544b079'), '4d4d be91 7544 b079');
  /* Signal's published vector (libsignal NumericFingerprintGeneratorTest), as the CLI's
   * self-test: 33-byte keys, phone numbers as identifiers */
  const alice = enc.fromHex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868');
  const bob = enc.fromHex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b');
  const a = await fpr.safetyHalf(alice, enc.utf8Encode('+14152222222'));
  const b = await fpr.safetyHalf(bob, enc.utf8Encode('+14153333333'));
  assert.equal(a <= b ? a + b : b + a,
    '300354477692869396892869876765458257569162576843440918079131');
  /* two users, keys in any order (computed independently with Python hashlib) */
  const k2a = enc.fromHex('6dfd55e8bcafe4b01bf3a911724eac3d992c1f94cad0601aa11cc828b2513a7b');
  const k2b = enc.fromHex('a6056c047fdcf8e8df7569321dc49c09ec39b422f783fc25e1a24d11a8af2468');
  const u1 = { userId: enc.fromHex('2122232425262728292a2b2c2d2e2f30'), signPks: [pk] };
  const u2 = { userId: enc.fromHex('999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8'), signPks: [k2b, k2a] };
  const n = await fpr.safetyNumber(u1, u2);
  assert.equal(n, '144015059832059447714185843823777275306811420905399798545703');
  assert.equal(await fpr.safetyNumber(u2, { ...u1 }), n, 'both sides see the same');
  assert.deepEqual(fpr.safetyRows(n), ['14401 50598 32059 44771', '41858 43823 77727 53068',
    '11420 90539 97985 45703']);
  assert.equal(sodium.crypto_generichash(32, pk, null).length, 32);
  /* through a session: both users' keys from `keys`, the same number on both sides */
  const w = world();
  const x = w.session(w.alice);
  const y = w.session(w.bob);
  const sx = await x.safetyNumber(w.bob.userId);
  const sy = await y.safetyNumber(w.alice.userId);
  assert.equal(sx.safetyNumber, sy.safetyNumber);
  assert.match(sx.safetyNumber, /^[0-9]{60}$/);
  assert.equal(sx.safetyNumber, await fpr.safetyNumber(
    { userId: enc.idFromText(w.alice.userId), signPks: [w.alice.signPk] },
    { userId: enc.idFromText(w.bob.userId), signPks: [w.bob.signPk] }));
  await assert.rejects(x.safetyNumber(w.alice.userId), (e) => e.code === 'INVALID_ARG');
  await assert.rejects(x.safetyNumber(idText(0x99)), (e) => e.code === 'NOT_FOUND');
});
