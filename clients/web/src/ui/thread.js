// thread.js - one caseload thread: its messages decrypted here (text, scale records, alert
// notes, titles), each with who sent it and the delivered/read marks of the other members
// (`receipts`), the timeline of scales and the thread's alerts, a composer whose draft is kept
// sealed in IndexedDB (it survives a reload or a lost connection: a send waits in the outbox
// and goes again with the same bytes), the PHQ-9/GAD-7 form and the form that raises an alert
// by hand.
import { html, useEffect, useRef, useState } from './html.js';
import { t } from '../app/i18n.js';
import { CONTENT } from '../protocol/envelope_core.js';
import { scoreScale } from '../protocol/scales.js';
import { getLocal, openLocal, putLocal, sealLocal } from '../app/keystore.js';
import { sendText, threadStore } from '../app/threads.js';
import { directory, nameOf } from '../app/people.js';
import { ErrorLine, Title, When, useAction, useId, useLoad } from './common.js';
import { ScaleForm } from './scaleform.js';
import { Deadline } from './alerts.js';
import { RaiseForm, manualTypes } from './raise.js';

const TEXT = new TextEncoder();
const UTF8 = new TextDecoder();
const DRAFT_SAVE_MS = 300;

/** The draft of a thread, sealed with this device's key (never in clear on disk). */
function useDraft(profile, thread) {
  const [draft, setDraft] = useState('');
  const [loaded, setLoaded] = useState(false);
  const timer = useRef(null);
  const key = `draft:${thread}`;
  useEffect(() => {
    getLocal(key)
      .then((box) => (box ? openLocal(profile, key, box) : null))
      .then((b) => b && setDraft(UTF8.decode(b)))
      .catch(() => {})
      .finally(() => setLoaded(true));
  }, [thread]);
  const update = (text) => {
    setDraft(text);
    clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      putLocal(key, text ? await sealLocal(profile, key, TEXT.encode(text)) : null);
    }, DRAFT_SAVE_MS);
  };
  const flushNow = async (text) => {
    clearTimeout(timer.current);
    await putLocal(key, text ? await sealLocal(profile, key, TEXT.encode(text)) : null);
  };
  return { draft, loaded, update, flushNow };
}

function scaleSummary(rec) {
  const parts = [];
  for (const [k, label] of [['phq9', 'PHQ-9'], ['gad7', 'GAD-7'], ['phq2', 'PHQ-2']]) {
    if (!rec[k]) continue;
    const s = scoreScale(k, rec[k]);
    parts.push(`${label} ${s.total ?? '?'}${s.band ? ` (${t(`band.${s.band}`)})` : ''}`);
    if (k === 'phq9' && rec.phq9[8] > 0) parts.push(t('caseload.item9', { value: rec.phq9[8] }));
  }
  if (rec.kind === 'plan') parts.push(t('thread.plan', { drug: rec.antidepressant ? t('yes') : t('no') }));
  if (rec.kind === 'rp_plan') parts.push(t('thread.rp_plan'));
  return `${rec.date} · ${parts.join(' · ')}`;
}

function Body({ m }) {
  if (m.status === 'refused') {
    return html`<p class="error">${t('thread.refused', { code: m.code })}</p>`;
  }
  switch (m.contentType) {
    case CONTENT.TEXT:
      return html`<p class="text">${m.text}</p>`;
    case CONTENT.THREAD_TITLE:
      return html`<p class="muted">${t('thread.title_set', { title: m.text })}</p>`;
    case CONTENT.ALERT_NOTE:
      return html`<p class="text"><span class="badge">${t('thread.note')}</span> ${m.text}</p>`;
    case CONTENT.SCALE:
      return m.record
        ? html`<p><span class="badge">${t('thread.scales')}</span> ${scaleSummary(m.record)}</p>`
        : html`<p class="error">${m.notes.join('; ')}</p>`;
    case CONTENT.RECOMMENDATION:
      return html`<p><span class="badge">${t('thread.rec')}</span> ${t('thread.rec_see')}</p>`;
    case CONTENT.PATIENT_CARD:
      return html`<p><span class="badge">${t('thread.card')}</span></p>`;
    default:
      return html`<p class="muted">${t('thread.unsupported')}</p>`;
  }
}

function Marks({ m, receipts, me }) {
  if (m.sender !== me || !receipts) return null;
  const others = receipts.members.filter((r) => r.user !== me);
  const read = others.filter((r) => r.read >= m.seq).length;
  const delivered = others.filter((r) => r.delivered >= m.seq).length;
  return html` <span class="marks muted" data-read=${read} data-delivered=${delivered}>
    ${t('thread.marks', { delivered, read, n: others.length })}</span
  >`;
}

