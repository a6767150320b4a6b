// vectors_envelope.test.mjs - the web client's protocol core (clients/web/src/protocol) against
// the known answers of protocol/vectors: every value of transcripts.json (keys, kid16,
// transcripts, signatures, text forms, sample frames) and of envelope.json (roster hash,
// kcommit, wraps, inner plaintext, ciphertext, signature, the whole envelope and its base64url),
// rebuilt byte for byte; every envelope opened as each recipient; each receiver refusal reached
// by a changed envelope (as tests/unit/test_envelope_receive.c); history re-wraps created,
// verified, opened and refused (PROTOCOL.md §12). Missing vector files or a missing
// clients/web/node_modules fail the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';

const here = (rel) => new URL(rel, import.meta.url);
const SODIUM_PKG = here('../../clients/web/node_modules/libsodium-wrappers/package.json');
if (!existsSync(SODIUM_PKG)) {
  throw new Error('clients/web/node_modules is missing: run `npm ci` in clients/web first');
}

const lib = (name) => import(here(`../../clients/web/src/protocol/${name}.js`).href);
const enc = await lib('encode');
const tr = await lib('transcript');
const { SesError } = await lib('errors');
const { default: sodium } = await lib('sodium');

/** A vectors file, parsed; a missing or empty one fails (never skips). */
function vectors(name) {
  const url = here(`../../protocol/vectors/${name}`);
  assert.ok(existsSync(url), `protocol/vectors/${name} is missing`);
  const root = JSON.parse(readFileSync(url, 'utf8'));
  assert.ok(Array.isArray(root.vectors) && root.vectors.length >= 3, `${name}: no vectors`);
  return root.vectors;
}

const hex = (b) => enc.toHex(b);
const unhex = (s) => enc.fromHex(s);

/** b(k) = (start + step * k) mod 256, k = from .. from + n - 1. */
function pattern(p, from, n) {
  return Uint8Array.from({ length: n }, (_, k) => (p.start + p.step * (from + k)) % 256);
}

/** Expects fn to throw a SesError with code. */
function throwsCode(fn, code, what) {
  assert.throws(fn, (e) => e instanceof SesError && e.code === code, what ?? code);
}

// --- encodings ------------------------------------------------------------------------------

test('encodings: base64url, base32 and hex are strict', () => {
  for (let n = 0; n < 40; n++) {
    const b = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
    const t = enc.toB64url(b);
    assert.equal(t, Buffer.from(b).toString('base64url'));
    assert.deepEqual(enc.fromB64url(t), b);
    assert.equal(t.length, enc.b64Len(n));
    assert.deepEqual(enc.fromHex(enc.toHex(b)), b);
  }
  for (const bad of ['A', 'AB=', 'AB==', 'A+B/', 'AB C', 'AAB', 'AR', 'é', 'AAAA\n']) {
    throwsCode(() => enc.fromB64url(bad), 'BAD_FIELD', `base64url ${JSON.stringify(bad)}`);
  }
  throwsCode(() => enc.fromB64url('AAAA', 2), 'BAD_FIELD');
  const id = Uint8Array.from({ length: 16 }, (_, i) => 255 - i * 9);
  const text = enc.idToText(id);
  assert.equal(text.length, 26);
  assert.match(text, /^[a-z2-7]{26}$/);
  assert.deepEqual(enc.idFromText(text.toUpperCase()), id);
  for (const bad of [text.slice(1), `${text}a`, `${text.slice(0, 25)}1`, `${text.slice(0, 25)}=`]) {
    throwsCode(() => enc.idFromText(bad), 'BAD_FIELD', `id ${bad}`);
  }
  /* the last character carries 2 unused bits: only one of each 4 spellings is canonical */
  const last = 'abcdefghijklmnopqrstuvwxyz234567'.indexOf(text[25]);
  const other = 'abcdefghijklmnopqrstuvwxyz234567'[last ^ 1];
  throwsCode(() => enc.idFromText(text.slice(0, 25) + other), 'BAD_FIELD', 'non-canonical');
  throwsCode(() => enc.fromHex('abc'), 'BAD_FIELD');
  throwsCode(() => enc.fromHex('zz'), 'BAD_FIELD');
  assert.equal(hex(enc.u64be(0x0102030405060708n)), '0102030405060708');
  assert.equal(hex(enc.u32be(0xfedcba98)), 'fedcba98');
  assert.equal(enc.readU64be(unhex('ffffffffffffffff'), 0), (1n << 64n) - 1n);
  throwsCode(() => enc.u64be(1n << 64n), 'INVALID_ARG');
  throwsCode(() => enc.u64be(-1), 'INVALID_ARG');
  throwsCode(() => enc.utf8Decode(unhex('c0af')), 'BAD_FIELD', 'overlong');
  throwsCode(() => enc.utf8Decode(unhex('eda080')), 'BAD_FIELD', 'surrogate');
  throwsCode(() => enc.utf8Encode('a\ud800'), 'BAD_FIELD', 'lone surrogate');
  assert.equal(enc.utf8Decode(unhex('efbbbf41')), '\ufeffA');
});

// --- transcripts.json -----------------------------------------------------------------------

const TRANSCRIPT_CUT = [
  ['sign_seed', 32],
  ['box_seed', 32],
  ['server_seed', 32],
  ['snonce', 32],
  ['cnonce', 32],
  ['device_id', 16],
  ['ticket', 5],
  ['secret', 16],
];

