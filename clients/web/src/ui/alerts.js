// alerts.js - the alert inbox (PROTOCOL.md §13): open alerts most urgent first as the server
// orders them, each with its deadline counting down, "yours" for what the user owns, and the
// plain words for an unacknowledged alert whose chain is exhausted; live through `alert_event`
// pushes. One alert's page shows its timeline and lets its owners acknowledge and its closers
// resolve it (a safety alert asks for the risk outcome and a note; "imminent" shows the site's
// emergency numbers at once).
import { html, useEffect, useState } from './html.js';
import { formatTime, lang, t } from '../app/i18n.js';
import { directory, nameOf } from '../app/people.js';
import { ErrorLine, Table, Title, When, useAction, useId, useLoad } from './common.js';
import { sendNote, threadTitle } from '../app/threads.js';

export const SAFETY_TYPES = ['A01', 'A02', 'A03'];
export const RESOLVE_CODES = [
  'ADDRESSED',
  'RISK_ASSESSED',
  'NO_ACTION_NEEDED',
  'REVIEWED',
  'REFERRED',
  'DUPLICATE',
];
export const OUTCOMES = ['none', 'low', 'moderate', 'high', 'imminent'];
const TICK_MS = 1000;

/** A safety alert needs an outcome and a note to be resolved (§13). */
export const isSafety = (a) =>
  SAFETY_TYPES.includes(a.type) || (a.type === 'A19' && a.variant === 'psychiatric');

/** "in 25 min" / "12 min ago" in the user's language, from ms until the deadline. */
export function relative(msLeft) {
  const rtf = new Intl.RelativeTimeFormat(lang() === 'fr' ? 'fr' : 'en', { numeric: 'auto' });
  const abs = Math.abs(msLeft);
  const [n, unit] =
    abs < 3600e3
      ? [Math.round(msLeft / 60e3), 'minute']
      : abs < 86400e3 * 2
        ? [Math.round(msLeft / 3600e3), 'hour']
        : [Math.round(msLeft / 86400e3), 'day'];
  return rtf.format(n, unit);
}

function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), TICK_MS);
    return () => clearInterval(id);
  }, []);
  return now;
}

export function Deadline({ alert: a }) {
  const now = useNow();
  if (a.state !== 'raised' && a.state !== 'acked') return null;
  if (a.deadline === null) {
    return a.exhausted ? html`<span class="overdue">${t('alert.overdue')}</span>` : null;
  }
  const left = a.deadline - now;
  return html`<span class=${left < 0 ? 'overdue' : 'due'} title=${formatTime(a.deadline)}
    >${left < 0 ? t('alert.overdue_by', { when: relative(left) }) : t('alert.due', { when: relative(left) })}</span
  >`;
}

function Severity({ sev }) {
  return html`<span class=${`sev sev-${sev}`}>${sev}</span>`;
}

export function alertName(a) {
  const key = `alert.${a.type}${a.variant ? `.${a.variant}` : ''}`;
  const v = t(key);
  if (v !== key) return v;
  const base = t(`alert.${a.type}`);
  return base === `alert.${a.type}` ? a.name : base;
}

function PatientLabel({ session, a }) {
  const [title, setTitle] = useState(null);
  useEffect(() => {
    threadTitle(session, a.thread).then(setTitle, () => setTitle(null));
  }, [a.thread]);
  return html`<span>${title ? `${title} · ` : ''}<span class="mono">${a.patient}</span></span>`;
}

function StateLabel({ a }) {
  if (a.state === 'raised' && a.exhausted) {
    return html`<strong class="overdue">${t('alert.unacked_exhausted')}</strong>`;
  }
  return html`<span>${t(`alert.state.${a.state}`)}</span>`;
}

function AckButton({ session, a, onDone }) {
  const act = useAction();
  if (a.state !== 'raised' || !a.owners.includes(session.profile.user)) return null;
  return html`<button
      type="button"
      class="small"
      disabled=${act.busy}
      onClick=${() =>
        act.run(async () => {
          await session.request({ t: 'alert_ack', alert: a.alert });
          onDone();
        })}
    >
      ${t('alert.ack')}
    </button>
    <${ErrorLine} error=${act.error} />`;
}

export function Emergency({ text }) {
  if (!text) return null;
  return html`<p class="emergency" role="alert">${t('alert.emergency', { routes: text })}</p>`;
}

