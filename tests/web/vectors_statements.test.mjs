// vectors_statements.test.mjs - the web client's stage-2 statements
// (clients/web/src/protocol/statement.js, PROTOCOL.md §17) against
// protocol/vectors/statements.json, which gen_statement_vectors writes from the C library: every
// key rebuilt from its seed; every valid statement encoded, signed (Ed25519 is deterministic),
// parsed back to its fields, verified and, for a roster, hashed byte for byte; every refused
// statement refused by parse and verify with the C code; every roster chain decided with the C
// code at the same index; and the mailbox validity window. A missing vectors file or
// clients/web/node_modules fails the run.
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
const st = await lib('statement');
const { SesError, errNum } = await lib('errors');
const { default: sodium } = await lib('sodium');

const FILE = here('../../protocol/vectors/statements.json');
assert.ok(existsSync(FILE), 'protocol/vectors/statements.json is missing');
const V = JSON.parse(readFileSync(FILE, 'utf8'));

const hex = (b) => enc.toHex(b);
const unhex = (s) => enc.fromHex(s);

/** Expects fn to throw a SesError with code; returns the error. */
function throwsCode(fn, code, what) {
  let err;
  assert.throws(fn, (e) => {
    err = e;
    return e instanceof SesError && e.code === code;
  }, what ?? code);
  return err;
}

/** The code fn ends with: 'OK' or a SesError's. */
function codeOf(fn) {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (e instanceof SesError) return e.code;
    throw e;
  }
}

/** The JavaScript fields of a vector's fields (hex, decimal strings) for kind. */
function fieldsOf(kind, f) {
  switch (kind) {
    case 'identity':
      return { userId: unhex(f.user_id), ikPk: unhex(f.ik_pk), serial: f.serial,
        createdMs: BigInt(f.created_ms) };
    case 'device':
      return { userId: unhex(f.user_id), deviceId: unhex(f.device_id), signPk: unhex(f.sign_pk),
        boxPk: unhex(f.box_pk), createdMs: BigInt(f.created_ms) };
    case 'vouch':
      return { voucherUserId: unhex(f.voucher_user_id), subjectUserId: unhex(f.subject_user_id),
        subjectIkPk: unhex(f.subject_ik_pk), subjectSerial: f.subject_serial,
        createdMs: BigInt(f.created_ms) };
    case 'roster':
      return { threadId: unhex(f.thread_id), version: f.version, prevHash: unhex(f.prev_hash),
        visibility: f.visibility,
        members: f.members.map((m) => ({ userId: unhex(m.user_id), role: m.role })),
        createdMs: BigInt(f.created_ms), signerUserId: unhex(f.signer_user_id) };
    default:
      return { deviceId: unhex(f.device_id), boxPk: unhex(f.box_pk), serial: f.serial,
        notBeforeMs: BigInt(f.not_before_ms), notAfterMs: BigInt(f.not_after_ms) };
  }
}

test('the file has every section, and the sizes are the module\'s', () => {
  assert.equal(V.format, 'sesame statement vectors v1');
  for (const s of ['users', 'devices', 'valid', 'refused', 'chains', 'mailbox_valid_at']) {
    assert.ok(Array.isArray(V[s]) && V[s].length > 0, `no ${s}`);
  }
  assert.deepEqual(V.sizes, {
    identity: st.IDENTITY_BYTES, device: st.DEVICE_BYTES, vouch: st.VOUCH_BYTES,
    roster_fixed: st.ROSTER_FIXED, roster_member: st.ROSTER_MEMBER_BYTES,
    mailbox: st.MAILBOX_BYTES,
  });
  for (const kind of ['identity', 'device', 'vouch', 'roster', 'mailbox']) {
    assert.ok(V.valid.some((v) => v.kind === kind), `no valid ${kind}`);
    assert.ok(V.refused.some((v) => v.kind === kind), `no refused ${kind}`);
  }
  assert.equal(errNum('ROSTER_BROKEN'), -48);
});

test('every key is its seed\'s', () => {
  for (const u of V.users) {
    const kp = sodium.crypto_sign_seed_keypair(unhex(u.ik_seed));
    assert.equal(hex(kp.publicKey), u.ik_pk, u.name);
  }
  for (const d of V.devices) {
    assert.equal(hex(sodium.crypto_sign_seed_keypair(unhex(d.sign_seed)).publicKey), d.sign_pk);
    assert.equal(hex(sodium.crypto_box_seed_keypair(unhex(d.box_seed)).publicKey), d.box_pk);
  }
});