for (const v of vectors('transcripts.json')) {
  test(`transcripts ${v.name}: keys, transcripts, signatures, text, frames`, () => {
    const inp = v.inputs;
    let k = 0;
    for (const [key, n] of TRANSCRIPT_CUT) {
      assert.equal(inp[key], hex(pattern(v.pattern, k, n)), `${key} follows the pattern`);
      k += n;
    }
    const b = Object.fromEntries(TRANSCRIPT_CUT.map(([key]) => [key, unhex(inp[key])]));
    assert.equal(hex(enc.u64be(inp.ts_ms)), inp.ts_be);
    const ts = enc.readU64be(unhex(inp.ts_be), 0);
    assert.equal(ts.toString(), inp.ts_ms);

    const keys = tr.deviceKeysFromSeeds(b.sign_seed, b.box_seed);
    const server = tr.deviceKeysFromSeeds(b.server_seed, b.box_seed);
    assert.equal(hex(keys.signPk), v.keys.sign_pk);
    assert.equal(hex(tr.kid16(keys.signPk)), v.keys.sign_kid16);
    assert.equal(hex(keys.boxPk), v.keys.box_pk);
    assert.equal(hex(server.signPk), v.keys.server_pk);
    const serverId = tr.kid16(server.signPk);
    assert.equal(hex(serverId), v.keys.server_id);

    const login = tr.loginTranscript(serverId, b.snonce, b.cnonce, b.device_id, ts);
    assert.equal(login.length, v.login.len);
    assert.equal(login.length, tr.LOGIN_TRANSCRIPT_LEN);
    assert.equal(hex(login), v.login.transcript);
    assert.equal(hex(tr.sign(login, keys.signSk)), v.login.sig);
    const enroll = tr.enrollTranscript(serverId, b.snonce, b.ticket, keys.signPk, keys.boxPk, ts);
    assert.equal(enroll.length, v.enroll.len);
    assert.equal(enroll.length, tr.ENROLL_TRANSCRIPT_LEN);
    assert.equal(hex(enroll), v.enroll.transcript);
    assert.equal(hex(tr.sign(enroll, keys.signSk)), v.enroll.sig);
    for (const [msg, sig] of [
      [login, unhex(v.login.sig)],
      [enroll, unhex(v.enroll.sig)],
    ]) {
      assert.ok(tr.verify(sig, msg, keys.signPk));
      for (let i = 0; i < msg.length; i += 7) {
        const m = msg.slice();
        m[i] ^= 1 << i % 8;
        assert.equal(tr.verify(sig, m, keys.signPk), false, `transcript byte ${i} changed`);
      }
      const s = sig.slice();
      s[63] ^= 0x10;
      assert.equal(tr.verify(s, msg, keys.signPk), false, 'signature changed');
      assert.equal(tr.verify(sig, msg, server.signPk), false, 'another key');
    }

    const t = v.text;
    assert.equal(enc.idToText(b.device_id), t.device_id);
    assert.deepEqual(enc.idFromText(t.device_id), b.device_id);
    assert.equal(tr.formatCode(b.ticket, b.secret), t.code);
    for (const typed of [t.code, t.code.toLowerCase(), t.code.replace('-', '')]) {
      const c = tr.parseCode(typed);
      assert.equal(hex(c.ticket), inp.ticket);
      assert.equal(hex(c.secret), inp.secret);
    }
    for (const bad of [t.code.slice(1), `${t.code}A`, t.code.replace('-', '--'), `-${t.code}`,
      t.code.replace(/.$/, '1'), ` ${t.code}`, `${t.code.slice(0, 34)}B`]) {
      throwsCode(() => tr.parseCode(bad), 'CODE_INVALID', `code ${bad}`);
    }
    const b64 = { sign_pk: keys.signPk, box_pk: keys.boxPk, server_id: serverId,
      snonce: b.snonce, cnonce: b.cnonce, login_sig: unhex(v.login.sig),
      enroll_sig: unhex(v.enroll.sig) };
    for (const [key, val] of Object.entries(b64)) {
      assert.equal(enc.toB64url(val), t[key], `text.${key}`);
      assert.deepEqual(enc.fromB64url(t[key], val.length), val);
    }

    const hello = { t: 'hello', v: 1, server_id: t.server_id, nonce: t.snonce, time: 1 };
    if (v.frames === undefined) {
      assert.ok(ts > BigInt(Number.MAX_SAFE_INTEGER), 'frames are left out only past 2^53');
      throwsCode(() => tr.authFrame(hello, { deviceId: t.device_id, signSk: keys.signSk }, ts),
        'INVALID_ARG');
      return;
    }
    const nts = Number(ts);
    const auth = tr.authFrame(hello, { deviceId: t.device_id, signSk: keys.signSk }, nts,
      { cnonce: b.cnonce });
    assert.equal(JSON.stringify({ t: auth.t, id: 1, ...auth }), v.frames.auth);
    const en = tr.enrollFrame(hello, t.code.toLowerCase().replace('-', ''), keys, nts,
      'practice PC');
    assert.equal(JSON.stringify({ t: en.t, id: 1, ...en }), v.frames.enroll);
  });
}

test('pre-login frames refuse a bad hello, a bad code and a bad device name', () => {
  const keys = tr.newDeviceKeys();
  assert.equal(keys.signSk.length, 64);
  assert.equal(keys.boxSk.length, 32);
  const hello = { t: 'hello', v: 1, server_id: enc.toB64url(new Uint8Array(16)),
    nonce: enc.toB64url(new Uint8Array(32)), time: 5 };
  const dev = { deviceId: enc.idToText(new Uint8Array(16)), signSk: keys.signSk };
  const f = tr.authFrame(hello, dev, 1000);
  assert.equal(f.cnonce.length, 43);
  assert.notEqual(f.cnonce, tr.authFrame(hello, dev, 1000).cnonce, 'cnonce is random');
  throwsCode(() => tr.authFrame({ ...hello, v: 2 }, dev, 1), 'UNSUPPORTED');
  throwsCode(() => tr.authFrame({ ...hello, t: 'x' }, dev, 1), 'BAD_FRAME');
  throwsCode(() => tr.authFrame({ ...hello, server_id: enc.toB64url(new Uint8Array(15)) },
    dev, 1), 'BAD_FIELD');
  throwsCode(() => tr.authFrame({ ...hello, nonce: `${hello.nonce}=` }, dev, 1), 'BAD_FIELD');
  throwsCode(() => tr.authFrame(hello, { ...dev, deviceId: 'nope' }, 1), 'BAD_FIELD');
  throwsCode(() => tr.authFrame(hello, dev, 1.5), 'INVALID_ARG');
  const code = tr.formatCode(new Uint8Array(5), new Uint8Array(16));
  throwsCode(() => tr.enrollFrame(hello, 'AAAA', keys, 1), 'CODE_INVALID');
  for (const name of ['', 'a\u202eb', 'tab\there', 'x'.repeat(65)]) {
    throwsCode(() => tr.enrollFrame(hello, code, keys, 1, name), 'BAD_FIELD', `name ${name}`);
  }
  assert.equal(tr.enrollFrame(hello, code, keys, 1, 'é'.repeat(32)).device_name.length, 32);
  assert.equal('device_name' in tr.enrollFrame(hello, code, keys, 1), false);
  const sig = enc.fromB64url(f.sig, 64);
  const t = tr.loginTranscript(new Uint8Array(16), new Uint8Array(32),
    enc.fromB64url(f.cnonce, 32), new Uint8Array(16), 1000);
  assert.ok(tr.verify(sig, t, keys.signPk));
  assert.equal(sodium.crypto_sign_verify_detached(sig, t, keys.signPk), true);
});

