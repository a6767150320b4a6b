// app.test.mjs - node tests of the web client's pure modules (clients/web/src/app): the
// reconnection back-off, the outbox's byte-identical resends, the two languages' labels and
// the choice between them, and reading the enrolment code from a link's fragment.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { backoffDelay, BASE_MS, MAX_MS } from '../../clients/web/src/app/backoff.js';
import { Outbox } from '../../clients/web/src/app/outbox.js';
import { LANGS, pickLang, setLang, t } from '../../clients/web/src/app/i18n.js';
import { codeFromFragment } from '../../clients/web/src/app/keystore.js';

test('back-off grows to its cap and never goes below half the base', () => {
  assert.equal(backoffDelay(0, () => 0), BASE_MS / 2);
  assert.equal(backoffDelay(0, () => 0.999999), BASE_MS);
  assert.equal(backoffDelay(3, () => 0.999999), BASE_MS * 8);
  assert.equal(backoffDelay(30, () => 0.999999), MAX_MS);
  assert.equal(backoffDelay(-4, () => 0), BASE_MS / 2);
  for (let a = 0; a < 40; a++) {
    const d = backoffDelay(a);
    assert.ok(d >= BASE_MS / 2 && d <= MAX_MS, `attempt ${a}: ${d}`);
  }
});

test('the outbox resends exactly the bytes it first sent, until settled', () => {
  const box = new Outbox();
  const first = box.add({ t: 'send', id: 7, thread: 'x', env: 'AAAA' });
  box.add({ t: 'ping', id: 8 });
  assert.deepEqual(box.resend(), [first, '{"t":"ping","id":8}']);
  assert.equal(box.settle(7), true);
  assert.equal(box.settle(7), false);
  assert.deepEqual(box.resend(), ['{"t":"ping","id":8}']);
  assert.throws(() => box.add({ t: 'ping', id: 8 }), /already pending/);
  assert.throws(() => box.add({ t: 'ping' }), TypeError);
  assert.equal(box.size, 1);
});

test('French and English have the same labels, none empty, with the same parameters', () => {
  const keys = (o) => Object.keys(o).sort();
  assert.deepEqual(keys(LANGS.fr), keys(LANGS.en));
  const params = (s) => (s.match(/\{\w+\}/g) || []).sort().join(',');
  for (const k of Object.keys(LANGS.en)) {
    assert.ok(LANGS.en[k].length > 0 && LANGS.fr[k].length > 0, k);
    assert.equal(params(LANGS.fr[k]), params(LANGS.en[k]), k);
  }
});

test('the language: remembered, else the browser’s, else English', () => {
  assert.equal(pickLang(['fr-FR', 'en']), 'fr');
  assert.equal(pickLang(['de-DE', 'en-US']), 'en');
  assert.equal(pickLang(['de-DE']), 'en');
  assert.equal(pickLang(['en-GB'], 'fr'), 'fr');
  assert.equal(pickLang([], 'xx'), 'en');
  const mem = new Map();
  const storage = { setItem: (k, v) => mem.set(k, v), getItem: (k) => mem.get(k) ?? null };
  setLang('fr', storage);
  assert.equal(mem.get('sesame.lang'), 'fr');
  assert.equal(t('conn.offline', { seconds: 4 }), 'Hors ligne : nouvel essai dans 4 s');
  assert.equal(t('no.such.key'), 'no.such.key');
  setLang('en', storage);
  assert.equal(t('conn.pending', { count: 2 }), '2 waiting to be sent');
  assert.throws(() => setLang('de', storage), RangeError);
});

test('the enrolment code comes from the fragment, well-formed or not at all', () => {
  const code = 'ABCDEFGH-ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  assert.equal(codeFromFragment(`#code=${code}`), code);
  assert.equal(codeFromFragment(`#code=${code.toLowerCase()}`), code);
  assert.equal(codeFromFragment('#code=ABCDEFGHABCDEFGHIJKLMNOPQRSTUVWXYZ'), 'ABCDEFGHABCDEFGHIJKLMNOPQRSTUVWXYZ');
  assert.equal(codeFromFragment('#code=ABC'), null);
  assert.equal(codeFromFragment('#code=ABCDEFGH-ABCDEFGHIJKLMNOPQRSTUVWXY1'), null);
  assert.equal(codeFromFragment(''), null);
});