test('valid statements: encode, sign, parse, verify and the roster hash, byte for byte', () => {
  for (const v of V.valid) {
    const f = fieldsOf(v.kind, v.fields);
    const b = unhex(v.bytes);
    assert.equal(b.length, v.len, v.name);
    assert.equal(hex(st.encode(v.kind, f)), v.bytes.slice(0, 2 * (v.len - 64)), v.name);
    const kp = sodium.crypto_sign_seed_keypair(unhex(v.signer_seed));
    assert.equal(hex(kp.publicKey), v.signer_pk, v.name);
    assert.equal(hex(st.sign(v.kind, f, kp.privateKey)), v.bytes, `${v.name}: sign`);
    const back = st.parse(v.kind, b);
    assert.deepEqual({ ...back, sig: undefined }, { ...f, sig: undefined }, `${v.name}: parse`);
    assert.equal(hex(back.sig), v.bytes.slice(-128));
    st.verify(v.kind, b, unhex(v.signer_pk));
    const other = V.users.find((u) => u.ik_pk !== v.signer_pk);
    throwsCode(() => st.verify(v.kind, b, unhex(other.ik_pk)), 'BAD_SIGNATURE', v.name);
    if (v.kind === 'roster') {
      assert.equal(hex(st.rosterHash(b)), v.roster_hash, `${v.name}: hash`);
      assert.equal(v.len, st.rosterBytes(v.fields.members.length));
    } else {
      assert.equal(v.roster_hash, undefined);
    }
    /* another kind's parser refuses it */
    const wrong = v.kind === 'identity' ? 'device' : 'identity';
    throwsCode(() => st.parse(wrong, b), 'BAD_FIELD', `${v.name} as ${wrong}`);
  }
});

test('refused statements: the C codes of parse and verify', () => {
  for (const v of V.refused) {
    const b = unhex(v.bytes);
    assert.equal(b.length, v.len, v.name);
    assert.equal(codeOf(() => st.parse(v.kind, b)), v.parse, `${v.name}: parse`);
    assert.equal(codeOf(() => st.verify(v.kind, b, unhex(v.pk))), v.verify, `${v.name}: verify`);
    if (v.kind === 'roster' && v.parse !== 'OK') {
      throwsCode(() => st.rosterHash(b), 'BAD_FIELD', `${v.name}: hash`);
    }
  }
});

test('the encoder refuses what the parser refuses', () => {
  const r = V.valid.find((v) => v.name === 'roster-v2');
  const base = fieldsOf('roster', r.fields);
  const bad = [
    { ...base, visibility: 0 },
    { ...base, visibility: 3 },
    { ...base, version: 0 },
    { ...base, version: 1 },
    { ...base, prevHash: new Uint8Array(32) },
    { ...base, members: [] },
    { ...base, members: [base.members[1], base.members[0]] },
    { ...base, members: [base.members[0], base.members[0]] },
    { ...base, members: [{ ...base.members[0], role: 1 }] },
    { ...base, members: [{ ...base.members[0], role: 5 }] },
    { ...base, members: Array.from({ length: 17 }, (_, i) => ({
      userId: Uint8Array.from({ length: 16 }, (_, j) => (j === 0 ? i + 1 : 0)), role: 2 })) },
  ];
  for (const f of bad) throwsCode(() => st.encode('roster', f), 'BAD_FIELD');
  const m = fieldsOf('mailbox', V.valid.find((v) => v.kind === 'mailbox').fields);
  throwsCode(() => st.encode('mailbox', { ...m, serial: 0 }), 'BAD_FIELD');
  throwsCode(() => st.encode('mailbox', { ...m, notAfterMs: m.notBeforeMs }), 'BAD_FIELD');
  const id = V.valid.find((v) => v.kind === 'identity');
  const idf = fieldsOf('identity', id.fields);
  throwsCode(() => st.encode('identity', { ...idf, serial: 0 }), 'BAD_FIELD');
  /* an identity statement is signed by its own key only */
  const other = V.users.find((u) => u.ik_pk !== id.signer_pk);
  const sk = sodium.crypto_sign_seed_keypair(unhex(other.ik_seed)).privateKey;
  throwsCode(() => st.sign('identity', idf, sk), 'INVALID_ARG');
  throwsCode(() => st.encode('nothing', idf), 'INVALID_ARG');
  throwsCode(() => st.parse('identity', 'text'), 'INVALID_ARG');
});

test('roster chains: the C decision at the same index', () => {
  for (const c of V.chains) {
    const table = new Map(c.trusted.map((t) => [t.user_id, unhex(t.ik_pk)]));
    const trustedIk = (id) => table.get(hex(id)) ?? null;
    const stmts = c.statements.map(unhex);
    if (c.code === 'OK') {
      const head = st.rosterChainCheck(stmts, trustedIk);
      assert.equal(head.version, c.head_version, c.name);
    } else {
      const e = throwsCode(() => st.rosterChainCheck(stmts, trustedIk), c.code, c.name);
      assert.equal(e.index, c.index, `${c.name}: index`);
    }
  }
  throwsCode(() => st.rosterChainCheck([], () => null), 'INVALID_ARG');
});

test('mailbox keys: valid inside [not_before, not_after] only', () => {
  for (const t of V.mailbox_valid_at) {
    const v = V.valid.find((x) => x.name === t.statement);
    const m = st.parse('mailbox', unhex(v.bytes));
    assert.equal(st.mailboxValidAt(m, t.now_ms), t.valid, `${t.statement} at ${t.now_ms}`);
  }
  assert.equal(st.mailboxValidAt(null, 0), false);
});