// --- envelope.json --------------------------------------------------------------------------

const env = await lib('envelope');
const rw = await lib('rewrap');
const EVECS = vectors('envelope.json');

/** One envelope vector, decoded (the struct kat of test_envelope_receive.c). */
function load(i) {
  const v = EVECS[i];
  const inp = v.inputs;
  const sender = tr.deviceKeysFromSeeds(unhex(inp.sign_seed), new Uint8Array(32));
  const rcpt = inp.recipients.map((r) => {
    const kp = sodium.crypto_box_seed_keypair(unhex(r.box_seed));
    return { deviceId: unhex(r.device_id), boxPk: kp.publicKey, boxSk: kp.privateKey,
      ephSeed: unhex(r.eph_seed), member: r.member };
  });
  const header = {
    threadId: unhex(inp.thread_id), msgId: unhex(inp.msg_id),
    senderUserId: unhex(inp.sender_user_id), senderDeviceId: unhex(inp.sender_device_id),
    senderSeq: BigInt(inp.sender_seq), rosterHash: unhex(v.roster_hash),
    createdMs: BigInt(inp.created_ms), alertType: inp.alert_type, severity: inp.severity,
    deadlineMs: BigInt(inp.deadline_ms),
  };
  return { v, inp, signPk: sender.signPk, signSk: sender.signSk, rcpt, header,
    key: unhex(inp.key), nonce: unhex(inp.nonce), body: unhex(inp.body),
    inner: unhex(v.inner), env: unhex(v.envelope), headerLen: v.header_len,
    contentType: inp.content_type };
}

/** Signs k.env again with the vector's sender key (after a change to its bytes). */
function resign(k) {
  const n = k.env.length - 64;
  const msg = enc.concat(enc.context('sesame/v1/envelope'), k.env.subarray(0, n));
  k.env.set(sodium.crypto_sign_detached(msg, k.signSk), n);
}

/** Encrypts k.inner again into k.env (K, nonce, AAD = the header) and signs again. */
function reencrypt(k) {
  const ct = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(k.inner,
    k.env.subarray(0, k.headerLen), null, k.nonce, k.key);
  assert.equal(ct.length, k.inner.length + 16);
  k.env.set(ct, k.headerLen + 4);
  resign(k);
}

const ENVELOPE_CUT = [['sign_seed', 32], ['sender_user_id', 16], ['sender_device_id', 16],
  ['thread_id', 16], ['msg_id', 16], ['key', 32], ['nonce', 24]];

