// recs_data.js - what the recommendation screens read (PROTOCOL.md §16): the `recs` list in the
// inbox's order, one recommendation with its decrypted letter (the thread's content-type-5 message
// `msg_seq`), the thread's latest patient card, the GP's reason, and the export input gathered
// exactly as `sesame rec export` does (clients/cli/cmd_rec_read.c export_run and names_of), so
// that the files built here are byte for byte the CLI's.
import { CONTENT } from '../protocol/envelope_core.js';
import { parsePatientCard, parseRecDoc } from '../protocol/recommend.js';
import { DEFAULT_ORG_OID } from '../protocol/export/index.js';
import { threadStore } from '../app/threads.js';
import { directory } from '../app/people.js';

/** The inbox groups, in the order shown. */
export const GROUPS = Object.freeze(['overdue', 'new', 'awaiting', 'rest']);

/** The group of a REC: overdue (still sent past its deadline), new (sent), awaiting (acknowledged), rest. */
export function groupOf(rec) {
  if (rec.overdue === true) return 'overdue';
  if (rec.state === 'sent') return 'new';
  if (rec.state === 'acknowledged') return 'awaiting';
  return 'rest';
}

/**
 * The recommendations grouped for the inbox: overdue first (earliest deadline first), then new,
 * awaiting decision, then the rest (newest first, as the server lists them).
 * @param {object[]} recs REC list, newest first
 * @returns {Record<string, object[]>}
 */
export function groupRecs(recs) {
  const out = Object.fromEntries(GROUPS.map((g) => [g, []]));
  for (const r of recs) out[groupOf(r)].push(r);
  out.overdue.sort((a, b) => (a.deadline ?? 0) - (b.deadline ?? 0));
  return out;
}

/** The user's recommendations (`recs`, at most 500) and the thread titles and directory. */
export async function loadInbox(session) {
  const [list, dir] = await Promise.all([
    session.request({ t: 'recs', limit: 500 }),
    directory(session),
  ]);
  const store = threadStore(session);
  const titles = new Map();
  for (const th of new Set(list.recs.map((r) => r.thread))) {
    titles.set(th, await store.get(th).then((e) => e.title, () => null));
  }
  return { recs: list.recs, titles, dir };
}

/** A user's label as the CLI's e2e_user_label gives it: the roster's name, the directory's, else the id's start. */
export function userLabel(members, dir, id) {
  const m = members.find((x) => x.user === id);
  if (m) return m.name;
  const u = dir?.get(id);
  return u ? u.name : `${String(id).slice(0, 8)}…`;
}

/* The latest message of the thread that parses as a patient card, or null (read_card). */
function latestCard(messages) {
  let card = null;
  for (const m of messages) {
    if (m.status !== 'ok' || m.contentType !== CONTENT.PATIENT_CARD || !m.body) continue;
    try {
      card = parsePatientCard(m.body);
    } catch {
      /* not a card: the CLI skips it too */
    }
  }
  return card;
}

/**
 * One recommendation: `rec_show`, the thread decrypted here, the letter, the card and the reason.
 * @returns {Promise<{rec: object, events: object[], entry: object, doc: object|null,
 *   docError: string|null, card: object|null, reason: string|null, dir: Map}>}
 */
export async function loadRec(session, id) {
  const [shown, dir] = await Promise.all([
    session.request({ t: 'rec_show', rec: id }),
    directory(session),
  ]);
  const { rec, events } = shown;
  const entry = await threadStore(session).get(rec.thread, { roster: true });
  const bySeq = (seq) => entry.messages.find((m) => m.seq === seq);
  const letter = bySeq(rec.msg_seq);
  let doc = null;
  let docError = null;
  if (!letter || letter.status !== 'ok') docError = 'not_delivered';
  else if (letter.contentType !== CONTENT.RECOMMENDATION || !letter.body) docError = 'malformed';
  else {
    try {
      doc = parseRecDoc(letter.body);
    } catch {
      docError = 'malformed';
    }
  }
  const rm = Number.isInteger(rec.reason_seq) ? bySeq(rec.reason_seq) : null;
  const reason = rm && rm.status === 'ok' && typeof rm.text === 'string' ? rm.text : null;
  return { rec, events, entry, doc, docError, card: latestCard(entry.messages), reason, dir };
}

const ms = (v) => (Number.isInteger(v) ? v : 0);

/**
 * The export input of a loaded recommendation (struct exp_input, as export_run fills it).
 * @param {Awaited<ReturnType<typeof loadRec>>} d
 */
export function exportInput(d) {
  const { rec, entry, dir } = d;
  const members = entry.roster.members;
  const nurse = members.find((m) => m.role === 'nurse');
  const gpUser = dir?.get(rec.gp);
  return {
    doc: d.doc,
    card: d.card,
    recId: rec.rec ?? '',
    version: rec.version,
    threadId: rec.thread ?? '',
    patientRef: rec.patient ?? '',
    state: rec.state,
    decision: typeof rec.decision === 'string' ? rec.decision : null,
    reason: d.reason,
    sentMs: ms(rec.sent),
    ackedMs: ms(rec.acked),
    decidedMs: ms(rec.decided),
    implementedMs: ms(rec.implemented),
    verifiedMs: ms(rec.verified),
    author: { id: rec.author ?? '', name: userLabel(members, dir, rec.author ?? '') },
    gp: { id: rec.gp ?? '', name: userLabel(members, dir, rec.gp ?? '') },
    nurse: { id: nurse?.user ?? '', name: nurse?.name ?? '' },
    site: gpUser && typeof gpUser.site === 'string' ? gpUser.site : '',
    orgOid: DEFAULT_ORG_OID,
  };
}

/** Why an export of this format cannot be built ('no_card', 'no_ins'), or null (XDM needs a card with an INS). */
export function exportBlocker(format, card) {
  if (format === 'pdf' || format === 'fhir') return null;
  if (!card) return 'no_card';
  return card.insKind === 'none' || !card.ins ? 'no_ins' : null;
}
