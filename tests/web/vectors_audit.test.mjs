// vectors_audit.test.mjs - the web client's audit log checks (clients/web/src/protocol/audit.js,
// PROTOCOL.md §8-§9) against protocol/vectors/audit.json, the known answers the C library is
// pinned to (ctest unit.audit_vectors): every record hash, root, inclusion and consistency proof,
// key and checkpoint recomputed, every negative case refused, and verifyLog run on an in-memory
// server serving a log built from the vectors, then tampered with, reporting what
// `sesame audit verify` reports. Run by ctest unit.web_vectors_audit; a missing vector file fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';

import {
  AuditError, PAGE, describeRecord, emptyRoot, keyId, leafHash, nodeHash, openCheckpoint,
  openNote, parseCheckpointBody, parseVkey, ready, treeRoot, verifyConsistency, verifyInclusion,
  verifyLog,
} from '../../clients/web/src/protocol/audit.js';

const V = JSON.parse(readFileSync(new URL('../../protocol/vectors/audit.json', import.meta.url)));
await ready();

const bytes = (hex) => new Uint8Array(Buffer.from(hex, 'hex'));
const hexOf = (b) => Buffer.from(b).toString('hex');
const b64url = (hex) => Buffer.from(hex, 'hex').toString('base64url');
const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest('hex');
const origin = V.keys.origin;
const vkey = V.keys.vkey;
const leaves = V.records.map((r) => bytes(r.leaf_hash));
const ckpt = (size) => V.checkpoints.find((c) => c.size === size);
const badNote = (reason, n = 0) => V.negative.checkpoints.filter((c) => c.reason === reason)[n];

/** RFC 4648 base32, lower case, no padding: how ids are written (PROTOCOL.md §4). */
function base32(hex) {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bits = [...Buffer.from(hex, 'hex')].map((b) => b.toString(2).padStart(8, '0')).join('');
  return bits.match(/.{1,5}/g).map((c) => alphabet[parseInt(c.padEnd(5, '0'), 2)]).join('');
}

/** The log key as node:crypto keys, from the vectors' seed (an Ed25519 independent of ours). */
function logKeys(seedHex = V.inputs.log_seed, pkHex = V.keys.log_pk) {
  const x = b64url(pkHex);
  return {
    priv: createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: b64url(seedHex), x },
      format: 'jwk' }),
    pub: createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' }),
  };
}

/** A checkpoint note signed with node:crypto, built from the formats of PROTOCOL.md §9. */
function signNote(size, rootB64, keys = logKeys(), idHex = V.keys.key_id) {
  const body = `${origin}\n${size}\n${rootB64}\n`;
  const sig = sign(null, Buffer.from(body), keys.priv);
  const blob = Buffer.concat([Buffer.from(idHex, 'hex'), sig]).toString('base64');
  return `${body}\n\u2014 ${origin} ${blob}\n`;
}

// --- the vectors, recomputed -------------------------------------------------------------------

test('every record: its leaf hash, and its fields decoded as sesame audit show does', async () => {
  assert.equal(V.records.length, 17);
  for (const r of V.records) {
    assert.equal(hexOf(await leafHash(r.text)), r.leaf_hash, `record ${r.seq}`);
    assert.equal(sha256(Buffer.of(0), Buffer.from(r.text)), r.leaf_hash);
    const d = await describeRecord({ seq: r.seq, rec: r.text, hash: b64url(r.leaf_hash) });
    const i = r.inputs;
    assert.equal(d.seq, r.seq);
    assert.equal(d.ts, i.ts);
    assert.equal(d.time, new Date(i.ts).toISOString());
    assert.deepEqual([d.actor.user, d.actor.device, d.actor.role],
      [i.user && base32(i.user), i.device && base32(i.device), i.role]);
    assert.deepEqual([d.action, d.object, d.outcome, d.peer],
      [i.action, i.object, i.outcome, i.peer]);
    assert.deepEqual([d.parsed, d.pruned, d.hashMatches], [true, false, true]);
  }
});