for (let i = 0; i < EVECS.length; i++) {
  test(`envelope ${EVECS[i].name}: every byte rebuilt, opened as each recipient`, () => {
    const k = load(i);
    const { v, inp } = k;
    /* the inputs follow the pattern */
    let pos = 0;
    const cut = (n) => hex(pattern(v.pattern, (pos += n) - n, n));
    for (const [key, n] of ENVELOPE_CUT) assert.equal(inp[key], cut(n), key);
    assert.equal(inp.members[0], inp.sender_user_id);
    for (const m of inp.members.slice(1)) assert.equal(m, cut(16), 'member');
    for (const r of inp.recipients) {
      assert.equal(r.device_id, cut(16));
      assert.equal(r.box_seed, cut(32));
      assert.equal(r.eph_seed, cut(32));
    }
    /* keys */
    assert.equal(hex(k.signPk), v.keys.sign_pk);
    k.rcpt.forEach((r, j) => {
      assert.equal(hex(r.boxPk), v.keys.recipients[j].box_pk);
      const eph = sodium.crypto_box_seed_keypair(r.ephSeed).publicKey;
      assert.equal(hex(eph), v.keys.recipients[j].eph_pk);
    });
    /* roster hash from the members in two orders, and from a hand assembly */
    const members = inp.members.map(unhex);
    const rh = env.rosterHash(k.header.threadId, inp.roster_version, members);
    assert.equal(hex(rh), v.roster_hash);
    assert.equal(hex(env.rosterHash(k.header.threadId, inp.roster_version,
      [...members].reverse())), v.roster_hash);
    const sorted = [...inp.members].sort().map(unhex);
    const byHand = sodium.crypto_generichash(32, enc.concat(enc.context('sesame/v1/roster'),
      k.header.threadId, enc.u32be(inp.roster_version), Uint8Array.of(members.length),
      ...sorted), null);
    assert.equal(hex(byHand), v.roster_hash);
    assert.notEqual(hex(env.rosterHash(k.header.threadId, inp.roster_version + 1, members)),
      v.roster_hash);
    throwsCode(() => env.rosterHash(k.header.threadId, 1, [members[0], members[0]]),
      'INVALID_ARG');
    /* kcommit, inner */
    assert.equal(hex(env.kcommit(k.key, k.header.msgId)), v.kcommit);
    const h = env.normalHeader(k.header);
    assert.equal(hex(env.innerPlaintext(h, k.contentType, k.body)), v.inner);
    if (inp.body_text !== undefined) assert.equal(enc.utf8Decode(k.body), inp.body_text);
    /* the whole envelope */
    const built = env.sealDet(k.header, { contentType: k.contentType, body: k.body }, k.rcpt,
      k.signSk, { key: k.key, nonce: k.nonce, ephSeeds: k.rcpt.map((r) => r.ephSeed) });
    assert.equal(built.length, v.len);
    assert.equal(hex(built), v.envelope);
    assert.equal(enc.toB64url(built), v.envelope_b64url);
    assert.deepEqual(enc.fromB64url(v.envelope_b64url), built);
    /* the parsed view and the intermediate values */
    const p = env.parse(built);
    assert.equal(p.headerLen, v.header_len);
    assert.equal(p.nWraps, k.rcpt.length);
    p.wraps.forEach((w, j) => {
      assert.equal(hex(enc.concat(w.deviceId, w.sealed)), v.wraps[j]);
      assert.equal(hex(w.sealed.subarray(0, 32)), v.keys.recipients[j].eph_pk);
      const kk = sodium.crypto_box_seal_open(w.sealed, k.rcpt[j].boxPk, k.rcpt[j].boxSk);
      assert.equal(hex(kk), inp.key, 'each wrap is a sealed box of K');
    });
    assert.equal(p.ctLen, v.ct_len);
    assert.equal(hex(p.ct), v.ct);
    assert.equal(hex(p.sig), v.sig);
    assert.equal(hex(p.kcommit), v.kcommit);
    assert.equal(p.hdr.senderSeq, BigInt(inp.sender_seq));
    assert.equal(p.hdr.createdMs, BigInt(inp.created_ms));
    assert.equal(p.hdr.deadlineMs, BigInt(inp.deadline_ms));
    assert.equal(p.hdr.alertType, inp.alert_type);
    assert.equal(p.hdr.severity, inp.severity);
    const pt = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, p.ct,
      built.subarray(0, p.headerLen), p.nonce, k.key);
    assert.equal(hex(pt), v.inner);
    env.verifySig(p, k.signPk);
    /* opened by each recipient */
    const expected = [...k.rcpt.map((r) => r.deviceId), k.header.senderDeviceId];
    for (const r of k.rcpt) {
      const o = env.open(built, r, { senderSignPk: k.signPk, expected });
      assert.equal(o.contentType, k.contentType);
      assert.equal(hex(o.body), inp.body);
      assert.equal(hex(o.hdr.msgId), inp.msg_id);
      assert.equal(o.nWraps, k.rcpt.length);
      assert.equal(o.nMissing, 0);
    }
    /* a random seal of the same content differs but opens the same */
    const fresh = env.seal(k.header, { contentType: k.contentType, body: k.body }, k.rcpt,
      k.signSk);
    assert.equal(fresh.length, v.len);
    assert.notEqual(hex(fresh), v.envelope);
    for (const r of k.rcpt) {
      assert.equal(hex(env.open(fresh, r, { senderSignPk: k.signPk, expected }).body), inp.body);
    }
  });
}

test('sender_seq: 1 .. 2^53 - 1 only, when sealing and when parsing', () => {
  const k = load(0);
  const c = { contentType: k.contentType, body: k.body };
  const top = (1n << 53n) - 1n;
  assert.equal(env.SEQ_MAX, top);
  const last = env.seal({ ...k.header, senderSeq: top }, c, k.rcpt, k.signSk);
  assert.equal(env.parse(last).hdr.senderSeq, top);
  throwsCode(() => env.seal({ ...k.header, senderSeq: top + 1n }, c, k.rcpt, k.signSk),
    'INVALID_ARG');
  for (const bad of [0n, top + 1n, 1n << 63n, (1n << 64n) - 1n]) {
    const b = Uint8Array.from(last);
    new DataView(b.buffer).setBigUint64(72, bad);
    throwsCode(() => env.parse(b), 'BAD_ENVELOPE');
  }
});

test('seal refuses bad arguments; body sizes give the 256-byte buckets', () => {
  const k = load(0);
  const c = (body, contentType = 1) => ({ contentType, body });
  const go = (hdr, content, rcpt = k.rcpt) => env.seal(hdr, content, rcpt, k.signSk);
  throwsCode(() => go(k.header, c(k.body, 0)), 'INVALID_ARG');
  throwsCode(() => go(k.header, c(k.body, 7)), 'INVALID_ARG');
  throwsCode(() => go({ ...k.header, senderSeq: 0 }, c(k.body)), 'INVALID_ARG');
  throwsCode(() => go(k.header, c(k.body), []), 'INVALID_ARG');
  throwsCode(() => go(k.header, c(k.body), [k.rcpt[0], k.rcpt[0]]), 'INVALID_ARG');
  throwsCode(() => go(k.header, c(new Uint8Array(65536))), 'TOO_LARGE');
  const many = Array.from({ length: 33 }, (_, j) => ({ deviceId: new Uint8Array(16).fill(j),
    boxPk: k.rcpt[0].boxPk }));
  throwsCode(() => go(k.header, c(k.body), many), 'INVALID_ARG');
  for (const [n, ct] of [[0, 342], [255, 342], [256, 598], [511, 598], [65535, 65622]]) {
    const e = go(k.header, c(new Uint8Array(n)), k.rcpt.slice(0, 1));
    assert.equal(env.parse(e).ctLen, ct, `body ${n}`);
    assert.equal(env.open(e, k.rcpt[0], { senderSignPk: k.signPk,
      expected: [k.rcpt[0].deviceId] }).body.length, n);
  }
  const e32 = go(k.header, c(new Uint8Array(65535)), many.slice(0, 32));
  assert.equal(e32.length, env.ENVELOPE_MAX);
  assert.equal(enc.toB64url(e32).length, env.ENVELOPE_B64_MAX);
});

