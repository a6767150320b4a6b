// review_agenda.js - one session's agenda (PROTOCOL.md §15 `agenda`): its capacity (slots used
// of the session's slots, the cases that did not fit, those past their due date), whether it is
// frozen (held) or live, and one row per case in the server's order: position, tier with its
// base tier and the promotion in words, due date, the reasons with their since/due dates, the
// slots the case takes, within capacity or not, and the outcome. Each row opens #/case/THREAD/SESSION
// (the session tells the case which review it is on).
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { Table, When } from './common.js';
import { PatientName, outcomeWords, promotionWords, reasonWords, tierWords } from './review_util.js';

function Tier({ row }) {
  return html`<strong class=${`tier tier-${row.tier}`}>${tierWords(row.tier)}</strong>
    ${row.promoted &&
    html`<br /><span class="promoted" data-promoted=${row.promoted}>${promotionWords(row)}</span>`}`;
}

function Reasons({ reasons }) {
  return html`<ul class="agenda-reasons">
    ${reasons.map(
      (r) => html`<li data-reason=${r.code}>
        <strong>${reasonWords(r.code)}</strong>
        <span class="muted">${` · ${t('review.since')} `}<${When} ms=${r.since} dateOnly=${true} />${` · ${t('review.due')} `}<${When} ms=${r.due} dateOnly=${true} /></span>
      </li>`,
    )}
  </ul>`;
}

function Row({ session, row, sessionId }) {
  return html`<tr data-thread=${row.thread} data-tier=${row.tier} class=${row.in ? 'in' : 'out'}>
    <td class="num">${row.position}</td>
    <th scope="row">
      <a href=${`#/case/${row.thread}/${sessionId}`}><${PatientName} session=${session} thread=${row.thread} patient=${row.patient} /></a>
    </th>
    <td><${Tier} row=${row} /></td>
    <td><${When} ms=${row.due} dateOnly=${true} /></td>
    <td><${Reasons} reasons=${row.reasons} /></td>
    <td class="num">${t(row.units === 1 ? 'review.units1' : 'review.units', { n: row.units })}</td>
    <td>${row.in ? html`<span class="cap-in">${t('review.in')}</span>` : html`<strong class="cap-out">${t('review.out')}</strong>`}</td>
    <td>${outcomeWords(row.outcome)}</td>
  </tr>`;
}

/** The capacity line and the frozen/live state of an agenda reply. */
export function Capacity({ agenda: a }) {
  return html`${!a.frozen && a.overflow > 0 && html`<p class="warning" role="note" data-testid="overflow-advice">
      ${t('review.overflow_advice', { n: a.overflow })}
    </p>`}
    <dl class="facts capacity" data-testid="capacity">
    <dt>${t('review.capacity')}</dt>
    <dd>${t('review.used', { used: a.used, slots: a.slots })}</dd>
    <dt>${t('review.overflow')}</dt>
    <dd>${a.overflow > 0 ? html`<strong class="overdue">${a.overflow}</strong>` : '0'}</dd>
    <dt>${t('review.missed_due')}</dt>
    <dd>${a.missed_due > 0 ? html`<strong class="overdue">${a.missed_due}</strong>` : '0'}</dd>
    <dt>${t('review.agenda_state')}</dt>
    <dd data-frozen=${String(a.frozen)}>${a.frozen ? t('review.frozen') : t('review.live')}</dd>
  </dl>`;
}

/** The agenda table of an `agenda` reply. */
export function AgendaTable({ session, agenda: a }) {
  if (a.rows.length === 0) return html`<p role="status">${t('review.agenda_empty')}</p>`;
  return html`<${Table} class="agenda" caption=${t('review.agenda_caption', { n: a.rows.length })}
      cols=${[
        t('review.position'), t('review.patient'), t('review.tier'), t('review.due_date'),
        t('review.reasons'), t('review.units_h'), t('review.in_h'), t('review.outcome'),
      ]}>
      ${a.rows.map((row) => html`<${Row} session=${session} row=${row} sessionId=${a.session.session} key=${row.thread} />`)}
    <//>`;
}
