// indicators_data.js - the quality indicators Q1..Q15 of PROTOCOL.md §15 computed on this device
// as `sesame caseload --indicators` computes them (clients/cli/cmd_caseload.c): every patient
// thread the user can read (its decrypted records and META), Q11 over the recommendations of
// those threads, Q15 over the held case-review sessions of the window (`review_sessions`, the
// window's last 366 days). A trend is the same indicator over the windows before it.
import { DAY_MS, registryIndicators, registryQ11, threadFacts } from '../protocol/registry.js';
import { listThreads, threadStore } from '../app/threads.js';

/** The window picker: its length in days (from = to - days) and how many windows a trend shows. */
export const WINDOWS = Object.freeze({
  month: { days: 30, points: 6 },
  quarter: { days: 91, points: 4 },
  year: { days: 365, points: 3 }, // sesame caseload --indicators' default window
});

/**
 * Every patient the user can read, with its facts and the server's contact count, and the
 * recommendations (`recs`, at most 500, as the CLI asks).
 * @returns {Promise<{patients: Array<{thread: string, facts: object, contacts: number}>, recs: object[]}>}
 */
export async function loadPatients(session) {
  const store = threadStore(session);
  const [threads, recs] = await Promise.all([
    listThreads(session),
    session.request({ t: 'recs', limit: 500 }),
  ]);
  const now = Date.now();
  const patients = [];
  for (const th of threads) {
    const e = await store.get(th.thread, { roster: true });
    const meta = e.roster.meta ?? {};
    const records = e.messages.filter((m) => m.record).map((m) => m.record);
    const facts = threadFacts({ thread: th.thread, meta, records, today_ms: now });
    patients.push({ thread: th.thread, facts,
      contacts: Number.isInteger(meta.contacts) ? meta.contacts : 0 });
  }
  return { patients, recs: recs.recs };
}

/** The held sessions of [from, to] (days) as {slots, used} (held_sessions). */
export async function heldSessions(session, from, to) {
  const lo = (to - from > 365 ? to - 365 : from) * DAY_MS;
  const hi = to * DAY_MS + DAY_MS;
  const r = await session.request({ t: 'review_sessions', from: lo, to: hi });
  return r.sessions.filter((s) => s.state === 'held')
    .map((s) => ({ slots: s.slots ?? 0, used: s.used ?? 0 }));
}

/* Q11's input from the REC list: the listed threads' recommendations only (q11_of). */
function recUses(recs, threads) {
  const ms = (v) => (Number.isInteger(v) ? v : 0);
  return recs.filter((r) => threads.has(r.thread)).map((r) => ({
    sent_ms: ms(r.sent), acked_ms: ms(r.acked), implemented_ms: ms(r.implemented),
    superseded: r.state === 'superseded',
  }));
}

/** An indicator's percentage as the CLI prints it (truncated), or null (no denominator; Q14 a count). */
export function pctOf(q) {
  return q.den > 0 && q.code !== 'Q14' ? Math.trunc((q.num * 100) / q.den) : null;
}

/**
 * Q1..Q15 over [from, to] (days).
 * @param {{patients: object[], recs: object[]}} data loadPatients' result
 * @param {Array<{slots: number, used: number}>} sessions
 */
export function indicatorsOf(data, sessions, from, to) {
  const q = registryIndicators(data.patients, sessions, from, to);
  q[10] = registryQ11(recUses(data.recs, new Set(data.patients.map((p) => p.thread))), from, to);
  return q.map((x) => ({ ...x, pct: pctOf(x) }));
}

/**
 * The indicators of the window ending today and of the windows before it (oldest first).
 * @param {object} session
 * @param {'month'|'quarter'|'year'} windowName
 * @returns {Promise<{windows: Array<{from: number, to: number, q: object[]}>, patients: number}>}
 */
export async function loadIndicators(session, windowName) {
  const w = WINDOWS[windowName] ?? WINDOWS.year;
  const data = await loadPatients(session);
  const today = Math.trunc(Date.now() / DAY_MS);
  const windows = [];
  for (let k = w.points - 1; k >= 0; k--) {
    const to = today - k * (w.days + 1);
    const from = to - w.days;
    windows.push({ from, to, q: indicatorsOf(data, await heldSessions(session, from, to), from, to) });
  }
  return { windows, patients: data.patients.length };
}