// --- the receiver's decision (mirrors tests/unit/test_envelope_receive.c) ------------------

/** What recipient me of k passes: the claim of the vector's sender at seq 1, every recipient
 * device and the sending device expected, no marks. */
function prepare(k, me) {
  return {
    me: k.rcpt[me],
    claim: { threadId: k.header.threadId, senderUserId: Uint8Array.from(k.header.senderUserId),
      senderDeviceId: Uint8Array.from(k.header.senderDeviceId), seq: 1 },
    ctx: { senderSignPk: k.signPk,
      expected: [...k.rcpt.map((r) => Uint8Array.from(r.deviceId)), k.header.senderDeviceId] },
  };
}

function begin(vec, me) {
  const k = load(vec);
  return [k, prepare(k, me)];
}

/** Receives and expects code (null: accepted) with reason; an accepted message is k's. */
function receiveIs(k, c, code, reason, bytes = k.env) {
  const d = env.receive(bytes, c.me, c.claim, c.ctx);
  assert.equal(d.code, code, `code (reason ${d.reason})`);
  assert.equal(d.reason, reason);
  assert.equal(d.accepted, code === null);
  if (code === null) {
    assert.equal(d.opened.contentType, k.contentType);
    assert.equal(hex(d.opened.body), hex(k.body));
    assert.equal(hex(d.opened.hdr.msgId), k.inp.msg_id);
    assert.equal(d.opened.hdr.senderSeq, BigInt(k.inp.sender_seq));
  } else {
    assert.equal(d.opened, null);
  }
  return d;
}

const senderText = (k) => enc.idToText(k.header.senderDeviceId);
const sseq = (k) => BigInt(k.inp.sender_seq);

test('receive: every recipient accepts every vector', () => {
  for (let i = 0; i < EVECS.length; i++) {
    const k = load(i);
    for (let me = 0; me < k.rcpt.length; me++) {
      const c = prepare(k, me);
      const d = receiveIs(k, c, null, 'ACCEPTED');
      assert.equal(d.lastSeen, 0n);
      assert.equal(d.ghosts.length, 0);
      assert.equal(d.advanceMark, true);
      assert.equal(d.opened.nWraps, k.rcpt.length);
      assert.equal(d.opened.nMissing, 0);
    }
  }
});

test('receive: BAD_ENVELOPE and UNSUPPORTED', () => {
  const [k, c] = begin(0, 1);
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE', k.env.subarray(0, k.env.length - 1));
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE', k.env.subarray(0, env.OFF.WRAPS));
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE', enc.concat(k.env, new Uint8Array(1)));
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE', new Uint8Array(0));
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE', k.env.subarray(0, 3));
  k.env[env.OFF.VERSION] = 2; /* a downgrade or a future version */
  receiveIs(k, c, 'UNSUPPORTED', 'ENVELOPE');
  k.env[env.OFF.VERSION] = 1;
  k.env[env.OFF.FLAGS + 1] = 1;
  receiveIs(k, c, 'UNSUPPORTED', 'ENVELOPE');
  k.env[env.OFF.FLAGS + 1] = 0;
  k.env[env.OFF.SUITE] = 2;
  receiveIs(k, c, 'UNSUPPORTED', 'ENVELOPE');
  k.env[env.OFF.SUITE] = 1;
  /* a wrap device twice (re-signed): structure, before the signature */
  const [k2, c2] = begin(1, 0);
  k2.env.set(k2.env.subarray(env.OFF.WRAPS, env.OFF.WRAPS + 16), env.OFF.WRAPS + 96);
  resign(k2);
  receiveIs(k2, c2, 'BAD_ENVELOPE', 'ENVELOPE');
  /* ct_len not a bucket */
  const [k3, c3] = begin(0, 0);
  k3.env.set(enc.u32be(343), k3.headerLen);
  receiveIs(k3, c3, 'BAD_ENVELOPE', 'ENVELOPE');
});

test('receive: INNER_MISMATCH of the frame claim, checked after the structure', () => {
  const k = load(0);
  const c = prepare(k, 1);
  for (const f of ['threadId', 'senderUserId', 'senderDeviceId']) {
    const keep = c.claim[f];
    c.claim[f] = Uint8Array.from(keep);
    c.claim[f][15] ^= 1;
    throwsCode(() => env.parseClaimed(k.env, c.claim), 'INNER_MISMATCH');
    receiveIs(k, c, 'INNER_MISMATCH', 'CLAIM');
    c.claim[f] = keep;
  }
  assert.equal(hex(env.parseClaimed(k.env, c.claim).hdr.msgId), k.inp.msg_id);
  c.claim.seq = 7;
  c.claim.senderDeviceId = new Uint8Array(16);
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE', k.env.subarray(0, k.env.length - 1));
});

test('receive: INNER_MISMATCH of the inner ids, BAD_ENVELOPE of the inner layout', () => {
  const cases = [
    [33, 0x40, 'INNER_MISMATCH'], [1, 1, 'INNER_MISMATCH'], [17, 1, 'INNER_MISMATCH'],
    [49, 1, 'INNER_MISMATCH'], [0, 3, 'BAD_ENVELOPE'], [69, 1, 'BAD_ENVELOPE'],
  ];
  for (const [off, bit, code] of cases) {
    const [k, c] = begin(1, 0);
    k.inner[off] ^= bit;
    reencrypt(k);
    receiveIs(k, c, code, 'ENVELOPE');
  }
  const [k, c] = begin(0, 0);
  k.inner[env.INNER.CTYPE] = 0; /* content type 0 */
  reencrypt(k);
  receiveIs(k, c, 'BAD_ENVELOPE', 'ENVELOPE');
  const [k2, c2] = begin(0, 1);
  k2.inner[k2.inner.length - 1] = 1; /* a non-zero byte after the 0x80 */
  reencrypt(k2);
  receiveIs(k2, c2, 'BAD_ENVELOPE', 'ENVELOPE');
});