test('describeRecord: the CLI\'s actor labels, a pruned record, a changed one', async () => {
  const rec = (seq) => V.records[seq - 1];
  const label = async (seq) => (await describeRecord({ seq, rec: rec(seq).text })).actor.label;
  assert.equal(await label(1), '-');
  assert.equal(await label(4), `admin:${base32(rec(4).inputs.user).slice(0, 8)}`);
  assert.equal(await label(7), `device:${base32(rec(7).inputs.device).slice(0, 8)}`);
  const pruned = await describeRecord({ seq: 2, rec: null, hash: b64url(rec(2).leaf_hash) });
  assert.deepEqual([pruned.seq, pruned.pruned, pruned.parsed, pruned.hashMatches, pruned.action],
    [2, true, false, null, null]);
  const bad = V.negative.records[0];
  const hash = b64url(bad.stored_leaf_hash);
  const changed = await describeRecord({ seq: 9, rec: bad.text, hash });
  assert.deepEqual([changed.outcome, changed.hashMatches], ['ok', false]);
});

test('node hashes and the root of every size 0..17', async () => {
  assert.equal(hexOf(await emptyRoot()), sha256());
  assert.equal(hexOf(await nodeHash(leaves[0], leaves[1])),
    sha256(Buffer.of(1), leaves[0], leaves[1]));
  assert.equal(V.roots.length, 18);
  for (const { size, root } of V.roots) {
    assert.equal(hexOf(await treeRoot(leaves.slice(0, size))), root, `size ${size}`);
  }
});

test('every inclusion proof verifies, and none with any node changed', async () => {
  assert.equal(V.inclusion.length, 72);
  for (const p of V.inclusion) {
    const proof = p.proof.map(bytes);
    const root = bytes(V.roots[p.size].root);
    const what = `seq ${p.seq} of ${p.size}`;
    assert.equal(await verifyInclusion(leaves[p.seq - 1], p.seq - 1, p.size, proof, root), true,
      what);
    for (let k = 0; k < proof.length; k++) {
      const bent = proof.map((h, j) => (j === k ? h.map((b, i) => (i === 31 ? b ^ 0x80 : b)) : h));
      assert.equal(await verifyInclusion(leaves[p.seq - 1], p.seq - 1, p.size, bent, root), false,
        `${what}, node ${k}`);
    }
  }
});

test('every consistency proof verifies', async () => {
  assert.ok(V.consistency.length >= 45);
  for (const p of V.consistency) {
    const ok = await verifyConsistency(p.from, p.to, bytes(V.roots[p.from].root),
      bytes(V.roots[p.to].root), p.proof.map(bytes));
    assert.equal(ok, true, `${p.from} -> ${p.to}`);
  }
});

test('the log key: its key id, its vkey parsed', async () => {
  const pk = bytes(V.keys.log_pk);
  assert.equal(sha256(Buffer.from(origin), Buffer.of(0x0a, 0x01), pk).slice(0, 8), V.keys.key_id);
  assert.equal(hexOf(await keyId(origin, pk)), V.keys.key_id);
  const vk = await parseVkey(vkey);
  assert.deepEqual([vk.name, hexOf(vk.id), hexOf(vk.pk)], [origin, V.keys.key_id, V.keys.log_pk]);
  const key64 = Buffer.concat([Buffer.of(1), pk]).toString('base64');
  assert.equal(vkey, `${origin}+${V.keys.key_id}+${key64}`);
  const other = await parseVkey(V.keys.other_vkey);
  assert.equal(hexOf(other.pk), V.keys.other_pk);
  const pub = createPublicKey(logKeys().priv);
  assert.equal(pub.export({ format: 'jwk' }).x, b64url(V.keys.log_pk));
});

