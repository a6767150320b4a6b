// caseload.js - the caseload registry (PROTOCOL.md §15 "Registry"): one row per patient thread
// with the same figures and "needs attention" order as `sesame caseload` (protocol/registry.js
// computes them from the records decrypted here): weeks in care, last and next contact, latest
// PHQ-9 and GAD-7 with band and a small trend chart, open alerts, queue tier, next review, the
// latest recommendation. A psychiatrist sees the nurse of each row (the caseloads they supervise).
import { html, useEffect, useState } from './html.js';
import { formatTime, t } from '../app/i18n.js';
import { caseloadRow, sortCaseload } from '../protocol/registry.js';
import { listThreads, sendTitle, threadStore } from '../app/threads.js';
import { directory } from '../app/people.js';
import { ErrorLine, Title, useAction, useId, useLoad } from './common.js';

const TREND_W = 80;
const TREND_H = 24;
const PHQ9_MAX = 27;

/** The caseload rows, in "needs attention" order. */
async function loadCaseload(session) {
  const store = threadStore(session);
  const [threads, alerts, queue, recs, nurses] = await Promise.all([
    listThreads(session),
    session.request({ t: 'alerts', open: true, limit: 500 }),
    session.request({ t: 'queue' }).catch(() => ({ entries: [] })),
    session.request({ t: 'recs', limit: 500 }).catch(() => ({ recs: [] })),
    session.request({ t: 'directory', role: 'nurse' }),
  ]);
  const rows = [];
  for (const th of threads) {
    const e = await store.get(th.thread, { roster: true });
    rows.push(
      caseloadRow({
        thread: th.thread,
        patient: th.patient,
        members: e.roster.members,
        meta: e.roster.meta ?? {},
        records: e.messages.filter((m) => m.record).map((m) => m.record),
        title: e.title,
        alerts: alerts.alerts,
        queue: queue.entries,
        recs: recs.recs,
        directory: nurses.users,
        today_ms: Date.now(),
      }),
    );
  }
  return sortCaseload(rows, 'attention');
}

/** A PHQ-9 trend as a small line chart, with its values for screen readers. */
export function Trend({ points }) {
  if (!points || points.length < 2) return null;
  const step = TREND_W / (points.length - 1);
  const d = points
    .map((v, i) => `${(i * step).toFixed(1)},${(TREND_H - (v / PHQ9_MAX) * TREND_H).toFixed(1)}`)
    .join(' ');
  return html`<svg
    class="trend"
    width=${TREND_W}
    height=${TREND_H}
    viewBox=${`0 0 ${TREND_W} ${TREND_H}`}
    role="img"
    aria-label=${t('caseload.trend', { values: points.join(', ') })}
  >
    <polyline points=${d} fill="none" stroke="currentColor" stroke-width="1.5" />
  </svg>`;
}

/** A YYYY-MM-DD day in the user's locale, or a dash. */
function Day({ iso }) {
  if (!iso) return '—';
  return html`<time datetime=${iso}>${formatTime(Date.parse(`${iso}T12:00:00Z`), { dateStyle: 'medium' })}</time>`;
}

function Band({ band }) {
  return band ? html` <span class="muted">(${t(`band.${band}`)})</span>` : null;
}