test('receive: BAD_SIGNATURE', () => {
  const [k, c] = begin(0, 1);
  c.ctx.senderSignPk = k.rcpt[0].boxPk; /* not the sender's key */
  receiveIs(k, c, 'BAD_SIGNATURE', 'ENVELOPE');
  c.ctx.senderSignPk = k.signPk;
  k.env[k.env.length - 1] ^= 1;
  receiveIs(k, c, 'BAD_SIGNATURE', 'ENVELOPE');
  k.env[k.env.length - 1] ^= 1;
  k.env[env.OFF.CREATED] ^= 1; /* a header byte, not signed again */
  receiveIs(k, c, 'BAD_SIGNATURE', 'ENVELOPE');
  k.env[env.OFF.CREATED] ^= 1;
  for (let i = 8; i < k.env.length; i += 13) {
    k.env[i] ^= 0x20;
    const d = env.receive(k.env, c.me, { ...c.claim, threadId: k.env.slice(8, 24),
      senderUserId: k.env.slice(40, 56), senderDeviceId: k.env.slice(56, 72) }, c.ctx);
    assert.ok(['BAD_SIGNATURE', 'BAD_ENVELOPE'].includes(d.code), `byte ${i}: ${d.code}`);
    k.env[i] ^= 0x20;
  }
});

test('receive: GHOST_DEVICE, and its tolerated form', () => {
  const [k, c] = begin(1, 1);
  /* recipient 0 is no longer expected */
  c.ctx.expected = c.ctx.expected.slice(1);
  receiveIs(k, c, 'GHOST_DEVICE', 'ENVELOPE');
  c.ctx.allowGhosts = true;
  const d = receiveIs(k, c, null, 'ACCEPTED');
  assert.equal(d.ghosts.length, 1);
  assert.equal(hex(d.ghosts[0]), hex(k.rcpt[0].deviceId));
  /* the signature still comes first: no ghost is reported for a forgery */
  k.env[k.env.length - 1] ^= 1;
  const f = receiveIs(k, c, 'BAD_SIGNATURE', 'ENVELOPE');
  assert.equal(f.ghosts.length, 0);
  /* an expected device without a wrap is counted missing, not refused */
  const [k2, c2] = begin(0, 0);
  c2.ctx.expected.push(new Uint8Array(16).fill(0xee));
  assert.equal(receiveIs(k2, c2, null, 'ACCEPTED').opened.nMissing, 1);
});

test('receive: NOT_A_RECIPIENT, DECRYPT_FAILED, BAD_COMMITMENT', () => {
  const [k, c] = begin(0, 0);
  const kp = sodium.crypto_box_keypair();
  c.me = { deviceId: k.header.senderDeviceId, boxPk: kp.publicKey, boxSk: kp.privateKey };
  receiveIs(k, c, 'NOT_A_RECIPIENT', 'ENVELOPE');
  const [k2, c2] = begin(2, 1);
  c2.me = { ...c2.me, boxPk: k2.rcpt[0].boxPk, boxSk: k2.rcpt[0].boxSk };
  receiveIs(k2, c2, 'DECRYPT_FAILED', 'ENVELOPE');
  const c3 = prepare(k2, 1);
  k2.env[k2.headerLen + 4 + 10] ^= 1; /* a ciphertext byte, signed again */
  resign(k2);
  receiveIs(k2, c3, 'DECRYPT_FAILED', 'ENVELOPE');
  const [k4, c4] = begin(0, 1);
  k4.env[env.OFF.KCOMMIT + 5] ^= 0x80;
  resign(k4);
  receiveIs(k4, c4, 'BAD_COMMITMENT', 'ENVELOPE');
  /* a wrap of another K, correctly signed: the commitment catches it */
  const [k5, c5] = begin(0, 1);
  const other = sodium.crypto_box_seal(new Uint8Array(32).fill(9), k5.rcpt[1].boxPk);
  k5.env.set(other, env.OFF.WRAPS + 96 + 16);
  resign(k5);
  receiveIs(k5, c5, 'BAD_COMMITMENT', 'ENVELOPE');
});

test('receive: REPLAYED by sequence', () => {
  const [k, c] = begin(1, 2);
  const dev = senderText(k);
  c.ctx.run = env.newRun();
  c.ctx.run.seq.set(dev, sseq(k)); /* this run already opened sender_seq from that device */
  const d = receiveIs(k, c, 'REPLAYED', 'SEQ');
  assert.equal(d.lastSeen, sseq(k));
  c.ctx.run.seq.set(dev, sseq(k) - 1n);
  receiveIs(k, c, null, 'ACCEPTED');
  /* a newer message than the persisted mark must be above the mark's sender_seq */
  c.ctx.run = env.newRun();
  c.ctx.marks = { [dev]: { seq: 3, sender_seq: sseq(k).toString() } };
  c.claim.seq = 4;
  assert.equal(receiveIs(k, c, 'REPLAYED', 'SEQ').lastSeen, sseq(k));
  /* an older one is not bound by the mark's sender_seq, only below it */
  c.ctx.marks[dev].sender_seq = (sseq(k) + 1n).toString();
  c.claim.seq = 2;
  const o = receiveIs(k, c, null, 'ACCEPTED');
  assert.equal(o.lastSeen, 0n);
  assert.equal(o.advanceMark, false);
});

test('receive: REPLAYED by persisted mark', () => {
  const [k, c] = begin(0, 0);
  const dev = senderText(k);
  c.claim.seq = 5;
  c.ctx.marks = { [dev]: { seq: 5, sender_seq: (sseq(k) + 1n).toString() } };
  receiveIs(k, c, 'REPLAYED', 'MARK');
  c.ctx.marks[dev].sender_seq = sseq(k).toString(); /* the same: shown again */
  assert.equal(receiveIs(k, c, null, 'ACCEPTED').advanceMark, false);
  c.claim.seq = 4; /* below the mark's seq, a sender_seq at or above the mark's */
  receiveIs(k, c, 'REPLAYED', 'MARK');
  c.ctx.run = { seq: new Map(), ids: new Set([k.inp.msg_id]) }; /* the mark is checked first */
  receiveIs(k, c, 'REPLAYED', 'MARK');
});