test('each checkpoint: its exact signed bytes, its signature, its note, opened', async () => {
  const vk = await parseVkey(vkey);
  const keys = logKeys();
  for (const c of V.checkpoints) {
    assert.equal(c.body, `${origin}\n${c.size}\n${c.root_b64}\n`);
    assert.equal(Buffer.from(c.root_b64, 'base64').toString('hex'), c.root);
    assert.equal(c.root, V.roots[c.size].root);
    assert.equal(sign(null, Buffer.from(c.body), keys.priv).toString('hex'), c.signature);
    assert.ok(verify(null, Buffer.from(c.body), keys.pub, Buffer.from(c.signature, 'hex')));
    assert.equal(signNote(c.size, c.root_b64), c.note);
    assert.equal(openNote(c.note, vk), c.body);
    const cp = openCheckpoint(c.note, vk);
    assert.deepEqual([cp.origin, cp.size, hexOf(cp.root)], [origin, c.size, c.root]);
    assert.deepEqual(parseCheckpointBody(c.body), cp);
  }
});

// --- what must be refused ----------------------------------------------------------------------

test('a changed record no longer hashes to its leaf', async () => {
  for (const r of V.negative.records) {
    const h = hexOf(await leafHash(r.text));
    assert.equal(h, r.leaf_hash);
    assert.notEqual(h, r.stored_leaf_hash);
    assert.equal(r.stored_leaf_hash, V.records[r.seq - 1].leaf_hash);
  }
});

test('every negative proof is refused', async () => {
  assert.ok(V.negative.inclusion.length > 0 && V.negative.consistency.length > 0);
  for (const p of V.negative.inclusion) {
    const ok = await verifyInclusion(bytes(p.leaf_hash), p.seq - 1, p.size, p.proof.map(bytes),
      bytes(p.root));
    assert.equal(ok, false, p.about);
  }
  for (const p of V.negative.consistency) {
    const ok = await verifyConsistency(p.from, p.to, bytes(p.root1), bytes(p.root2),
      p.proof.map(bytes));
    assert.equal(ok, false, p.about);
  }
  assert.equal(await verifyInclusion(leaves[0], 1, 1, [], leaves[0]), false);
  assert.equal(await verifyConsistency(5, 4, leaves[0], leaves[0], []), false);
});

test('every negative checkpoint and vkey is refused with its code', async () => {
  const vk = await parseVkey(vkey);
  assert.ok(V.negative.checkpoints.length >= 5);
  for (const c of V.negative.checkpoints) {
    assert.throws(() => openCheckpoint(c.note, vk), (e) => e instanceof AuditError
      && e.code === c.error, c.about);
    const opens = (() => {
      try {
        return openCheckpoint(c.note, vk, null) !== null;
      } catch {
        return false;
      }
    })();
    assert.equal(opens, c.reason === 'origin', c.about);
  }
  const other = await parseVkey(V.keys.other_vkey);
  assert.throws(() => openCheckpoint(ckpt(17).note, other), { code: 'AUTH_FAILED' });
  /* a key of small order, with its own right key id: only the point check refuses it */
  const weak = Buffer.alloc(32);
  const weakId = sha256(Buffer.from(origin), Buffer.of(0x0a, 0x01), weak).slice(0, 8);
  const weakKey = `${origin}+${weakId}+${Buffer.concat([Buffer.of(1), weak]).toString('base64')}`;
  const bad = [...V.negative.vkeys.map((v) => v.vkey), weakKey, 'no-plus-at-all',
    `${origin} x+${V.keys.key_id}+AA`];
  for (const text of bad) await assert.rejects(parseVkey(text), { code: 'BAD_FIELD' }, text);
});

// --- verifyLog against an in-memory server -----------------------------------------------------

/** The log as the server keeps it: {seq, rec, hash} entries, served by audit_leaves. */
const entries = () => V.records.map((r) => ({ seq: r.seq, rec: r.text,
  hash: b64url(r.leaf_hash) }));

/** The wire form of a text's leaf hash. */
const wireHash = async (text) => Buffer.from(await leafHash(text)).toString('base64url');

/** An error reply, as the web app's Connection rejects with it. */
function serverError(code, num, msg) {
  return Object.assign(new Error(`${code}: ${msg}`), { code, num });
}

