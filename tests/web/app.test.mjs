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

import { mock } from 'node:test';
import { Connection, ServerError } from '../../clients/web/src/app/conn.js';

/** A WebSocket stand-in: records what the page sends; the test plays the server. */
class FakeWS {
  static all = [];
  constructor(url, proto) {
    this.url = url;
    this.proto = proto;
    this.sent = [];
    FakeWS.all.push(this);
  }
  send(text) {
    this.sent.push(text);
  }
  close(code = 1000) {
    this.onclose?.({ code });
  }
  serve(frame) {
    return this.onmessage({ data: JSON.stringify(frame) });
  }
}

test('the connection logs in, resends what was pending after a drop, and stops when revoked', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  FakeWS.all = [];
  const states = [];
  const c = new Connection({
    url: 'wss://example.test/',
    WebSocketImpl: FakeWS,
    login: async (hello) => ({ t: 'auth', id: 0, snonce: hello.nonce }),
    onState: (s) => states.push(s.state),
    now: () => 1000,
  });
  c.start();
  const ws1 = FakeWS.all[0];
  assert.equal(ws1.proto, 'sesame.1');
  await ws1.serve({ t: 'hello', v: 1, nonce: 'N1' });
  assert.deepEqual(JSON.parse(ws1.sent[0]), { t: 'auth', id: 0, snonce: 'N1' });
  await ws1.serve({ t: 'auth_ok', id: 0 });
  assert.equal(c.state, 'online');
  const ping = c.request({ t: 'ping' });
  assert.equal(ws1.sent[1], '{"t":"ping","id":1}');
  const send = c.request({ t: 'send', env: 'E' });
  await ws1.serve({ t: 'pong', id: 1, time: 5 });
  assert.equal((await ping).time, 5);
  ws1.close(1006); /* lost before the send's reply */
  assert.equal(c.state, 'offline');
  mock.timers.tick(30000);
  const ws2 = FakeWS.all[1];
  assert.ok(ws2, 'reconnected');
  await ws2.serve({ t: 'hello', v: 1, nonce: 'N2' });
  await ws2.serve({ t: 'auth_ok', id: 0 });
  assert.equal(ws2.sent[1], ws1.sent[2]); /* the same bytes */
  await ws2.serve({ t: 'error', id: 2, code: 'DENIED', num: -5, msg: 'no' });
  await assert.rejects(send, (e) => e instanceof ServerError && e.code === 'DENIED');
  ws2.close(4001);
  assert.equal(c.state, 'revoked');
  mock.timers.tick(60000);
  assert.equal(FakeWS.all.length, 2); /* no reconnection once revoked */
  mock.timers.reset();
});

test('a login refused as REVOKED is final', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  FakeWS.all = [];
  const c = new Connection({
    url: 'wss://example.test/',
    WebSocketImpl: FakeWS,
    login: async () => ({ t: 'auth', id: 0 }),
  });
  c.start();
  await FakeWS.all[0].serve({ t: 'hello', v: 1 });
  await FakeWS.all[0].serve({ t: 'error', id: 0, code: 'REVOKED', num: -9 });
  FakeWS.all[0].close(1008);
  assert.equal(c.state, 'revoked');
  mock.timers.tick(60000);
  assert.equal(FakeWS.all.length, 1);
  mock.timers.reset();
});
