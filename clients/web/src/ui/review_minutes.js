// review_minutes.js - the minutes of a held session (PROTOCOL.md §15 `review_minutes`): the
// attendees chosen from the team directory (1 to 16; the psychiatrist ticked to begin with, or
// those of the minutes recorded before), then what the server recorded: when, who attended, and
// the cases discussed with their outcomes (from the frozen agenda once recorded).
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { directory, nameOf } from '../app/people.js';
import { When, useAction, useLoad } from './common.js';
import { ErrorCode, PatientName, outcomeWords } from './review_util.js';

const ATTENDEES_MAX = 16;
const CLINICIANS = ['psychiatrist', 'nurse', 'gp'];

function Recorded({ session, m, dir }) {
  return html`<div class="minutes-result" role="status" data-testid="minutes-result">
    <p>${t('review.minutes_recorded')} <${When} ms=${m.recorded} /></p>
    <p>${t('review.attended')}${t('review.colon')}${m.attended.map((u) => nameOf(dir, u)).join(', ')}</p>
    <table class="discussed">
      <caption>${t('review.discussed', { n: m.discussed.length })}</caption>
      <thead>
        <tr><th scope="col">${t('review.patient')}</th><th scope="col">${t('review.outcome')}</th></tr>
      </thead>
      <tbody>
        ${m.discussed.map(
          (d) => html`<tr data-thread=${d.thread} key=${d.thread}>
            <th scope="row"><a href=${`#/case/${d.thread}`}><${PatientName} session=${session} thread=${d.thread} patient=${d.patient} /></a></th>
            <td>${d.outcome ? outcomeWords(d.outcome) : html`<span class="muted">${t('review.no_outcome')}</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

/**
 * The minutes form of a held session (sessionId). stored: the frozen agenda's `minutes_record`
 * (shown, and its attendees ticked, when the minutes were recorded before; recording again
 * replaces them).
 */
export function MinutesForm({ session, sessionId, stored = null }) {
  const dir = useLoad(() => directory(session), [session]);
  const me = session.profile.user;
  const before = stored?.recorded ? stored : null;
  const [chosen, setChosen] = useState(before ? before.attended : [me]);
  const [done, setDone] = useState(before);
  const act = useAction();
  const team = [...(dir.data?.values() ?? [])].filter((u) => CLINICIANS.includes(u.role));
  const toggle = (u) => setChosen(chosen.includes(u) ? chosen.filter((x) => x !== u) : [...chosen, u]);
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => setDone(await session.request({ t: 'review_minutes', session: sessionId, attended: chosen })));
  };
  return html`<form class="minutes" onSubmit=${submit} aria-labelledby="minutes-h">
    <h2 id="minutes-h">${t('review.minutes')}</h2>
    <fieldset>
      <legend>${t('review.attendees', { max: ATTENDEES_MAX })}</legend>
      ${team.map(
        (u) => html`<label class="choice">
          <input type="checkbox" value=${u.user} checked=${chosen.includes(u.user)} onChange=${() => toggle(u.user)} />
          ${u.name} (${t(`role.${u.role}`)})
        </label>`,
      )}
    </fieldset>
    <${ErrorCode} error=${act.error} />
    <button type="submit" disabled=${act.busy || chosen.length === 0 || chosen.length > ATTENDEES_MAX}>
      ${t('review.minutes_do')}
    </button>
    ${done && html`<${Recorded} session=${session} m=${done} dir=${dir.data} />`}
  </form>`;
}