/**
 * A fake `request` serving log (entries by position) under the checkpoint note (size: what the
 * reply says, by default the note's), with the vectors' consistency proofs. Every frame asked for
 * is kept in `.frames`.
 */
function fakeServer(log, note, { size, consistency } = {}) {
  const frames = [];
  const request = async (frame) => {
    frames.push(frame);
    assert.equal(frame.id, undefined);
    if (frame.t === 'audit_checkpoint') {
      return { t: frame.t, size: size ?? Number(note.split('\n')[1]), checkpoint: note };
    }
    if (frame.t === 'audit_leaves') {
      assert.ok(frame.count >= 1 && frame.count <= PAGE);
      const got = log.filter((e) => e.seq >= frame.from && e.seq < frame.from + frame.count);
      return { t: frame.t, size: log.length, leaves: got };
    }
    if (frame.t === 'audit_consistency') {
      const p = consistency
        ?? V.consistency.find((c) => c.from === frame.from && c.to === frame.to)?.proof;
      if (!p) throw serverError('BAD_FIELD', -4, 'no such sizes');
      return { t: frame.t, from: frame.from, to: frame.to, proof: p.map(b64url) };
    }
    throw serverError('UNKNOWN_TYPE', -3, frame.t);
  };
  return Object.assign(request, { frames });
}

const verifyFailed = (kind, detail, seq) => ({
  code: 'AUDIT_VERIFY_FAILED', kind, detail, exit: 6, ...(seq === undefined ? {} : { seq }),
});

async function expectFailure(server, failure, options, what) {
  const r = await verifyLog(server, vkey, undefined, options);
  assert.equal(r.ok, false, what);
  assert.deepEqual(r.failures, [failure], what);
  return r;
}

test('verifyLog: the whole log verifies from scratch, with the requests of the CLI', async () => {
  const server = fakeServer(entries(), ckpt(17).note);
  const progress = [];
  const r = await verifyLog(server, vkey, (p) => progress.push(p));
  assert.deepEqual(r, {
    ok: true, keyVerified: true, previousSize: 0, checked: 17, pruned: 0, failures: [],
    checkpoint: { origin, size: 17, root: ckpt(17).root_b64, note: ckpt(17).note,
      time: V.records[16].inputs.ts },
  });
  assert.deepEqual(server.frames, [{ t: 'audit_checkpoint' },
    { t: 'audit_leaves', from: 1, count: 17 }]);
  assert.deepEqual(progress, [{ checked: 17, size: 17 }]);
});

test('verifyLog: from a stored checkpoint, with the consistency proof 9 -> 17', async () => {
  const server = fakeServer(entries(), ckpt(17).note);
  const r = await verifyLog(server, vkey, undefined, { stored: ckpt(9).note });
  assert.deepEqual([r.ok, r.previousSize, r.checked], [true, 9, 17]);
  assert.deepEqual(server.frames, [{ t: 'audit_checkpoint' },
    { t: 'audit_consistency', from: 9, to: 17 }, { t: 'audit_leaves', from: 1, count: 17 }]);
  const same = fakeServer(entries(), ckpt(17).note);
  assert.equal((await verifyLog(same, vkey, undefined, { stored: ckpt(17).note })).ok, true);
  assert.deepEqual(same.frames.map((f) => f.t), ['audit_checkpoint', 'audit_leaves']);
});

test('verifyLog: a changed record, as the CLI reports it', async () => {
  const bad = V.negative.records[0];
  const log = entries();
  log[8] = { ...log[8], rec: bad.text };
  const r = await expectFailure(fakeServer(log, ckpt(17).note),
    verifyFailed('leaf_hash', 'record 9: its bytes do not match its leaf hash', 9));
  assert.deepEqual([r.checked, r.keyVerified, r.checkpoint.size], [8, true, 17]);
  /* the same change with its leaf hash recomputed: the tree no longer rebuilds */
  log[8] = { ...log[8], hash: b64url(bad.leaf_hash) };
  await expectFailure(fakeServer(log, ckpt(17).note),
    verifyFailed('stored_root', 'records 1..9 do not rebuild the root of the stored checkpoint 9'),
    { stored: ckpt(9).note });
  await expectFailure(fakeServer(log, ckpt(17).note),
    verifyFailed('signed_root', 'records 1..17 do not rebuild the signed root of checkpoint 17'));
});