/** A Set that counts has(): asked only once everything else passed. */
class CountingSet extends Set {
  constructor(items) {
    super(items);
    this.calls = 0;
  }

  has(x) {
    this.calls++;
    return super.has(x);
  }
}

test('receive: REPLAYED by msg_id, asked last', () => {
  const [k, c] = begin(2, 0);
  const ids = new CountingSet();
  c.ctx.run = { seq: new Map(), ids };
  receiveIs(k, c, null, 'ACCEPTED');
  assert.equal(ids.calls, 1);
  c.ctx.run = { seq: new Map(), ids: new CountingSet([k.inp.msg_id]) };
  receiveIs(k, c, 'REPLAYED', 'MSG_ID');
  const late = new CountingSet([k.inp.msg_id]);
  c.ctx.run = { seq: new Map([[senderText(k), sseq(k)]]), ids: late };
  receiveIs(k, c, 'REPLAYED', 'SEQ');
  assert.equal(late.calls, 0);
});

test('receive records an accepted message in the run and advances the mark', () => {
  const [k, c] = begin(1, 0);
  const dev = senderText(k);
  c.ctx.run = env.newRun();
  c.ctx.marks = {};
  c.claim.seq = 9;
  assert.equal(receiveIs(k, c, null, 'ACCEPTED').advanceMark, true);
  assert.deepEqual(c.ctx.marks, { [dev]: { seq: 9, sender_seq: k.inp.sender_seq } });
  assert.equal(c.ctx.run.seq.get(dev), sseq(k));
  assert.ok(c.ctx.run.ids.has(k.inp.msg_id));
  receiveIs(k, c, 'REPLAYED', 'SEQ'); /* the same message again in this run */
  c.ctx.run = env.newRun(); /* a new walk: shown again, at the mark */
  assert.equal(receiveIs(k, c, null, 'ACCEPTED').advanceMark, false);
  const refusedMarks = structuredClone(c.ctx.marks);
  k.env[k.env.length - 1] ^= 1;
  receiveIs(k, c, 'BAD_SIGNATURE', 'ENVELOPE');
  assert.deepEqual(c.ctx.marks, refusedMarks, 'a refusal writes nothing');
});

test('receive: argument errors are thrown, not decided', () => {
  const [k, c] = begin(0, 1);
  throwsCode(() => env.receive(k.env, c.me, { ...c.claim, seq: 0 }, c.ctx), 'INVALID_ARG');
  throwsCode(() => env.receive(k.env, c.me, c.claim, { ...c.ctx,
    expected: [c.ctx.expected[0], c.ctx.expected[0]] }), 'INVALID_ARG');
  throwsCode(() => env.receive(k.env, null, c.claim, c.ctx), 'INVALID_ARG');
});

// --- history re-wraps (§12) -----------------------------------------------------------------

/** A new device t of recipient 0's user, and recipient 0 with a signing key. */
function rewrapSetup(vec = 0) {
  const k = load(vec);
  const t = { ...tr.newDeviceKeys(), deviceId: new Uint8Array(16).fill(0x7a) };
  const by = { ...k.rcpt[0], ...tr.newDeviceKeys(), boxPk: k.rcpt[0].boxPk,
    boxSk: k.rcpt[0].boxSk };
  const made = rw.rewrapCreate(k.env, by, k.signPk, t);
  const rewrap = { sealed: made.sealed, sig: made.sig, byDeviceId: by.deviceId,
    bySignPk: by.signPk };
  const expected = [...k.rcpt.map((r) => r.deviceId), k.header.senderDeviceId];
  const openAs = (r, o = {}) => rw.openRewrap(o.env ?? k.env, o.me ?? t,
    { senderSignPk: k.signPk, expected: o.expected ?? expected, lastSeenSeq: o.last ?? 0n,
      rewrap: { ...rewrap, ...r } });
  return { k, t, by, made, rewrap, expected, openAs };
}

test('re-wrap: statement layout, create, verify, open', () => {
  const { k, t, by, made, rewrap, openAs } = rewrapSetup();
  const p = env.parse(k.env);
  const st = rw.rewrapStatement(p.hdr.threadId, p.hdr.msgId, p.kcommit, t.deviceId,
    made.sealed, by.deviceId);
  assert.equal(st.length, rw.STATEMENT_BYTES);
  assert.equal(hex(st), hex(enc.concat(enc.utf8Encode('sesame/v1/rewrap'), new Uint8Array(1),
    k.header.threadId, k.header.msgId, unhex(k.v.kcommit), t.deviceId, made.sealed,
    by.deviceId)));
  assert.equal(hex(sodium.crypto_box_seal_open(made.sealed, t.boxPk, t.boxSk)), k.inp.key);
  rw.rewrapVerify(p, t.deviceId, made.sealed, by.deviceId, made.sig, by.signPk);
  throwsCode(() => rw.rewrapVerify(p, t.deviceId, made.sealed, by.deviceId, made.sig, k.signPk),
    'BAD_SIGNATURE');
  const o = openAs({});
  assert.equal(hex(o.body), k.inp.body);
  assert.equal(o.nMissing, 0, 'the new device itself is not missing');
  /* and through receive */
  const c = prepare(k, 0);
  c.me = t;
  c.ctx.rewrap = rewrap;
  receiveIs(k, c, null, 'ACCEPTED');
  c.ctx.rewrap = undefined;
  receiveIs(k, c, 'NOT_A_RECIPIENT', 'ENVELOPE');
  c.ctx.rewrap = { ...rewrap, sig: Uint8Array.from(rewrap.sig) };
  c.ctx.rewrap.sig[0] ^= 1;
  receiveIs(k, c, 'BAD_SIGNATURE', 'ENVELOPE');
  c.ctx.rewrap = { ...rewrap, byDeviceId: k.header.senderDeviceId };
  receiveIs(k, c, 'NOT_A_RECIPIENT', 'ENVELOPE');
});

