// recs_detail.js - one recommendation opened (#/recs/REC_ID): the letter decrypted on this device
// (question, data basis, safety, diagnosis, numbered items with drug, dose, titration and
// monitoring, narrative, contingency, urgency, next review, disclaimer), the loop's state and
// times, the GP's reason, the timeline of events (`rec_show`), then the steps the user may take
// and the exports. Opening it never acknowledges it: that is an explicit button.
import { html, useEffect } from './html.js';
import { formatTime, t } from '../app/i18n.js';
import { ErrorLine, Title, When, useLoad } from './common.js';
import { loadRec, userLabel } from './recs_data.js';
import { AckDue, RecState } from './recs_inbox.js';
import { RecActions } from './recs_actions.js';
import { RecExports } from './recs_export.js';

const DAY_MS = 86400000;

/** A day number (days since 1970-01-01) as a date, or a dash. */
export function DayOf({ day }) {
  if (!Number.isInteger(day) || day < 0) return html`<span aria-label=${t('none')}>—</span>`;
  const iso = new Date(day * DAY_MS).toISOString().slice(0, 10);
  return html`<time datetime=${iso}>${formatTime(day * DAY_MS + DAY_MS / 2, { dateStyle: 'medium' })}</time>`;
}

function Field({ label, text, testid }) {
  if (!text) return null;
  return html`<dt>${label}</dt><dd class="text" data-testid=${testid}>${text}</dd>`;
}

function Item({ it, n }) {
  const med = typeof it.drug === 'string' && it.drug !== '';
  return html`<li data-type=${it.type}>
    <strong>${n}. ${t(`recs.item.${it.type}`)}</strong>
    ${med && html` — <span class="drug">${it.drug}</span>${it.dose ? html` <span class="dose">${it.dose}</span>` : ''}`}
    ${it.titration && html`<br /><span class="muted">${t('recs.titration')}${t('review.colon')}</span> ${it.titration}`}
    ${it.monitoring && html`<br /><span class="muted">${t('recs.monitoring')}${t('review.colon')}</span> ${it.monitoring}`}
    ${it.text && html`<br />${it.text}`}
  </li>`;
}

/** The decrypted letter. */
function Letter({ doc }) {
  return html`<section class="rec-letter" aria-labelledby="rec-letter-h">
    <h2 id="rec-letter-h">${t('recs.letter')}</h2>
    <dl class="facts">
      <dt>${t('recs.urgency')}</dt>
      <dd>${doc.urgent ? html`<strong class="urgent">${t('recs.urgent')}</strong>` : t('recs.routine')}</dd>
      <dt>${t('recs.written')}</dt>
      <dd><${DayOf} day=${doc.day} />${Number.isInteger(doc.reviewDay) && doc.reviewDay >= 0
        ? html` · ${t('recs.from_review')} <${DayOf} day=${doc.reviewDay} />` : html` · ${t('recs.ad_hoc')}`}</dd>
      <dt>${t('recs.question')}</dt>
      <dd data-testid="rec-question"><span class="badge">${t(`recs.qcode.${doc.questionCode}`)}</span> ${doc.question}</dd>
      <${Field} label=${t('recs.data_basis')} text=${doc.dataBasis} testid="rec-data-basis" />
      <${Field} label=${t('recs.safety')} text=${doc.safety} testid="rec-safety" />
      <${Field} label=${t('recs.diagnosis')} text=${doc.diagnosis} testid="rec-diagnosis" />
    </dl>
    ${doc.items.length > 0 && html`<h3>${t('recs.items')}</h3>
      <ol class="rec-items" data-testid="rec-items">${doc.items.map((it, i) => html`<${Item} key=${i} it=${it} n=${i + 1} />`)}</ol>`}
    <dl class="facts">
      <${Field} label=${t('recs.narrative')} text=${doc.narrative} testid="rec-narrative" />
      <${Field} label=${t('recs.contingency')} text=${doc.contingency} testid="rec-contingency" />
      <dt>${t('recs.next_review')}</dt>
      <dd><${DayOf} day=${doc.nextReviewDay} /></dd>
    </dl>
    <p class="muted disclaimer">${doc.disclaimer}</p>
  </section>`;
}

/** The loop: state, times, the GP's reason, and the timeline. */
function Loop({ d }) {
  const { rec, events, entry, dir } = d;
  const who = (id) => (id ? userLabel(entry.roster.members, dir, id) : t('recs.by_daemon'));
  return html`<section class="rec-loop" aria-labelledby="rec-loop-h">
    <h2 id="rec-loop-h">${t('recs.loop')}</h2>
    <dl class="facts">
      <dt>${t('recs.state')}</dt><dd data-testid="rec-state"><${RecState} rec=${rec} /></dd>
      <dt>${t('recs.from_to')}</dt><dd>${who(rec.author)} → ${who(rec.gp)}</dd>
      <dt>${t('recs.sent')}</dt><dd><${When} ms=${rec.sent} /></dd>
      <dt>${t('recs.ack_due')}</dt><dd><${AckDue} rec=${rec} /></dd>
      ${rec.decision && html`<dt>${t('recs.decision')}</dt><dd>${t(`recs.decision.${rec.decision}`)} · <${When} ms=${rec.decided} /></dd>`}
      ${d.reason && html`<dt>${t('recs.reason')}</dt><dd class="text" data-testid="rec-reason">${d.reason}</dd>`}
      ${rec.superseded_by && html`<dt>${t('recs.superseded')}</dt><dd><a href=${`#/recs/${rec.superseded_by}`}>${t('recs.newer')}</a></dd>`}
    </dl>
    <h3>${t('recs.timeline')}</h3>
    <table class="rec-events">
      <caption class="sr-only">${t('recs.timeline')}</caption>
      <thead><tr><th scope="col">${t('recs.when')}</th><th scope="col">${t('recs.event')}</th><th scope="col">${t('recs.by')}</th></tr></thead>
      <tbody>
        ${events.map((e, i) => html`<tr key=${i} data-event=${e.event}>
          <td><${When} ms=${e.ts} /></td><th scope="row">${t(`recs.event.${e.event}`)}</th><td>${who(e.by)}</td>
        </tr>`)}
      </tbody>
    </table>
  </section>`;
}

/** The screen of one recommendation. */
export function RecDetail({ session, id }) {
  const data = useLoad(() => loadRec(session, id), [id]);
  useEffect(() => session.on('alert_event', (p) => p.alert?.thread === data.data?.rec.thread && data.reload()), [id, data.data]);
  const d = data.data;
  if (!d) {
    return html`<${Title}>${t('recs.one')}<//>
      <p><a href="#/recs">${t('recs.back')}</a></p>
      <${ErrorLine} error=${data.error} />
      ${!data.error && html`<p role="status">${t('loading')}</p>`}`;
  }
  const title = d.entry.title ?? d.rec.patient;
  return html`<${Title}>${t('recs.one_for', { name: title })} <span class="mono muted">${d.rec.patient} · v${d.rec.version}</span><//>
    <p><a href="#/recs">${t('recs.back')}</a> · <a href=${`#/thread/${d.rec.thread}`}>${t('recs.open_thread')}</a></p>
    <${ErrorLine} error=${data.error} />
    ${d.doc ? html`<${Letter} doc=${d.doc} />`
      : html`<p class="error" role="alert">${t(`recs.doc.${d.docError}`)}</p>`}
    <${Loop} d=${d} />
    <${RecActions} session=${session} d=${d} onDone=${data.reload} />
    ${d.doc && html`<${RecExports} d=${d} />`}`;
}
