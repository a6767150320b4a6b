// review_sessions.js - the psychiatrist's case-review sessions (PROTOCOL.md §15 "Sessions"):
// the list with start, length, capacity and state (held ones with their cases and slots taken),
// choosing one to see its agenda, cancelling a planned one after an explicit confirmation
// (`review_session_cancel`), and adding a weekly series (ISO weekday and time of day, in the
// server's local time) or one ad hoc session (`review_session_add`).
import { html, useEffect, useRef, useState } from './html.js';
import { t } from '../app/i18n.js';
import { Table, When, useAction, useId } from './common.js';
import { ErrorCode } from './review_util.js';

const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7];
const MINUTES_MAX = 600;
const PLANNED_SHOWN = 4; // planned sessions listed before "show all"

/** The session's state in words, with what a held one took. */
function StateCell({ s }) {
  return html`<span class=${`ses-state ses-${s.state}`}>${t(`review.state.${s.state}`)}</span>
    ${s.state === 'held' && s.entries !== undefined &&
    html`<br /><span class="muted">${t('review.held_detail', { entries: s.entries, used: s.used ?? 0, missed: s.missed_due ?? 0 })}</span>`}`;
}

/** "Cancel" that asks first; focus moves to the question and back. */
function CancelButton({ session, s, onDone }) {
  const [asking, setAsking] = useState(false);
  const act = useAction();
  const yes = useRef(null);
  useEffect(() => asking && yes.current?.focus(), [asking]);
  const cancel = () =>
    act.run(async () => {
      await session.request({ t: 'review_session_cancel', session: s.session });
      setAsking(false);
      onDone();
    });
  if (!asking) {
    return html`<button type="button" class="small secondary" onClick=${() => setAsking(true)}>
      ${t('review.cancel')}<span class="sr-only"> <${When} ms=${s.start} /></span>
    </button>`;
  }
  return html`<div class="confirm" role="group" aria-label=${t('review.cancel_q')}>
    <p>${t('review.cancel_q')}</p>
    <button type="button" class="small danger" ref=${yes} disabled=${act.busy} onClick=${cancel}>
      ${t('review.cancel_yes')}
    </button>
    <button type="button" class="small secondary" onClick=${() => setAsking(false)}>${t('review.cancel_no')}</button>
    <${ErrorCode} error=${act.error} />
  </div>`;
}

/** The sessions table; `selected` is the session whose agenda is shown. */
export function SessionList({ session, sessions, selected, onSelect, onChanged }) {
  const [all, setAll] = useState(false);
  if (sessions.length === 0) return html`<p role="status">${t('review.no_sessions')}</p>`;
  // past sessions, the selected one and the next few planned ones, unless all are asked for
  const planned = sessions.filter((s) => s.state === 'planned');
  const soon = new Set(planned.slice(0, PLANNED_SHOWN).map((s) => s.session));
  const shown = all ? sessions : sessions.filter((s) => s.state !== 'planned' || soon.has(s.session) || s.session === selected);
  const more = sessions.length - shown.length;
  return html`<${Table} class="sessions" id="sessions-table" caption=${t('review.sessions_caption')}
      cols=${[
        t('review.start'), t('review.length'), t('review.slots'), t('review.kind'),
        t('review.state'), t('actions'),
      ]}>
      ${shown.map(
        (s) => html`<tr data-session=${s.session} data-state=${s.state} class=${s.session === selected ? 'selected' : ''} key=${s.session}>
          <th scope="row"><${When} ms=${s.start} /></th>
          <td>${t('review.minutes_n', { n: s.minutes })}</td>
          <td class="num">${s.slots}</td>
          <td>${s.series ? t('review.weekly') : t('review.adhoc')}</td>
          <td><${StateCell} s=${s} /></td>
          <td class="actions">
            ${s.session === selected
              ? html`<span class="muted">${t('review.shown')}</span>`
              : html`<button type="button" class="small secondary" onClick=${() => onSelect(s.session)}>
                  ${t('review.show_agenda')}<span class="sr-only"> <${When} ms=${s.start} /></span>
                </button>`}
            ${s.state === 'planned' && html` <${CancelButton} session=${session} s=${s} onDone=${onChanged} />`}
          </td>
        </tr>`,
      )}
    <//>
  ${(more > 0 || all) &&
  html`<button type="button" class="link" aria-controls="sessions-table" aria-expanded=${all ? 'true' : 'false'}
    onClick=${() => setAll(!all)}>${all ? t('review.fewer') : t('review.all_sessions', { n: sessions.length })}</button>`}`;
}

