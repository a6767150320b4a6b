// outbox.js - requests that must survive a lost connection: each keeps the exact bytes it was
// first sent with (a resent message is the same envelope and msg_id, as the CLI does, so the
// server answers duplicate:true instead of storing it twice). Pure: the connection feeds it.

/** Requests waiting for their reply, in the order they were queued. */
export class Outbox {
  constructor() {
    /** @type {Map<number, {id: number, text: string, tries: number}>} */
    this.pending = new Map();
  }

  /**
   * Queues a request frame. `frame` must already carry its `id` (unique per connection life of
   * the page; ids are never reused).
   * @param {{id: number}} frame
   * @returns {string} the exact text to send now and on every resend
   */
  add(frame) {
    if (!Number.isSafeInteger(frame.id) || frame.id < 0) throw new TypeError('frame.id');
    if (this.pending.has(frame.id)) throw new Error(`request ${frame.id} is already pending`);
    const text = JSON.stringify(frame);
    this.pending.set(frame.id, { id: frame.id, text, tries: 1 });
    return text;
  }

  /** The reply (or error) with this id arrived: the request is done. Returns whether it was ours. */
  settle(id) {
    return this.pending.delete(id);
  }

  /**
   * After a reconnection and login: the texts to send again, oldest first, byte for byte.
   * @returns {string[]}
   */
  resend() {
    const out = [];
    for (const p of this.pending.values()) {
      p.tries += 1;
      out.push(p.text);
    }
    return out;
  }

  /** How many requests wait for a reply. */
  get size() {
    return this.pending.size;
  }
}