test('re-wrap: create refuses what it cannot open', () => {
  const { k, t, by } = rewrapSetup();
  throwsCode(() => rw.rewrapCreate(k.env, by, k.signPk, { ...t, deviceId: by.deviceId }),
    'INVALID_ARG');
  const stranger = { ...by, deviceId: new Uint8Array(16).fill(0x33) };
  throwsCode(() => rw.rewrapCreate(k.env, stranger, k.signPk, t), 'NOT_A_RECIPIENT');
  throwsCode(() => rw.rewrapCreate(k.env, by, by.signPk, t), 'BAD_SIGNATURE');
  const wrongBox = { ...by, boxPk: k.rcpt[1].boxPk, boxSk: k.rcpt[1].boxSk };
  throwsCode(() => rw.rewrapCreate(k.env, wrongBox, k.signPk, t), 'DECRYPT_FAILED');
  const bad = Uint8Array.from(k.env);
  bad[env.OFF.VERSION] = 9;
  throwsCode(() => rw.rewrapCreate(bad, by, k.signPk, t), 'UNSUPPORTED');
  const k2 = load(0);
  k2.env[env.OFF.KCOMMIT] ^= 1;
  resign(k2);
  throwsCode(() => rw.rewrapCreate(k2.env, by, k.signPk, t), 'BAD_COMMITMENT');
  const k3 = load(0);
  k3.inner[33] ^= 1;
  reencrypt(k3);
  throwsCode(() => rw.rewrapCreate(k3.env, by, k.signPk, t), 'INNER_MISMATCH');
});

test('re-wrap: the ordered refusals 1-8 of the target', () => {
  const { k, t, by, made, rewrap, expected, openAs } = rewrapSetup();
  const p = env.parse(k.env);
  const signAs = (signer, parts) => sodium.crypto_sign_detached(rw.rewrapStatement(
    p.hdr.threadId, p.hdr.msgId, parts.kcommit ?? p.kcommit, parts.target ?? t.deviceId,
    parts.sealed ?? made.sealed, parts.by ?? by.deviceId), signer);
  /* 1. structure, 2. the sender's signature first */
  throwsCode(() => openAs({}, { env: k.env.subarray(1) }), 'UNSUPPORTED');
  throwsCode(() => openAs({}, { env: k.env.subarray(0, k.env.length - 1) }), 'BAD_ENVELOPE');
  const forged = Uint8Array.from(k.env);
  forged[forged.length - 1] ^= 1;
  throwsCode(() => openAs({}, { env: forged }), 'BAD_SIGNATURE');
  /* 3. ghost wraps */
  throwsCode(() => openAs({}, { expected: expected.slice(1) }), 'GHOST_DEVICE');
  /* 4. a signer without a wrap never had K */
  const noWrap = new Uint8Array(16).fill(0x44);
  throwsCode(() => openAs({ byDeviceId: noWrap, sig: signAs(by.signSk, { by: noWrap }) }),
    'NOT_A_RECIPIENT');
  /* 5. the statement binds kcommit, target, signer; every bit of sealed and sig */
  const kc = Uint8Array.from(p.kcommit);
  kc[0] ^= 1;
  throwsCode(() => openAs({ sig: signAs(by.signSk, { kcommit: kc }) }), 'BAD_SIGNATURE');
  const other = new Uint8Array(16).fill(0x55);
  throwsCode(() => openAs({ sig: signAs(by.signSk, { target: other }) }), 'BAD_SIGNATURE');
  throwsCode(() => openAs({}, { me: { ...t, deviceId: other } }), 'BAD_SIGNATURE');
  throwsCode(() => openAs({ bySignPk: k.signPk }), 'BAD_SIGNATURE');
  throwsCode(() => openAs({ byDeviceId: k.rcpt[1].deviceId }), 'BAD_SIGNATURE');
  for (let i = 0; i < 80; i += 3) {
    const s = Uint8Array.from(made.sealed);
    s[i] ^= 1 << (i % 8);
    throwsCode(() => openAs({ sealed: s }), 'BAD_SIGNATURE', `sealed byte ${i}`);
  }
  for (let i = 0; i < 64; i += 3) {
    const s = Uint8Array.from(made.sig);
    s[i] ^= 1 << (i % 8);
    throwsCode(() => openAs({ sig: s }), 'BAD_SIGNATURE', `sig byte ${i}`);
  }
  const k2 = load(1); /* another message: the same re-wrap does not verify */
  throwsCode(() => rw.openRewrap(k2.env, t, { senderSignPk: k2.signPk,
    expected: [...k2.rcpt.map((r) => r.deviceId), k2.header.senderDeviceId],
    rewrap: { ...rewrap, byDeviceId: k2.rcpt[0].deviceId } }), 'BAD_SIGNATURE');
  /* 6. K sealed to another key, correctly signed */
  const toOther = sodium.crypto_box_seal(k.key, k.rcpt[1].boxPk);
  throwsCode(() => openAs({ sealed: toOther, sig: signAs(by.signSk, { sealed: toOther }) }),
    'DECRYPT_FAILED');
  /* 7. a correctly signed re-wrap of another key */
  const k2sealed = sodium.crypto_box_seal(new Uint8Array(32).fill(3), t.boxPk);
  throwsCode(() => openAs({ sealed: k2sealed, sig: signAs(by.signSk, { sealed: k2sealed }) }),
    'BAD_COMMITMENT');
  /* 8. replay as in open */
  throwsCode(() => openAs({}, { last: sseq(k) }), 'REPLAYED');
  /* K sealed by hand to the right key, correctly signed: accepted */
  const byHand = sodium.crypto_box_seal(k.key, t.boxPk);
  assert.equal(hex(openAs({ sealed: byHand, sig: signAs(by.signSk, { sealed: byHand }) }).body),
    k.inp.body);
});
