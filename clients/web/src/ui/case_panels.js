// case_panels.js - the read-only parts of a case (case.js): the nurse's latest case summary for
// the review (the thread's text messages from its nurses, newest first), the episode META with
// where the case stands on the queue, the thread's open alerts, and the earlier recommendations
// with their states (each one's letter decrypted here for its summary line).
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { CONTENT } from '../protocol/envelope_core.js';
import { parseRecDoc } from '../protocol/recommend.js';
import { nameOf } from '../app/people.js';
import { Table, When } from './common.js';
import { Deadline, alertName } from './alerts.js';
import { AckDue } from './recs_inbox.js';
import { Day, dayOf, reasonWords, tierWords } from './review_util.js';

const SUMMARY_SHOWN = 3;

/** The latest text messages of the thread's nurses, newest first. */
export function NurseSummary({ messages, members }) {
  const nurses = new Set(members.filter((m) => m.role === 'nurse').map((m) => m.user));
  const names = new Map(members.map((m) => [m.user, m.name]));
  const texts = messages
    .filter((m) => m.status !== 'refused' && m.contentType === CONTENT.TEXT && nurses.has(m.sender))
    .sort((a, b) => b.seq - a.seq);
  if (texts.length === 0) return html`<p role="status">${t('case.summary.none')}</p>`;
  const shown = texts.slice(0, SUMMARY_SHOWN);
  return html`<p class="muted">${t('case.summary.count', { shown: shown.length, n: texts.length })}</p>
    <ol class="summary" data-testid="nurse-summary">
      ${shown.map(
        (m, i) => html`<li data-seq=${m.seq} class=${i === 0 ? 'latest' : ''}>
          <p class="meta">
            ${i === 0 && html`<span class="badge">${t('case.summary.latest')}</span> `}
            <strong>${names.get(m.sender) ?? '—'}</strong> · <${When} ms=${m.ts} />
          </p>
          <p class="text">${m.text}</p>
        </li>`,
      )}
    </ol>`;
}

/** The episode's META and its place on the review queue. */
export function EpisodeFacts({ meta, entry }) {
  const m = meta ?? {};
  return html`<dl class="facts episode" data-testid="episode">
    <dt>${t('case.phase')}</dt><dd data-phase=${m.phase}>${m.phase ? t(`case.phase.${m.phase}`) : '—'}${m.closed ? ` · ${t('case.closed')}` : ''}</dd>
    <dt>${t('case.enrolled')}</dt><dd><${When} ms=${m.enrolled} dateOnly=${true} /></dd>
    <dt>${t('case.last_review')}</dt><dd data-testid="last-review"><${When} ms=${m.last_review} /></dd>
    <dt>${t('case.next_review')}</dt><dd data-testid="next-review"><${Day} day=${m.next_review == null ? null : dayOf(m.next_review)} /></dd>
    <dt>${t('case.contacts')}</dt><dd>${m.contacts ?? 0} · ${t('case.last_contact')} <${When} ms=${m.last_contact} dateOnly=${true} /></dd>
    <dt>${t('case.deferrals')}</dt><dd>${m.review_deferrals ?? 0}</dd>
    <dt>${t('case.queue')}</dt>
    <dd data-testid="queue-entry">
      ${entry
        ? html`${entry.position ? `#${entry.position} · ` : ''}${tierWords(entry.tier)} · ${entry.reasons.map((r) => reasonWords(r.code)).join(', ')}
          ${entry.session ? html` · ${t('case.on_session')} <${When} ms=${entry.session.start} />` : html` · ${t('case.no_session')}`}`
        : t('case.not_queued')}
    </dd>
  </dl>`;
}

/** The thread's open alerts. */
export function OpenAlerts({ alerts }) {
  if (alerts.length === 0) return html`<p role="status">${t('case.alerts.none')}</p>`;
  return html`<${Table} class="case-alerts" caption=${t('case.alerts')} hideCaption
      cols=${[
        t('case.alerts.alert'), t('case.alerts.severity'), t('case.alerts.state'),
        t('case.alerts.raised'), t('case.alerts.deadline'),
      ]}>
      ${alerts.map(
        (a) => html`<tr data-type=${a.type} key=${a.alert}>
          <th scope="row"><a href=${`#/alerts/${a.alert}`}>${a.type}${a.variant ? `/${a.variant}` : ''} · ${alertName(a)}</a></th>
          <td><span class=${`sev sev-${a.severity}`}>${a.severity}</span></td>
          <td>${t(`alert.state.${a.state}`)}</td>
          <td><${When} ms=${a.raised} /></td>
          <td><${Deadline} alert=${a} /></td>
        </tr>`,
      )}
    <//>`;
}

/** A recommendation's letter, decrypted in the thread, or null. */
function letterOf(messages, seq) {
  const m = messages.find((x) => x.seq === seq && x.contentType === CONTENT.RECOMMENDATION);
  if (!m?.body) return null;
  try {
    return parseRecDoc(m.body);
  } catch {
    return null;
  }
}

/** The letter in one line: why, how many actions, the next review. */
function LetterLine({ doc }) {
  if (!doc) return html`<span class="muted">${t('case.recs.unreadable')}</span>`;
  return html`<span>${t(`recform.q.${doc.questionCode}`)}${` · ${t('case.recs.items', { n: doc.items.length })} · ${t('case.next_review')}${t('review.colon')}`}<${Day} day=${doc.nextReviewDay} /></span>`;
}

/** The thread's earlier recommendations, newest first, with their states. */
export function EarlierRecs({ recs, messages, dir }) {
  if (recs.length === 0) return html`<p role="status">${t('case.recs.none')}</p>`;
  return html`<${Table} class="case-recs" caption=${t('case.recs')} hideCaption
      cols=${[
        t('case.recs.sent'), t('case.recs.letter'), t('case.recs.gp'), t('case.recs.state'),
        t('case.recs.deadline'),
      ]}>
      ${recs.map(
        (r) => html`<tr data-rec=${r.rec} data-state=${r.state} key=${r.rec}>
          <th scope="row"><${When} ms=${r.sent} /><br /><span class="muted">v${r.version} · ${t(r.urgent ? 'case.recs.urgent' : 'case.recs.routine')}</span></th>
          <td><${LetterLine} doc=${letterOf(messages, r.msg_seq)} /></td>
          <td>${nameOf(dir, r.gp)}</td>
          <td><strong>${t(`rec.state.${r.state}`)}</strong>${r.overdue ? html`<br /><span class="overdue">${t('case.recs.overdue')}</span>` : ''}</td>
          <td><${AckDue} rec=${r} /></td>
        </tr>`,
      )}
    <//>`;
}