function WeeklyFields({ f, set }) {
  const ids = { day: useId('wd'), time: useId('tm') };
  return html`<div class="field">
      <label for=${ids.day}>${t('review.weekday')}</label>
      <select id=${ids.day} value=${f.weekday} onChange=${(e) => set({ weekday: Number(e.currentTarget.value) })}>
        ${WEEKDAYS.map((d) => html`<option value=${d}>${t(`review.day.${d}`)}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for=${ids.time}>${t('review.time_server')}</label>
      <input id=${ids.time} type="time" required value=${f.time} onInput=${(e) => set({ time: e.currentTarget.value })} />
    </div>`;
}

function AdhocFields({ f, set }) {
  const ids = { date: useId('sd'), time: useId('tm') };
  return html`<div class="field">
      <label for=${ids.date}>${t('review.date')}</label>
      <input id=${ids.date} type="date" required value=${f.date} onInput=${(e) => set({ date: e.currentTarget.value })} />
    </div>
    <div class="field">
      <label for=${ids.time}>${t('review.time_local')}</label>
      <input id=${ids.time} type="time" required value=${f.time} onInput=${(e) => set({ time: e.currentTarget.value })} />
    </div>`;
}

/** The request of the add form: a weekly series or one session at a local date and time. */
function addRequest(f) {
  const minutes = Number(f.minutes);
  if (f.kind === 'weekly') return { t: 'review_session_add', weekday: f.weekday, time: f.time, minutes };
  const start = new Date(`${f.date}T${f.time}`).getTime();
  return { t: 'review_session_add', start, minutes };
}

/** Adds a weekly series or an ad hoc session; shows what the server planned. */
export function AddSession({ session, onAdded }) {
  const [f, setF] = useState({ kind: 'weekly', weekday: 1, time: '10:00', date: '', minutes: '60' });
  const [done, setDone] = useState(null);
  const act = useAction();
  const minId = useId('min');
  const set = (p) => setF({ ...f, ...p });
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const r = await session.request(addRequest(f));
      setDone(r);
      onAdded(r);
    });
  };
  return html`<form class="add-session" onSubmit=${submit} aria-labelledby="add-session-h">
    <h3 id="add-session-h">${t('review.add')}</h3>
    <fieldset class="kind">
      <legend>${t('review.kind')}</legend>
      ${['weekly', 'adhoc'].map(
        (k) => html`<label class="choice">
          <input type="radio" name="session-kind" value=${k} checked=${f.kind === k} onChange=${() => set({ kind: k })} />
          ${t(`review.kind.${k}`)}
        </label>`,
      )}
    </fieldset>
    <div class="inline-form">
      ${f.kind === 'weekly' ? html`<${WeeklyFields} f=${f} set=${set} />` : html`<${AdhocFields} f=${f} set=${set} />`}
      <div class="field">
        <label for=${minId}>${t('review.length_min')}</label>
        <input id=${minId} type="number" min="1" max=${MINUTES_MAX} required value=${f.minutes}
          onInput=${(e) => set({ minutes: e.currentTarget.value })} />
      </div>
      <button type="submit" disabled=${act.busy}>${t('review.add_do')}</button>
    </div>
    <${ErrorCode} error=${act.error} />
    ${done &&
    html`<p role="status" class="result">
      ${done.t === 'review_series'
        ? t('review.series_added', { day: t(`review.day.${done.weekday}`), time: `${String(Math.floor(done.minute / 60)).padStart(2, '0')}:${String(done.minute % 60).padStart(2, '0')}`, minutes: done.minutes })
        : html`${t('review.session_added')} <${When} ms=${done.session.start} />`}
    </p>`}
  </form>`;
}
