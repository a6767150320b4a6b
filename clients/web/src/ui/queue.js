// queue.js - the case-review queue for the nurse (PROTOCOL.md §15 "The queue"): where each of her
// patients stands (`queue`: position on the next agenda, tier and its reasons in words, due date,
// the session and whether the case fits in its capacity, deferrals), and putting a patient on
// it with a team request (`queue_add` with one of the §15 request codes).
import { html, useEffect, useState } from './html.js';
import { t } from '../app/i18n.js';
import { listThreads, threadStore } from '../app/threads.js';
import { directory, nameOf } from '../app/people.js';
import { ErrorLine, Table, Title, When, useAction, useId, useLoad } from './common.js';
import { promotionWords, reasonWords, tierMeaning } from './review_util.js';

/** The request codes of `queue_add`. */
export const REQUEST_CODES = Object.freeze(['DIAGNOSIS', 'MEDICATION', 'SIDE_EFFECTS', 'ADHERENCE',
  'RISK', 'PSYCHOSOCIAL', 'TREATMENT_RESPONSE', 'OTHER']);

async function loadQueue(session) {
  const store = threadStore(session);
  const [threads, queue, dir] = await Promise.all([
    listThreads(session),
    session.request({ t: 'queue' }),
    directory(session),
  ]);
  const titles = new Map();
  const ended = new Set(); // closed episodes: off the queue, a request would be BAD_STATE
  for (const th of threads) {
    const e = await store.get(th.thread, { roster: true }).catch(() => null);
    titles.set(th.thread, e?.title ?? null);
    if (Number.isInteger(e?.roster?.meta?.closed)) ended.add(th.thread);
  }
  // in agenda order (the next session's position), those without a place last
  const at = (e) => (Number.isInteger(e.position) && e.position > 0 ? e.position : Infinity);
  const entries = [...queue.entries].sort((a, b) => at(a) - at(b));
  const name = (th) => titles.get(th.thread) ?? th.patient ?? '';
  const sorted = threads.filter((th) => !ended.has(th.thread))
    .sort((a, b) => name(a).localeCompare(name(b)));
  return { threads: sorted, entries, titles, dir };
}

function Reasons({ entry }) {
  return html`<ul class="reasons">
    ${entry.reasons.map((r, i) => html`<li key=${i} data-code=${r.code}>
      ${reasonWords(r.code)}${' '}<span class="muted">· ${t('rqueue.since')} <${When} ms=${r.since} dateOnly /> · ${t('review.due')} <${When} ms=${r.due} dateOnly /></span>
    </li>`)}
    ${entry.promoted && html`<li class="muted">${promotionWords(entry)}</li>`}
  </ul>`;
}

function Place({ entry, dir }) {
  if (!entry.session) return html`<span>${t('rqueue.no_session')}</span>`;
  const s = entry.session;
  return html`<span>
    ${t('rqueue.position', { n: entry.position })} · <${When} ms=${s.start} /> · ${nameOf(dir, s.psychiatrist)}
    <br />${entry.in ? html`<span class="in-capacity">${t('rqueue.in')}</span>`
      : html`<strong class="overdue">${t('rqueue.out')}</strong>`}
  </span>`;
}

function Entries({ data }) {
  if (data.entries.length === 0) return html`<p role="status">${t('rqueue.empty')}</p>`;
  return html`<${Table} class="queue" caption=${t('rqueue.list')} hideCaption
      cols=${[
        t('rqueue.patient'), t('rqueue.tier'), t('rqueue.reasons'), t('rqueue.due'),
        t('rqueue.place'), t('rqueue.deferrals'),
      ]}>
      ${data.entries.map((e) => html`<tr key=${e.thread} data-thread=${e.thread} data-tier=${e.tier}>
        <th scope="row"><a href=${`#/thread/${e.thread}`}>${data.titles.get(e.thread) ?? e.patient}</a>
          <br /><span class="mono muted">${e.patient}</span></th>
        <td><strong class="tier">${e.tier}</strong><br /><span class="muted">${tierMeaning(e.tier)}</span></td>
        <td><${Reasons} entry=${e} /></td>
        <td><${When} ms=${e.due} dateOnly />${e.due < Date.now()
          ? html`<br /><strong class="overdue">${t('recs.overdue')}</strong>` : ''}</td>
        <td><${Place} entry=${e} dir=${data.dir} /></td>
        <td>${e.deferrals ?? 0}</td>
      </tr>`)}
    <//>`;
}

function AddForm({ session, data, onDone }) {
  const [thread, setThread] = useState('');
  const [reason, setReason] = useState('');
  const [done, setDone] = useState(null);
  const act = useAction();
  const ids = { thread: useId('qthread'), reason: useId('qreason') };
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const r = await session.request({ t: 'queue_add', thread, reason });
      setDone(r);
      onDone();
    });
  };
  return html`<form class="queue-add" onSubmit=${submit}>
    <h2>${t('rqueue.add')}</h2>
    <div class="field">
      <label for=${ids.thread}>${t('rqueue.patient')}</label>
      <select id=${ids.thread} required value=${thread} onChange=${(e) => setThread(e.currentTarget.value)}>
        <option value="">${t('rqueue.choose_patient')}</option>
        ${data.threads.map((th) => html`<option key=${th.thread} value=${th.thread}>
          ${data.titles.get(th.thread) ?? th.patient} (${th.patient})</option>`)}
      </select>
    </div>
    <div class="field">
      <label for=${ids.reason}>${t('rqueue.request_reason')}</label>
      <select id=${ids.reason} required value=${reason} onChange=${(e) => setReason(e.currentTarget.value)}>
        <option value="">${t('rqueue.choose_reason')}</option>
        ${REQUEST_CODES.map((c) => html`<option key=${c} value=${c}>${t(`rqueue.request.${c}`)}</option>`)}
      </select>
    </div>
    <${ErrorLine} error=${act.error} />
    <button type="submit" disabled=${act.busy || !thread || !reason}>${t('rqueue.add_do')}</button>
    ${done && html`<p role="status" data-testid="queued">${t('rqueue.added', { reason: t(`rqueue.request.${done.reason}`) })}</p>`}
  </form>`;
}

/**
 * The queue screen.
 * @param {{session: object}} props
 */
export function QueueScreen({ session }) {
  const q = useLoad(() => loadQueue(session), [session]);
  useEffect(() => session.on('thread_meta', () => q.reload()), [session]);
  return html`<${Title}>${t('rqueue.title')}<//>
    <p class="muted">${t('rqueue.intro')}</p>
    <${ErrorLine} error=${q.error} />
    ${!q.data && !q.error && html`<p role="status">${t('loading')}</p>`}
    ${q.data && html`<section aria-labelledby="queue-list-h">
      <h2 id="queue-list-h">${t('rqueue.list')}</h2>
      <${Entries} data=${q.data} />
    </section>
    <${AddForm} session=${session} data=${q.data} onDone=${q.reload} />`}`;
}
