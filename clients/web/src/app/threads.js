// threads.js - the page's view of the caseload threads over protocol/e2e.js: one E2eSession per
// logged-in device, its local state (sender_seq, replay marks, pinned keys: no secret, no
// clinical content) sealed in IndexedDB with the device's key; each thread's roster, title and
// opened messages kept in memory for the page's life and fetched incrementally (only seqs above
// the last one seen). Decrypted content never leaves the page: not to the server, not to disk.
import { E2eSession, newState } from '../protocol/e2e.js';
import { CONTENT } from '../protocol/envelope_core.js';
import { parseRecord, encodeRecord } from '../protocol/scales.js';
import { encodeAlertNote } from '../protocol/alerts.js';
import { getLocal, openLocal, putLocal, sealLocal } from './keystore.js';

const STATE_KEY = 'e2e-state';
const TEXT = new TextEncoder();
const UTF8 = new TextDecoder();
const stores = new WeakMap(); // Session -> ThreadStore

class ThreadStore {
  constructor(session) {
    this.session = session;
    this.threads = new Map(); // id -> {roster, messages: [], upto, title}
    this.listeners = new Set();
    this.ready = this.load();
    // a new message names its seq: no need to ask for the roster again (roster pushes do)
    session.on('msg', (p) => this.refresh(p.thread, false, false, p.seq));
    session.on('roster', (p) => this.refresh(p.thread, true));
    session.on('rewrap_done', (p) => this.refresh(p.thread, true, true));
    session.on('receipt', (p) => this.emit(p.thread));
    // after a reconnection: what was sent while this browser was offline came with no push
    session.on('login', () => {
      for (const id of this.threads.keys()) this.refresh(id, true);
    });
  }

  async load() {
    const { profile, keys } = this.session;
    let state = newState(profile.device);
    const box = await getLocal(`${STATE_KEY}:${profile.device}`);
    if (box) {
      try {
        state = JSON.parse(UTF8.decode(await openLocal(profile, STATE_KEY, box)));
      } catch {
        /* not ours or damaged: start afresh (the server refuses a reused sender_seq) */
      }
    }
    this.e2e = new E2eSession({
      request: (f) => this.session.request(f),
      device: { userId: profile.user, deviceId: profile.device, ...keys },
      state,
      save: (s) => this.save(s),
      onSecurityEvent: (ev) => this.session.dispatch({ t: 'security_event', ...ev }),
    });
  }

  async save(state) {
    const { profile } = this.session;
    const box = await sealLocal(profile, STATE_KEY, TEXT.encode(JSON.stringify(state)));
    await putLocal(`${STATE_KEY}:${profile.device}`, box);
  }

  /** Calls fn(threadId) when a thread changed; returns unsubscribe. */
  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(thread) {
    for (const fn of this.listeners) fn(thread);
  }

  entry(thread) {
    if (!this.threads.has(thread)) {
      this.threads.set(thread, {
        roster: null,
        messages: [],
        upto: 0,
        title: null,
        queue: Promise.resolve(),
      });
    }
    return this.threads.get(thread);
  }

  /** The thread's roster, messages and title, fetching what is new (one fetch at a time). */
  async get(thread, { roster: newRoster = false, reread = false, seq = 0 } = {}) {
    await this.ready;
    const e = this.entry(thread);
    // one update of a thread at a time, in order: a second caller waits for the first
    const step = e.queue.then(async () => {
      if (!e.roster || newRoster) e.roster = await this.e2e.fetchRoster(thread);
      if (seq > e.roster.lastSeq) e.roster.lastSeq = seq;
      if (reread) {
        e.messages = [];
        e.upto = 0;
      }
      if (e.roster.lastSeq > e.upto) {
        const upto = e.roster.lastSeq;
        const got = await this.e2e.fetchMessages(e.roster, { after: e.upto, upto });
        e.messages.push(...got.map(decorate));
        e.upto = upto;
      }
      const t = [...e.messages].reverse().find((m) => m.contentType === CONTENT.THREAD_TITLE);
      e.title = t?.text ?? e.title;
    });
    e.queue = step.catch(() => {});
    await step;
    return e;
  }

  /** After a push: the roster again when asked (else up to seq), then the new messages. */
  async refresh(thread, roster = true, reread = false, seq = 0) {
    if (!thread) return;
    try {
      await this.get(thread, { roster, reread, seq: Number.isSafeInteger(seq) ? seq : 0 });
    } catch {
      /* shown the next time the thread is opened */
    }
    this.emit(thread);
  }

  async send(thread, contentType, body) {
    const e = await this.get(thread);
    const { sent, roster } = await this.e2e.sendRecord(e.roster, contentType, body);
    e.roster = roster;
    await this.refresh(thread);
    return sent;
  }
}

/** Adds the decoded scale record (content type 2) to an opened message. */
function decorate(m) {
  if (m.status === 'ok' && m.contentType === CONTENT.SCALE && m.body) {
    try {
      m.record = parseRecord(m.body).record;
    } catch (e) {
      m.notes.push(`not a valid scale record (${e.code})`);
    }
  }
  return m;
}

/** The session's thread store. */
export function threadStore(session) {
  if (!stores.has(session)) stores.set(session, new ThreadStore(session));
  return stores.get(session);
}

/** The threads this user is a member of (`threads`: most recent first). */
export async function listThreads(session) {
  const s = threadStore(session);
  await s.ready;
  return s.e2e.listThreads();
}

/** A thread's title (decrypted here), or null. */
export async function threadTitle(session, thread) {
  return (await threadStore(session).get(thread)).title;
}

/** Sends a text message; resolves with the server's `sent` reply. */
export function sendText(session, thread, text) {
  return threadStore(session).send(thread, CONTENT.TEXT, TEXT.encode(text));
}

/** Sends the thread's title (content type 4). */
export function sendTitle(session, thread, title) {
  return threadStore(session).send(thread, CONTENT.THREAD_TITLE, TEXT.encode(title));
}

/** Sends a scale record (content type 2, encoded exactly as the CLI does). */
export function sendScaleRecord(session, thread, record) {
  return threadStore(session).send(thread, CONTENT.SCALE, encodeRecord(record));
}

/** Sends an alert note (content type 3) and resolves with its seq, for alert_resolve/raise. */
export async function sendNote(session, thread, text) {
  return (await threadStore(session).send(thread, CONTENT.ALERT_NOTE, encodeAlertNote(text))).seq;
}

/** Shares this device's thread history with another device of the same user (§12). */
export async function shareHistoryTo(session, device) {
  const s = threadStore(session);
  await s.ready;
  const r = await s.e2e.shareHistory(device.device);
  return { count: r.stored, threads: r.threads };
}