test('verifyLog: a dropped record, a missing last record, two swapped records', async () => {
  const log = entries();
  const missing9 = verifyFailed('record_missing',
    'record 9 missing: the server sent record 10 after record 8', 9);
  await expectFailure(fakeServer(log.filter((e) => e.seq !== 9), ckpt(17).note),
    missing9);
  await expectFailure(fakeServer(log.slice(0, 16), ckpt(17).note),
    verifyFailed('record_missing', 'record 17 missing: the server sent no record 17', 17));
  const swapped = entries();
  [swapped[8], swapped[9]] = [{ ...log[9], seq: 9 }, { ...log[8], seq: 10 }];
  await expectFailure(fakeServer(swapped, ckpt(17).note),
    verifyFailed('seq_field', 'record 9: its seq field is 10', 9));
  const reordered = [...log.slice(0, 8), log[9], log[8], ...log.slice(10)];
  await expectFailure(fakeServer(reordered, ckpt(17).note),
    missing9);
});

test('verifyLog: record bytes read as jansson reads them, before their hash', async () => {
  const text = V.records[8].text;
  const forged = {
    duplicate: text.replace('"v":1,', '"v":1,"v":1,'),
    nul: text.replace('"audit_tail"', '"audit\\u0000tail"'),
    lone_surrogate: text.replace('"audit_tail"', '"\\ud800"'),
    huge: text.replace('"v":1,', '"v":99999999999999999999,'),
    trailing: `${text} x`,
    array: `[${text}]`,
  };
  for (const [what, rec] of Object.entries(forged)) {
    const log = entries();
    log[8] = { ...log[8], rec, hash: await wireHash(rec) };
    await expectFailure(fakeServer(log, ckpt(17).note),
      verifyFailed('record_not_object', 'record 9: its bytes are not a JSON object', 9), what);
  }
  const log = entries();
  for (const [seq, shown] of [['9.0', -1], ['"9"', -1], ['8', 8]]) {
    log[8] = { ...log[8], rec: text.replace('"seq":9,', `"seq":${seq},`) };
    await expectFailure(fakeServer(log, ckpt(17).note),
      verifyFailed('seq_field', `record 9: its seq field is ${shown}`, 9));
  }
  const spaced = text.replace('{"v":1,', '{ "v" : 1 ,');
  log[8] = { ...log[8], rec: spaced, hash: await wireHash(spaced) };
  await expectFailure(fakeServer(log, ckpt(17).note),
    verifyFailed('signed_root', 'records 1..17 do not rebuild the signed root of checkpoint 17'));
});

test('verifyLog: checkpoints by another key, of another log, malformed', async () => {
  const why = 'checkpoint signature: the latest checkpoint';
  for (const n of [0, 1, 2]) {
    const server = fakeServer(entries(), badNote('signature', n).note);
    const r = await expectFailure(server, verifyFailed('checkpoint_signature',
      `${why} is not signed by the pinned log key ${origin}`));
    assert.deepEqual([r.keyVerified, r.checkpoint, r.checked], [false, null, 0]);
    assert.deepEqual(server.frames, [{ t: 'audit_checkpoint' }]);
  }
  await expectFailure(fakeServer(entries(), badNote('origin').note),
    verifyFailed('checkpoint_origin', `${why}'s origin 'sesame/audit/AAAAAAAAAAAAAAAAAAAAAA' is `
      + `not the pinned log key's name '${origin}'`));
  for (const n of [0, 1]) {
    await expectFailure(fakeServer(entries(), badNote('malformed', n).note),
      verifyFailed('checkpoint_malformed', `${why} is not a well-formed signed note`));
  }
  await expectFailure(fakeServer(entries(), ckpt(17).note, { size: 16 }),
    verifyFailed('checkpoint_size',
      'the checkpoint reply says size 16 but the signed note says 17'));
});

