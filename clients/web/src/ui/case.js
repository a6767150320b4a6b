// case.js - one case opened from the agenda (#/case/THREAD[/SESSION]: the session whose agenda
// it was opened from, else the one the queue puts it on): the nurse's latest summary for the
// review, the PHQ-9/GAD-7 chart with the plan changes, the open alerts, the earlier
// recommendations and their states, the episode META and its place on the queue; then the
// review outcome and the structured recommendation to the GP. The pieces: case_panels.js,
// case_chart.js, case_outcome.js, recform.js.
import { html, useEffect, useRef } from './html.js';
import { t } from '../app/i18n.js';
import { threadStore } from '../app/threads.js';
import { directory } from '../app/people.js';
import { QUESTION_CODES } from '../protocol/recommend.js';
import { ErrorLine, Title, useLoad } from './common.js';
import { CaseChart } from './case_chart.js';
import { EarlierRecs, EpisodeFacts, NurseSummary, OpenAlerts } from './case_panels.js';
import { OutcomeForm } from './case_outcome.js';
import { RecForm } from './recform.js';
import { dayOf } from './review_util.js';

/** Everything the case shows, fetched together. */
async function loadCase(session, thread, sessionId) {
  const [e, alerts, recs, queue, dir, agenda] = await Promise.all([
    threadStore(session).get(thread, { roster: true }),
    session.request({ t: 'alerts', thread, open: true, limit: 100 }),
    session.request({ t: 'recs', thread, limit: 100 }),
    session.request({ t: 'queue', thread }).catch(() => ({ entries: [] })),
    directory(session),
    sessionId ? session.request({ t: 'agenda', session: sessionId }).catch(() => null) : null,
  ]);
  const row = agenda?.rows.find((r) => r.thread === thread);
  // the case as that agenda has it, else as the queue has it
  const entry = row ? { ...row, session: agenda.session } : (queue.entries[0] ?? null);
  return { e, alerts: alerts.alerts, recs: recs.recs, entry, dir };
}

/** The question the case is reviewed for, from the queue entry's first reason. */
const AS_QUESTION = { severe: 'not_improving', worsening: 'not_improving', relapse: 'not_improving',
  declined: 'request', aging: 'other' };
function questionOf(entry) {
  const code = entry?.reasons?.[0]?.code;
  const q = AS_QUESTION[code] ?? code;
  return QUESTION_CODES.includes(q) ? q : 'other';
}

function Section({ id, title, children }) {
  return html`<section class="case-part" aria-labelledby=${id}>
    <h2 id=${id}>${title}</h2>
    ${children}
  </section>`;
}

/** The case screen. */
export function CaseScreen({ session, route }) {
  const thread = route[1];
  const data = useLoad(() => loadCase(session, thread, route[2]), [thread]);
  // the session the case was on when it was opened: an outcome takes it off the queue
  const onSession = useRef(undefined);
  useEffect(() => threadStore(session).subscribe((th) => th === thread && data.reload()), [thread]);
  if (!thread) return html`<${Title}>${t('nav.case')}<//><p>${t('case.pick')}</p>`;
  if (data.error) return html`<${Title}>${t('nav.case')}<//><${ErrorLine} error=${data.error} />`;
  if (!data.data) return html`<p role="status">${t('loading')}</p>`;
  const { e, alerts, recs, entry, dir } = data.data;
  if (onSession.current === undefined) onSession.current = entry?.session ?? null;
  const reviewDay = onSession.current ? dayOf(onSession.current.start) : -1;
  const records = e.messages.filter((m) => m.record).map((m) => m.record);
  const gps = e.roster.members.filter((m) => m.role === 'gp');
  return html`<${Title}>${e.title ?? t('thread.untitled')} <span class="mono muted">${e.roster.patient}</span><//>
    <p class="case-links"><a href="#/review">${t('case.back')}</a> · <a href=${`#/thread/${thread}`}>${t('case.open_thread')}</a></p>
    <div class="case-top">
      <${Section} id="case-summary-h" title=${t('case.summary')}>
        <${NurseSummary} messages=${e.messages} members=${e.roster.members} />
      <//>
      <${Section} id="case-episode-h" title=${t('case.episode')}>
        <${EpisodeFacts} meta=${e.roster.meta} entry=${entry} />
      <//>
    </div>
    <${Section} id="case-chart-h" title=${t('case.chart')}>
      <${CaseChart} records=${records} />
    <//>
    <${Section} id="case-alerts-h" title=${t('case.alerts')}>
      <${OpenAlerts} alerts=${alerts} />
    <//>
    <${Section} id="case-recs-h" title=${t('case.recs')}>
      <${EarlierRecs} recs=${recs} messages=${e.messages} dir=${dir} />
    <//>
    <${OutcomeForm} session=${session} thread=${thread} onDone=${data.reload} />
    <${RecForm} session=${session} thread=${thread} gps=${gps} reviewDay=${reviewDay}
      questionCode=${questionOf(entry)} onSent=${data.reload} />`;
}