function AlertRow({ session, a, dir, reload }) {
  const mine = a.owners.includes(session.profile.user);
  return html`<tr class=${mine ? 'mine' : ''} data-alert=${a.alert} data-type=${a.type}>
    <td><${Severity} sev=${a.severity} /></td>
    <td>
      <a href=${`#/alerts/${a.alert}`}>${alertName(a)}</a>
      ${a.repeats > 0 && html` <span class="muted">×${a.repeats + 1}</span>`}
      ${mine && html` <span class="badge">${t('alert.yours')}</span>`}
    </td>
    <td><${PatientLabel} session=${session} a=${a} /></td>
    <td><${StateLabel} a=${a} /></td>
    <td><${Deadline} alert=${a} /></td>
    <td>${a.owners.map((o) => nameOf(dir, o)).join(', ')}</td>
    <td><${AckButton} session=${session} a=${a} onDone=${reload} /></td>
  </tr>`;
}

function AlertList({ session }) {
  const [showClosed, setShowClosed] = useState(false);
  const list = useLoad(async () => {
    const [r, dir] = await Promise.all([
      session.request({ t: 'alerts', ...(showClosed ? {} : { open: true }) }),
      directory(session),
    ]);
    return { ...r, dir };
  }, [session, showClosed]);
  useEffect(() => {
    const offs = [
      session.on('alert_event', () => list.reload()),
      session.on('login', () => list.reload()), // what changed while this browser was offline
    ];
    return () => offs.forEach((off) => off());
  }, [session, showClosed]);
  const alerts = list.data?.alerts ?? [];
  const p0 = alerts.find((a) => a.severity === 'P0' && a.state === 'raised');
  const boxId = useId('closed');
  return html`<${Title}>${t('alerts.title')}<//>
    ${p0 && html`<${Emergency} text=${p0.emergency ?? t('alert.phone_now')} />`}
    ${list.data?.warnings?.map((w) => html`<p class="warning">${t(`warn.${w}`)}</p>`)}
    <p>
      <input
        type="checkbox"
        id=${boxId}
        checked=${showClosed}
        onChange=${(e) => setShowClosed(e.currentTarget.checked)}
      />
      <label for=${boxId}>${t('alerts.show_closed')}</label>
    </p>
    <${ErrorLine} error=${list.error} />
    ${list.data && alerts.length === 0 && html`<p role="status">${t('alerts.none')}</p>`}
    ${alerts.length > 0 &&
    html`<${Table} class="alerts" aria-live="polite" caption=${t('alerts.title')} hideCaption
      cols=${[
        t('alert.severity'), t('alert.type'), t('alert.patient'), t('alert.state'),
        t('alert.deadline'), t('alert.owners'), html`<span class="sr-only">${t('actions')}</span>`,
      ]}>
        ${alerts.map(
          (a) => html`<${AlertRow}
            session=${session}
            a=${a}
            dir=${list.data.dir}
            reload=${list.reload}
            key=${a.alert}
          />`,
        )}
    <//>`}`;
}

function ResolveForm({ session, a, onDone }) {
  const safety = isSafety(a);
  const [f, setF] = useState({ code: safety ? 'RISK_ASSESSED' : 'ADDRESSED', outcome: '', note: '' });
  const act = useAction();
  const ids = { code: useId('code'), outcome: useId('out'), note: useId('note') };
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      if (safety && !f.outcome) throw { code: 'OUTCOME_REQUIRED' };
      if (safety && !f.note.trim()) throw { code: 'NOTE_REQUIRED' };
      const frame = { t: 'alert_resolve', alert: a.alert, code: f.code };
      if (f.outcome) frame.outcome = f.outcome;
      if (f.note.trim()) frame.msg_seq = await sendNote(session, a.thread, f.note.trim());
      const r = await session.request(frame);
      onDone(r);
    });
  };
  return html`<form onSubmit=${submit} aria-labelledby="resolve-h">
    <h2 id="resolve-h">${t('alert.resolve')}</h2>
    <div class="field">
      <label for=${ids.code}>${t('alert.resolve.code')}</label>
      <select id=${ids.code} value=${f.code} onChange=${set('code')}>
        ${RESOLVE_CODES.map((c) => html`<option value=${c}>${t(`resolve.${c}`)}</option>`)}
      </select>
    </div>
    <div class="field">
      <label for=${ids.outcome}>
        ${t('alert.resolve.outcome')}${safety ? ` (${t('required')})` : ''}
      </label>
      <select id=${ids.outcome} value=${f.outcome} onChange=${set('outcome')} required=${safety}>
        <option value="">${t('alert.resolve.choose')}</option>
        ${OUTCOMES.map((o) => html`<option value=${o}>${t(`outcome.${o}`)}</option>`)}
      </select>
    </div>
    ${f.outcome === 'imminent' && html`<${Emergency} text=${a.emergency ?? t('alert.phone_now')} />`}
    ${f.outcome === 'high' && html`<p class="warning">${t('alert.resolve.high')}</p>`}
    <div class="field">
      <label for=${ids.note}>${t('alert.resolve.note')}${safety ? ` (${t('required')})` : ''}</label>
      <textarea id=${ids.note} rows="4" value=${f.note} onInput=${set('note')}></textarea>
    </div>
    <${ErrorLine} error=${act.error} />
    <button type="submit" disabled=${act.busy}>${t('alert.resolve.do')}</button>
  </form>`;
}

function AlertDetail({ session, id }) {
  const res = useLoad(async () => {
    const [r, dir] = await Promise.all([
      session.request({ t: 'alert_show', alert: id }),
      directory(session),
    ]);
    return { ...r, dir };
  }, [id]);
  useEffect(
    () => session.on('alert_event', (p) => p.alert?.alert === id && res.reload()),
    [id],
  );
  const [followups, setFollowups] = useState(null);
  if (res.error) return html`<${Title}>${t('alerts.title')}<//><${ErrorLine} error=${res.error} />`;
  if (!res.data) return html`<p>${t('loading')}</p>`;
  const { alert: a, timeline, dir } = res.data;
  const open = a.state === 'raised' || a.state === 'acked';
  return html`<p><a href="#/alerts">${t('alerts.back')}</a></p>
    <${Title}><${Severity} sev=${a.severity} /> ${alertName(a)}<//>
    ${a.severity === 'P0' && open && html`<${Emergency} text=${a.emergency ?? t('alert.phone_now')} />`}
    <dl class="facts">
      <dt>${t('alert.patient')}</dt>
      <dd><${PatientLabel} session=${session} a=${a} /> · <a href=${`#/thread/${a.thread}`}>${t('alert.open_thread')}</a></dd>
      <dt>${t('alert.state')}</dt>
      <dd><${StateLabel} a=${a} /> <${Deadline} alert=${a} /></dd>
      <dt>${t('alert.raised')}</dt>
      <dd><${When} ms=${a.raised} /> · ${a.raised_by ? nameOf(dir, a.raised_by) : t('alert.by_daemon')}</dd>
      <dt>${t('alert.owners')}</dt>
      <dd>${a.owners.map((o) => nameOf(dir, o)).join(', ') || '—'}</dd>
      <dt>${t('alert.cc')}</dt>
      <dd>${a.cc.map((o) => nameOf(dir, o)).join(', ') || '—'}</dd>
      <dt>${t('alert.acked')}</dt>
      <dd><${When} ms=${a.acked} />${a.acked_by ? ` · ${nameOf(dir, a.acked_by)}` : ''}</dd>
      <dt>${t('alert.resolved')}</dt>
      <dd>
        <${When} ms=${a.resolved} />${a.resolution ? ` · ${t(`resolve.${a.resolution}`)}` : ''}${a.outcome
          ? ` · ${t(`outcome.${a.outcome}`)}`
          : ''}
      </dd>
    </dl>
    <${AckButton} session=${session} a=${a} onDone=${res.reload} />
    <h2>${t('alert.timeline')}</h2>
    <ol class="timeline">
      ${timeline.map(
        (e) => html`<li>
          <${When} ms=${e.ts} /> — ${t(`event.${e.event}`)}${e.by ? ` · ${nameOf(dir, e.by)}` : ''}${e.to?.length
            ? ` → ${e.to.map((u) => nameOf(dir, u)).join(', ')}`
            : ''}${e.detail ? html` <span class="muted">(${e.detail})</span>` : ''}
        </li>`,
      )}
    </ol>
    ${followups?.length > 0 &&
    html`<p role="status">${t('alert.followups', { count: followups.length })}</p>`}
    ${open &&
    html`<${ResolveForm}
      session=${session}
      a=${a}
      onDone=${(r) => {
        setFollowups(r.followups ?? []);
        res.reload();
      }}
    />`}`;
}

export function AlertsScreen({ session, route }) {
  return route[1]
    ? html`<${AlertDetail} session=${session} id=${route[1]} />`
    : html`<${AlertList} session=${session} />`;
}
