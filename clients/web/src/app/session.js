// session.js - a logged-in device: its profile and keys, one Connection (conn.js) that logs in
// with them (PROTOCOL.md §4, §5, §7), the server's pushes dispatched by frame type, and the
// one-shot enrolment of a new browser device from a code. Screens talk to the server only
// through Session.request and Session.on.

import { Connection } from './conn.js';
import { authFrame, enrollFrame, newDeviceKeys } from '../protocol/transcript.js';
import { fromB64url, toB64url } from '../protocol/encode.js';

export const ENROL_TIMEOUT_MS = 15_000;
const TEXT = new TextEncoder();
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The page's WebSocket URL: the same origin it was served from. */
export function originUrl(loc = globalThis.location) {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/`;
}

/** Device keys as the bytes keystore.js seals (and back). */
export function keysToBytes(k) {
  return TEXT.encode(
    JSON.stringify({
      sign_pk: toB64url(k.signPk),
      sign_sk: toB64url(k.signSk),
      box_pk: toB64url(k.boxPk),
      box_sk: toB64url(k.boxSk),
    }),
  );
}

/** @see keysToBytes */
export function keysFromBytes(bytes) {
  const o = JSON.parse(UTF8.decode(bytes));
  return {
    signPk: fromB64url(o.sign_pk),
    signSk: fromB64url(o.sign_sk),
    boxPk: fromB64url(o.box_pk),
    boxSk: fromB64url(o.box_sk),
  };
}

/**
 * Enrols this browser with an enrolment code: new keys, one connection, `enroll`, and the
 * server's `enrolled` reply (§7). Rejects with {code} (CODE_USED, CODE_EXPIRED, ...) on refusal.
 * @returns {Promise<{profile: object, keys: object}>}
 */
export function enrolDevice({ url, code, deviceName, WebSocketImpl = globalThis.WebSocket }) {
  const keys = newDeviceKeys();
  return new Promise((resolve, reject) => {
    const ws = new WebSocketImpl(url, 'sesame.1');
    let done = false;
    const finish = (fn, v) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      fn(v);
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    };
    const timer = setTimeout(() => finish(reject, { code: 'TIMEOUT' }), ENROL_TIMEOUT_MS);
    let greeted = false;
    ws.onmessage = (ev) => {
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return finish(reject, { code: 'BAD_FRAME' });
      }
      if (!greeted) {
        greeted = true;
        if (f.t !== 'hello') return finish(reject, { code: 'BAD_FRAME' });
        try {
          ws.send(JSON.stringify({ ...enrollFrame(f, code, keys, Date.now(), deviceName), id: 1 }));
        } catch (e) {
          finish(reject, { code: e.code ?? 'BAD_CODE' });
        }
        return;
      }
      if (f.t === 'error') return finish(reject, { code: f.code, msg: f.msg });
      if (f.t !== 'enrolled') return finish(reject, { code: 'BAD_FRAME' });
      const profile = {
        user: f.user,
        device: f.device,
        role: f.role,
        name: f.name,
        site: f.site ?? null,
        deviceName: deviceName || null,
      };
      finish(resolve, { profile, keys });
    };
    ws.onerror = () => finish(reject, { code: 'UNREACHABLE' });
    ws.onclose = () => finish(reject, { code: 'UNREACHABLE' });
  });
}

/** A logged-in device and its live connection. */
export class Session {
  /**
   * @param {{profile: object, keys: object, url: string, WebSocketImpl?: typeof WebSocket}} o
   */
  constructor(o) {
    this.profile = o.profile;
    this.keys = o.keys;
    this.listeners = new Map(); // frame type ('*' for all) -> Set<fn>
    this.stateListeners = new Set();
    this.connState = { state: 'offline', pending: 0 };
    this.conn = new Connection({
      url: o.url,
      WebSocketImpl: o.WebSocketImpl,
      // id 0: the Connection numbers its requests from 1
      login: async (hello) => ({
        ...authFrame(hello, { deviceId: this.profile.device, signSk: this.keys.signSk }, Date.now()),
        id: 0,
      }),
      onPush: (f) => this.dispatch(f),
      onState: (s) => {
        this.connState = s;
        for (const fn of this.stateListeners) fn(s);
      },
      onLogin: (f) => this.dispatch({ ...f, t: f.t === 'error' ? 'login_error' : 'login' }),
    });
  }

  start() {
    this.conn.start();
  }

  /** Closes the connection; the device (its keys in IndexedDB) stays. */
  stop() {
    this.conn.stop();
  }

  /** Sends a request; resolves with the reply, rejects with a ServerError ({code}). */
  request(frame) {
    return this.conn.request(frame);
  }

  /** Calls fn for every push of type `t` ('*': every push); returns the unsubscribe function. */
  on(t, fn) {
    if (!this.listeners.has(t)) this.listeners.set(t, new Set());
    this.listeners.get(t).add(fn);
    return () => this.listeners.get(t).delete(fn);
  }

  /** Calls fn with every connection state ({state, pending, retryAt}); returns unsubscribe. */
  onState(fn) {
    this.stateListeners.add(fn);
    fn(this.connState);
    return () => this.stateListeners.delete(fn);
  }

  dispatch(f) {
    for (const key of [f.t, '*']) for (const fn of this.listeners.get(key) ?? []) fn(f);
  }
}
