// raise.js - raising an alert by hand from a thread (PROTOCOL.md §13): the types this user's
// role may raise (the catalogue's manual types: imminent and moderate risk for every clinician,
// a consultation request or a medication issue from the nurse, a specialty referral from the
// psychiatrist, a GP event from the GP), a severity no lower than the type's, and an optional
// note sent end-to-end encrypted first (its seq goes with the raise). Choosing "imminent risk"
// shows the emergency numbers at once, before anything is sent: the daemon is never the only
// channel.
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import {
  ALERT_TYPES,
  SES_ORIGIN_MANUAL,
  SES_SEV_COUNT,
  SES_SEV_P0,
  alertPrecheckRaise,
  severityFromName,
  severityName,
} from '../protocol/alerts.js';
import { sendNote } from '../app/threads.js';
import { ErrorLine, useAction, useId } from './common.js';
import { Emergency, alertName } from './alerts.js';

/** The catalogue rows this role may raise by hand, each as "CODE" or "CODE/variant". */
export function manualTypes(role) {
  return ALERT_TYPES.filter(
    (r) => r.origin === SES_ORIGIN_MANUAL && alertPrecheckRaise(r, -1, role) === null,
  );
}

const keyOf = (r) => (r.variant ? `${r.code}/${r.variant}` : r.code);
const alertKey = (a) => (a.variant ? `${a.type}/${a.variant}` : a.type);

/** Sends the note (when there is one) then the raise; resolves with the server's reply. */
async function raise(session, thread, row, severity, note) {
  const sev = severityFromName(severity);
  const refused = alertPrecheckRaise(row, sev, session.profile.role);
  if (refused) throw { code: refused };
  const frame = { t: 'alert_raise', thread, type: row.code };
  if (row.variant) frame.variant = row.variant;
  if (sev > row.severity) frame.severity = severity;
  if (note) frame.msg_seq = await sendNote(session, thread, note);
  return session.request(frame);
}

/** The severities a raise of row may ask for: its own, or more urgent. */
function severitiesOf(row) {
  const out = [];
  for (let s = row ? row.severity : SES_SEV_COUNT; s < SES_SEV_COUNT; s++) out.push(severityName(s));
  return out;
}

/**
 * The form; onDone(alert) after a raise the server accepted. No type is chosen at first (a
 * P0 is never one click away); the imminent-risk banner shows as soon as a P0 is chosen.
 */
export function RaiseForm({ session, thread, onDone }) {
  const types = manualTypes(session.profile.role);
  const [f, setF] = useState({ type: '', severity: '', note: '' });
  const [result, setResult] = useState(null);
  const act = useAction();
  const ids = { type: useId('rtype'), sev: useId('rsev'), note: useId('rnote') };
  if (types.length === 0) return null;
  const row = types.find((r) => keyOf(r) === f.type) ?? null;
  const severities = severitiesOf(row);
  const chosen = severities.includes(f.severity) ? f.severity : (severities[0] ?? '');
  const p0 = severityFromName(chosen) === SES_SEV_P0;
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      if (!row) throw { code: 'TYPE_REQUIRED' };
      const r = await raise(session, thread, row, chosen, f.note.trim());
      setResult(r);
      setF({ type: '', severity: '', note: '' });
      onDone?.(r.alert);
    });
  };
  const label = (r) => `${keyOf(r)} — ${alertName({ type: r.code, variant: r.variant, name: r.name })}`;
  return html`<form class="raise" onSubmit=${submit} aria-labelledby="raise-h">
    <h2 id="raise-h">${t('raise.title')}</h2>
    <div class="field">
      <label for=${ids.type}>${t('raise.type')}</label>
      <select id=${ids.type} value=${f.type} required onChange=${(e) => setF({ ...f, type: e.currentTarget.value, severity: '' })}>
        <option value="">${t('alert.resolve.choose')}</option>
        ${types.map((r) => html`<option value=${keyOf(r)}>${label(r)}</option>`)}
      </select>
    </div>
    ${row &&
    html`<div class="field">
      <label for=${ids.sev}>${t('raise.severity')}</label>
      <select id=${ids.sev} value=${chosen} onChange=${set('severity')}>
        ${severities.map((s) => html`<option value=${s}>${s}</option>`)}
      </select>
    </div>`}
    ${p0 && html`<${Emergency} text=${t('alert.phone_now')} />`}
    <div class="field">
      <label for=${ids.note}>${t('raise.note')}</label>
      <textarea id=${ids.note} rows="3" value=${f.note} onInput=${set('note')}></textarea>
    </div>
    <${ErrorLine} error=${act.error} />
    <button type="submit" disabled=${act.busy || !row}>${t('raise.do')}</button>
    ${result &&
    html`<div role="status" data-alert=${result.alert.alert}>
      <p>
        ${t(result.repeat ? 'raise.repeated' : 'raise.raised', { type: alertKey(result.alert) })}
        <a href=${`#/alerts/${result.alert.alert}`}>${t('raise.open')}</a>
      </p>
      ${result.alert.severity === 'P0' &&
      html`<${Emergency} text=${result.alert.emergency ?? t('alert.phone_now')} />`}
    </div>`}
  </form>`;
}