function Composer({ session, thread }) {
  const d = useDraft(session.profile, thread);
  const act = useAction();
  const id = useId('msg');
  const send = (e) => {
    e.preventDefault();
    const text = d.draft.trim();
    if (!text) return;
    act.run(async () => {
      await sendText(session, thread, text);
      d.update('');
      await d.flushNow('');
    });
  };
  return html`<form class="composer" onSubmit=${send}>
    <label for=${id}>${t('thread.write')}</label>
    <textarea
      id=${id}
      rows="3"
      value=${d.draft}
      disabled=${!d.loaded}
      onInput=${(e) => d.update(e.currentTarget.value)}
    ></textarea>
    <${ErrorLine} error=${act.error} />
    <button type="submit" disabled=${act.busy || !d.draft.trim()}>
      ${act.busy ? t('thread.sending') : t('thread.send')}
    </button>
  </form>`;
}

export function ThreadScreen({ session, route }) {
  const thread = route[1];
  const store = threadStore(session);
  const data = useLoad(async () => {
    const [e, receipts, alerts, dir] = await Promise.all([
      store.get(thread, { roster: true }),
      session.request({ t: 'receipts', thread }),
      session.request({ t: 'alerts', thread, limit: 100 }),
      directory(session),
    ]);
    return { e, receipts, alerts: alerts.alerts, dir };
  }, [thread]);
  useEffect(
    () => store.subscribe((th) => th === thread && data.reload()),
    [thread],
  );
  useEffect(() => session.on('alert_event', (p) => p.alert?.thread === thread && data.reload()), [thread]);
  const [tab, setTab] = useState('messages');
  const last = data.data?.e.roster.lastSeq ?? 0;
  useEffect(() => {
    if (last > 0) {
      store.e2e.cursor(thread, false, last).catch(() => {});
      store.e2e.cursor(thread, true, last).catch(() => {});
    }
  }, [last]);
  if (data.error) return html`<${Title}>${t('thread.title')}<//><${ErrorLine} error=${data.error} />`;
  if (!data.data) return html`<p role="status">${t('loading')}</p>`;
  const { e, receipts, alerts, dir } = data.data;
  const me = session.profile.user;
  const names = new Map(e.roster.members.map((m) => [m.user, m.name]));
  const who = (u) => names.get(u) ?? nameOf(dir, u);
  const canRecord = ['nurse', 'psychiatrist', 'gp'].includes(session.profile.role);
  const tabs = ['messages', 'timeline', ...(canRecord ? ['scales'] : []),
    ...(manualTypes(session.profile.role).length ? ['raise'] : [])];
  return html`<${Title}>${e.title ?? t('thread.untitled')} <span class="mono muted">${e.roster.patient}</span><//>
    <p class="muted">${t('thread.members')}: ${e.roster.members.map((m) => `${m.name} (${t(`role.${m.role}`)})`).join(', ')}</p>
    <div role="tablist" class="tabs" aria-label=${t('thread.views')}>
      ${tabs.map(
        (name) => html`<button
          type="button"
          role="tab"
          class=${tab === name ? 'tab active' : 'tab'}
          aria-selected=${tab === name}
          onClick=${() => setTab(name)}
        >
          ${t(`thread.tab.${name}`)}
        </button>`,
      )}
    </div>
    ${tab === 'messages' &&
    html`<section aria-label=${t('thread.tab.messages')}>
      <ol class="messages" aria-live="polite">
        ${e.messages.map(
          (m) => html`<li class=${m.sender === me ? 'mine' : ''} data-seq=${m.seq} data-type=${m.contentType}>
            <p class="meta">
              <strong>${who(m.sender)}</strong> · <${When} ms=${m.ts} />
              ${m.status === 'unverified' && html` · <span class="warning">${t('thread.unverified')}</span>`}
              <${Marks} m=${m} receipts=${receipts} me=${me} />
            </p>
            <${Body} m=${m} />
          </li>`,
        )}
      </ol>
      ${e.messages.length === 0 && html`<p>${t('thread.empty')}</p>`}
      ${canRecord && html`<${Composer} session=${session} thread=${thread} />`}
    </section>`}
    ${tab === 'timeline' &&
    html`<section aria-label=${t('thread.tab.timeline')}>
      <ol class="timeline">
        ${[
          ...e.messages.filter((m) => m.record).map((m) => ({ ts: m.ts, kind: 'scale', m })),
          ...alerts.map((a) => ({ ts: a.raised, kind: 'alert', a })),
        ]
          .sort((x, y) => x.ts - y.ts)
          .map((it) =>
            it.kind === 'scale'
              ? html`<li><${When} ms=${it.ts} /> — ${scaleSummary(it.m.record)}</li>`
              : html`<li>
                  <${When} ms=${it.ts} /> — <a href=${`#/alerts/${it.a.alert}`}>${it.a.type} ${it.a.name}</a>
                  (${it.a.severity}, ${t(`alert.state.${it.a.state}`)}) <${Deadline} alert=${it.a} />
                </li>`,
          )}
      </ol>
    </section>`}
    ${tab === 'scales' && canRecord && html`<${ScaleForm} session=${session} thread=${thread} onDone=${data.reload} />`}
    ${tab === 'raise' && html`<${RaiseForm} session=${session} thread=${thread} onDone=${data.reload} />`}`;
}
