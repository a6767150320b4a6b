// recs_inbox.js - the list of recommendations (PROTOCOL.md §16 `recs`): for the GP the inbox
// (overdue first with the deadline, new, awaiting decision, then the rest), for a nurse her
// patients' recommendations (overdue ones marked in words), for a psychiatrist those they wrote.
// Each row opens #/recs/REC_ID.
import { html, useEffect } from './html.js';
import { t } from '../app/i18n.js';
import { ErrorLine, Table, Title, When, useLoad } from './common.js';
import { nameOf } from '../app/people.js';
import { GROUPS, groupRecs, loadInbox } from './recs_data.js';

/** The acknowledgement deadline of a REC, in words: due by, or overdue since. */
export function AckDue({ rec }) {
  if (rec.state !== 'sent' || !Number.isInteger(rec.deadline)) return html`<span class="muted">—</span>`;
  if (rec.overdue === true) {
    return html`<strong class="overdue" data-testid="rec-overdue">${t('recs.overdue_since')} <${When} ms=${rec.deadline} /></strong>`;
  }
  return html`<span>${t('recs.due_by')} <${When} ms=${rec.deadline} /></span>`;
}

/** A REC's state in words, with "overdue" and "urgent" spelled out. */
export function RecState({ rec }) {
  return html`<span class=${`rec-state rec-${rec.state}`} data-state=${rec.state}>${t(`rec.state.${rec.state}`)}</span>${rec.overdue === true
    ? html` · <strong class="overdue">${t('recs.overdue')}</strong>` : ''}`;
}

function Row({ rec, titles, dir, role }) {
  const who = role === 'gp' ? rec.author : rec.gp;
  return html`<tr data-rec=${rec.rec} data-group=${rec.overdue === true ? 'overdue' : rec.state}>
    <th scope="row">
      <a href=${`#/recs/${rec.rec}`}>${titles.get(rec.thread) ?? rec.patient}</a>
      <br /><span class="mono muted">${rec.patient} · v${rec.version}</span>
    </th>
    <td><${RecState} rec=${rec} /></td>
    <td>${rec.urgent ? html`<strong class="urgent">${t('recs.urgent')}</strong>` : t('recs.routine')}</td>
    <td><${When} ms=${rec.sent} /></td>
    <td>${nameOf(dir, who)}</td>
    <td><${AckDue} rec=${rec} /></td>
  </tr>`;
}

function Group({ name, recs, titles, dir, role }) {
  if (recs.length === 0) return null;
  return html`<section class="rec-group" aria-labelledby=${`recs-g-${name}`} data-group=${name}>
    <h2 id=${`recs-g-${name}`}>${t(`recs.group.${name}`)} <span class="muted">(${recs.length})</span></h2>
    <${Table} class="recs" caption=${t(`recs.group.${name}`)} hideCaption
      cols=${[
        t('recs.patient'), t('recs.state'), t('recs.urgency'), t('recs.sent'),
        role === 'gp' ? t('recs.author') : t('recs.gp'), t('recs.ack_due'),
      ]}>
        ${recs.map((r) => html`<${Row} key=${r.rec} rec=${r} titles=${titles} dir=${dir} role=${role} />`)}
    <//>
  </section>`;
}

/** The inbox screen. */
export function RecsInbox({ session }) {
  const list = useLoad(() => loadInbox(session), [session]);
  useEffect(() => session.on('alert_event', () => list.reload()), [session]);
  const role = session.profile.role;
  const data = list.data;
  const groups = data ? groupRecs(data.recs) : null;
  return html`<${Title}>${t(`recs.title.${role}`)}<//>
    <p class="muted">${t(`recs.intro.${role}`)}</p>
    <${ErrorLine} error=${list.error} />
    ${!data && !list.error && html`<p role="status">${t('loading')}</p>`}
    ${data && data.recs.length === 0 && html`<p role="status">${t('recs.empty')}</p>`}
    ${groups && GROUPS.map((g) => html`<${Group} key=${g} name=${g} recs=${groups[g]}
      titles=${data.titles} dir=${data.dir} role=${role} />`)}`;
}