test('verifyLog: a log that shrank or forked since the stored checkpoint', async () => {
  await expectFailure(fakeServer(entries().slice(0, 9), ckpt(9).note),
    verifyFailed('log_shrank',
      'the log shrank: the latest checkpoint has 9 records, the stored checkpoint 17'),
    { stored: ckpt(17).note });
  const forked = `${origin}\n17\n${Buffer.from(V.roots[16].root, 'hex').toString('base64')}\n\n`;
  await expectFailure(fakeServer(entries(), ckpt(17).note),
    verifyFailed('inconsistent', 'the log is not consistent with the stored checkpoint: both '
      + 'have 17 records but different roots'), { stored: forked });
  const bent = V.negative.consistency.find((c) => c.from === 9 && c.to === 17).proof;
  await expectFailure(fakeServer(entries(), ckpt(17).note, { consistency: bent }),
    verifyFailed('inconsistent', 'the log is not consistent with the stored checkpoint: the '
      + 'consistency proof from 9 to 17 records does not verify'), { stored: ckpt(9).note });
});

test('verifyLog: pruned records pass only when an audit.prune record announces them', async () => {
  const log = entries().map((e) => (e.seq <= 3 ? { ...e, rec: null } : e));
  const r = await verifyLog(fakeServer(log, ckpt(17).note), vkey);
  assert.deepEqual([r.ok, r.pruned, r.checked], [true, 3, 17]);
  log[4] = { ...log[4], rec: null };
  await expectFailure(fakeServer(log, ckpt(17).note), verifyFailed('prune_unannounced',
    'record 5: its bytes were removed but no audit.prune record announces it', 5));
  const unannounced = entries().map((e) => (e.seq === 15 ? { ...e, rec: null } : e));
  await expectFailure(fakeServer(unannounced, ckpt(17).note), verifyFailed('prune_unannounced',
    'record 15: its bytes were removed but no audit.prune record announces it', 15));
});

test('verifyLog: a refused request, a wrong key, a stored checkpoint of another log', async () => {
  const denied = async () => {
    throw serverError('DENIED', -18, 'the role may not do this');
  };
  assert.deepEqual((await verifyLog(denied, vkey)).failures, [{ code: 'DENIED', kind: 'server',
    detail: 'DENIED: the role may not do this', exit: 1 }]);
  const server = fakeServer(entries(), ckpt(17).note);
  const r = await verifyLog(server, 'not a key');
  assert.deepEqual([r.failures[0].code, r.failures[0].exit, server.frames.length], ['USAGE', 2, 0]);
  const stored = ckpt(17).note.replace(origin, 'sesame/audit/elsewhere');
  const local = await verifyLog(server, vkey, undefined, { stored });
  assert.deepEqual([local.failures[0].code, local.failures[0].kind, server.frames.length],
    ['LOCAL', 'stored_checkpoint', 0]);
});

test('verifyLog: a log of more than one page is read 1000 records at a time', async () => {
  const n = PAGE + 100;
  const base = V.records[4].text;
  const log = [];
  for (let seq = 1; seq <= n; seq++) {
    const rec = base.replace('"seq":5,', `"seq":${seq},`);
    log.push({ seq, rec, hash: await wireHash(rec) });
  }
  const root = await treeRoot(log.map((e) => new Uint8Array(Buffer.from(e.hash, 'base64url'))));
  const server = fakeServer(log, signNote(n, Buffer.from(root).toString('base64')));
  const progress = [];
  const r = await verifyLog(server, vkey, (p) => progress.push(p.checked));
  assert.deepEqual([r.ok, r.checked, r.failures], [true, n, []]);
  assert.deepEqual(server.frames.slice(1), [{ t: 'audit_leaves', from: 1, count: PAGE },
    { t: 'audit_leaves', from: PAGE + 1, count: 100 }]);
  assert.deepEqual(progress, [PAGE, n]);
});