function Row({ r, showNurse }) {
  const flags = [
    r.contact_overdue && t('caseload.contact_overdue'),
    r.review_overdue && t('caseload.review_overdue'),
    r.not_improving && t('caseload.not_improving'),
  ].filter(Boolean);
  return html`<tr class=${`att-${r.attention}`} data-thread=${r.thread}>
    <th scope="row">
      <a href=${`#/thread/${r.thread}`}>${r.name ?? r.patient}</a>
      ${r.name && html`<br /><span class="mono muted">${r.patient}</span>`}
    </th>
    ${showNurse && html`<td>${r.nurse_name || '—'}</td>`}
    <td>${t(`attention.${r.attention}`)}${flags.length ? html`<br /><span class="muted">${flags.join(' · ')}</span>` : ''}</td>
    <td>${r.weeks ?? '—'}</td>
    <td><${Day} iso=${r.last_contact} /><br /><span class="muted">${t('caseload.next')} <${Day} iso=${r.next_contact} /></span></td>
    <td>
      ${r.phq9 ? html`${r.phq9.latest}<${Band} band=${r.phq9.band} />` : '—'}
      ${r.item9 && r.item9.value > 0 && html`<br /><strong class="overdue">${t('caseload.item9', { value: r.item9.value })}</strong>`}
      ${r.item9 && r.item9.value === null && html`<br /><strong class="overdue" data-testid="item9-unanswered">${t('caseload.item9_unanswered')}</strong>`}
    </td>
    <td><${Trend} points=${r.phq9?.trend} /></td>
    <td>${r.gad7 ? r.gad7.latest : '—'}</td>
    <td>${r.open_alerts.count > 0 ? html`<a href="#/alerts">${r.open_alerts.count} (${r.open_alerts.highest})</a>` : '0'}</td>
    <td>${r.queue ? r.queue.tier : "—"}</td>
    <td><${Day} iso=${r.next_review} /></td>
    <td>${r.recommendation ? t(`rec.state.${r.recommendation.state}`) : '—'}</td>
  </tr>`;
}

/** A nurse opens a patient thread: pseudonymous reference (the server's), the patient's name as
 * the encrypted title (never the server's), and the team members. */
function NewThread({ session, onCreated }) {
  const dir = useLoad(() => directory(session), [session]);
  const [f, setF] = useState({ patient: '', title: '', members: [] });
  const act = useAction();
  const ids = { patient: useId('ref'), title: useId('title') };
  const team = [...(dir.data?.values() ?? [])].filter(
    (u) => u.user !== session.profile.user && ['nurse', 'psychiatrist', 'gp'].includes(u.role),
  );
  const toggle = (u) =>
    setF({
      ...f,
      members: f.members.includes(u) ? f.members.filter((x) => x !== u) : [...f.members, u],
    });
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const r = await session.request({
        t: 'thread_create',
        patient: f.patient.trim(),
        members: f.members,
      });
      if (f.title.trim()) await sendTitle(session, r.thread, f.title.trim());
      location.hash = `#/thread/${r.thread}`;
      onCreated();
    });
  };
  return html`<details class="new-thread">
    <summary>${t('caseload.new')}</summary>
    <form onSubmit=${submit}>
      <div class="field">
        <label for=${ids.patient}>${t('caseload.new.ref')}</label>
        <input id=${ids.patient} required maxlength="32" pattern="[A-Za-z0-9_\\-]{1,32}" value=${f.patient} onInput=${(e) => setF({ ...f, patient: e.currentTarget.value })} />
      </div>
      <div class="field">
        <label for=${ids.title}>${t('caseload.new.title')}</label>
        <input id=${ids.title} maxlength="200" value=${f.title} onInput=${(e) => setF({ ...f, title: e.currentTarget.value })} />
      </div>
      <fieldset>
        <legend>${t('caseload.new.members')}</legend>
        ${team.map(
          (u) => html`<label class="choice">
            <input type="checkbox" value=${u.user} checked=${f.members.includes(u.user)} onChange=${() => toggle(u.user)} />
            ${u.name} (${t(`role.${u.role}`)})
          </label>`,
        )}
      </fieldset>
      <${ErrorLine} error=${act.error} />
      <button type="submit" disabled=${act.busy}>${t('caseload.new.do')}</button>
    </form>
  </details>`;
}

export function CaseloadScreen({ session }) {
  const list = useLoad(() => loadCaseload(session), [session]);
  useEffect(() => threadStore(session).subscribe(() => list.reload()), [session]);
  const showNurse = session.profile.role !== 'nurse';
  const rows = list.data ?? [];
  return html`<${Title}>${t('caseload.title')}<//>
    ${session.profile.role === 'nurse' && html`<${NewThread} session=${session} onCreated=${list.reload} />`}
    <${ErrorLine} error=${list.error} />
    ${!list.data && !list.error && html`<p role="status">${t('loading')}</p>`}
    ${list.data && rows.length === 0 && html`<p role="status">${t('caseload.empty')}</p>`}
    ${rows.length > 0 &&
    html`<table class="caseload">
      <caption class="sr-only">${t('caseload.title')}</caption>
      <thead>
        <tr>
          <th scope="col">${t('caseload.patient')}</th>
          ${showNurse && html`<th scope="col">${t('caseload.nurse')}</th>`}
          <th scope="col">${t('caseload.attention')}</th>
          <th scope="col">${t('caseload.weeks')}</th>
          <th scope="col">${t('caseload.last_contact')}</th>
          <th scope="col">PHQ-9</th>
          <th scope="col">${t('caseload.trend_h')}</th>
          <th scope="col">GAD-7</th>
          <th scope="col">${t('caseload.alerts')}</th>
          <th scope="col">${t('caseload.queue')}</th>
          <th scope="col">${t('caseload.next_review')}</th>
          <th scope="col">${t('caseload.rec')}</th>
        </tr>
      </thead>
      <tbody>
        ${rows.map((r) => html`<${Row} r=${r} showNurse=${showNurse} key=${r.thread} />`)}
      </tbody>
    </table>`}`;
}
