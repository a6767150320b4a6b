// conn.js - the page's one connection to sesamed: a WebSocket (subprotocol sesame.1) on the
// page's own origin, logged in with this device's keys, that comes back by itself. After a drop
// it reconnects with back-off, logs in again and resends every request still waiting for its
// reply with the same bytes (outbox.js); the state it reports (connecting, online, offline with
// the next attempt's time, revoked) is shown on every screen. The login frame is the caller's:
// this module knows frames, not keys.

import { backoffDelay } from './backoff.js';
import { Outbox } from './outbox.js';

export const SUBPROTOCOL = 'sesame.1';
const CLOSE_REVOKED = 4001;

/** An error reply from the server: `code` is its name ("DENIED"), `num` its number. */
export class ServerError extends Error {
  constructor(frame) {
    super(`${frame.code}: ${frame.msg ?? ''}`);
    this.code = frame.code;
    this.num = frame.num;
  }
}

export class Connection {
  /**
   * @param {object} o
   * @param {string} o.url wss://host:port/ (the page's origin)
   * @param {(hello: object) => Promise<object>} o.login the pre-login frame for this hello
   *   (`auth`, or `enroll` for a one-shot enrolment connection)
   * @param {(push: object) => void} [o.onPush] server pushes (no id)
   * @param {(state: {state: string, retryAt?: number, pending: number}) => void} [o.onState]
   * @param {(auth: object) => void} [o.onLogin] the auth_ok (or enrolled) reply
   * @param {typeof WebSocket} [o.WebSocketImpl]
   * @param {() => number} [o.now]
   */
  constructor(o) {
    this.o = o;
    this.WS = o.WebSocketImpl ?? globalThis.WebSocket;
    this.now = o.now ?? Date.now;
    this.outbox = new Outbox();
    this.waiting = new Map(); // id -> {resolve, reject}
    this.nextId = 1;
    this.attempt = 0;
    this.state = 'offline';
    this.ws = null;
    this.timer = null;
    this.stopped = false;
  }

  /** Connects (and keeps reconnecting until stop()). */
  start() {
    this.stopped = false;
    this.open();
  }

  /** Closes for good: no reconnection; waiting requests stay unanswered. */
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
  }

  /**
   * Sends a request (its id is set here) and resolves with the reply, or rejects with a
   * ServerError. A request made while offline, or lost with the connection, is sent (again,
   * byte for byte) once logged in.
   * @param {object} frame {t, ...}
   */
  request(frame) {
    const full = { ...frame, id: this.nextId++ };
    const text = this.outbox.add(full);
    const done = new Promise((resolve, reject) => this.waiting.set(full.id, { resolve, reject }));
    if (this.state === 'online') this.ws.send(text);
    this.report();
    return done;
  }

  setState(state, extra = {}) {
    this.state = state;
    this.report(extra);
  }

  report(extra = {}) {
    this.o.onState?.({ state: this.state, pending: this.outbox.size, ...extra });
  }

  open() {
    this.setState('connecting');
    const ws = new this.WS(this.o.url, SUBPROTOCOL);
    this.ws = ws;
    let greeted = false;
    ws.onmessage = async (ev) => {
      let frame;
      try {
        frame = JSON.parse(ev.data);
      } catch {
        ws.close(1002);
        return;
      }
      if (!greeted) {
        greeted = true;
        if (frame.t !== 'hello') return ws.close(1002);
        try {
          ws.send(JSON.stringify(await this.o.login(frame)));
        } catch {
          ws.close(1000);
        }
        return;
      }
      this.onFrame(ws, frame);
    };
    ws.onclose = (ev) => this.onClose(ev);
  }

  onFrame(ws, frame) {
    if (this.state === 'connecting') {
      if (frame.t === 'error') {
        this.o.onLogin?.(frame);
        /* a revoked or unknown device will not get in by trying again */
        if (frame.code === 'REVOKED' || frame.code === 'AUTH_FAILED') {
          this.stopped = true;
          this.setState(frame.code === 'REVOKED' ? 'revoked' : 'refused');
        }
        return;
      }
      this.attempt = 0;
      this.setState('online');
      this.o.onLogin?.(frame);
      for (const text of this.outbox.resend()) ws.send(text);
      return;
    }
    if (frame.id === undefined || frame.id === null) {
      this.o.onPush?.(frame);
      return;
    }
    const w = this.waiting.get(frame.id);
    if (!w) return;
    this.waiting.delete(frame.id);
    this.outbox.settle(frame.id);
    if (frame.t === 'error') w.reject(new ServerError(frame));
    else w.resolve(frame);
    this.report();
  }

  onClose(ev) {
    this.ws = null;
    if (this.stopped) {
      if (this.state !== 'revoked' && this.state !== 'refused') this.setState('offline');
      return;
    }
    if (ev.code === CLOSE_REVOKED) return this.setState('revoked');
    const delay = backoffDelay(this.attempt++);
    this.setState('offline', { retryAt: this.now() + delay });
    this.timer = setTimeout(() => this.open(), delay);
  }
}
