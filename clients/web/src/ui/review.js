// review.js - the psychiatrist's weekly case review (PROTOCOL.md §15): the agenda of the next
// planned session (or of the session chosen), its capacity and whether it is frozen, the minutes
// of a held session, and the sessions themselves (list, add a weekly series or an ad hoc
// session, cancel a planned one). The pieces are review_agenda.js, review_sessions.js and
// review_minutes.js; a row of the agenda opens the case (case.js).
import { html, useState } from './html.js';
import { formatTime, t } from '../app/i18n.js';
import { ErrorLine, Title, When, useId, useLoad } from './common.js';
import { AgendaTable, Capacity } from './review_agenda.js';
import { AddSession, SessionList } from './review_sessions.js';
import { MinutesForm } from './review_minutes.js';
import { DAY_MS } from './review_util.js';

const PAST_DAYS = 35; // held sessions whose minutes may still be recorded
const AHEAD_DAYS = 91; // a weekly series is planned 12 weeks ahead

/** The sessions around today, in start order. */
async function loadSessions(session) {
  const now = Date.now();
  const r = await session.request({ t: 'review_sessions', from: now - PAST_DAYS * DAY_MS, to: now + AHEAD_DAYS * DAY_MS });
  return r.sessions;
}

/** The agenda of a session (null: the next planned one), or null when there is none. */
async function loadAgenda(session, id) {
  try {
    return await session.request(id ? { t: 'agenda', session: id } : { t: 'agenda' });
  } catch (e) {
    if (e.code === 'NOT_FOUND' && !id) return null;
    throw e;
  }
}

function SessionPicker({ sessions, value, onChange }) {
  const id = useId('ses');
  return html`<div class="field picker">
    <label for=${id}>${t('review.session')}</label>
    <select id=${id} value=${value ?? ''} onChange=${(e) => onChange(e.currentTarget.value || null)}>
      <option value="">${t('review.next_session')}</option>
      ${sessions.map(
        (s) => html`<option value=${s.session}>
          ${formatTime(s.start, { dateStyle: 'full', timeStyle: 'short' })} · ${t(`review.state.${s.state}`)}
        </option>`,
      )}
    </select>
  </div>`;
}

function AgendaSection({ session, agenda }) {
  if (agenda === undefined) return html`<p role="status">${t('loading')}</p>`;
  if (agenda === null) return html`<p role="status" class="warning">${t('review.no_next')}</p>`;
  const s = agenda.session;
  return html`<p class="session-line" data-session=${s.session}>
      <strong><${When} ms=${s.start} /></strong>${` · ${t('review.minutes_n', { n: s.minutes })} · ${t(`review.state.${s.state}`)}`}
    </p>
    <${Capacity} agenda=${agenda} />
    <${AgendaTable} session=${session} agenda=${agenda} />
    ${s.state === 'held' && html`<${MinutesForm}
      session=${session}
      sessionId=${s.session}
      stored=${agenda.minutes_record}
      key=${s.session}
    />`}`;
}

/** The case-review screen. */
export function ReviewScreen({ session }) {
  const [selected, setSelected] = useState(null);
  const sessions = useLoad(() => loadSessions(session), [session]);
  const agenda = useLoad(() => loadAgenda(session, selected), [session, selected]);
  const changed = () => {
    sessions.reload();
    agenda.reload();
  };
  const list = sessions.data ?? [];
  const shown = agenda.data?.session.session ?? null;
  return html`<${Title}>${t('review.title')}<//>
    <section aria-labelledby="agenda-h">
      <h2 id="agenda-h">${t('review.agenda')}</h2>
      <${SessionPicker} sessions=${list} value=${selected} onChange=${setSelected} />
      <${ErrorLine} error=${agenda.error} />
      ${!agenda.error && html`<${AgendaSection} session=${session} agenda=${agenda.data} />`}
    </section>
    <section aria-labelledby="sessions-h">
      <h2 id="sessions-h">${t('review.sessions')}</h2>
      <${ErrorLine} error=${sessions.error} />
      ${sessions.data &&
      html`<${SessionList} session=${session} sessions=${list} selected=${shown} onSelect=${setSelected} onChanged=${changed} />`}
      <${AddSession} session=${session} onAdded=${changed} />
    </section>`;
}
