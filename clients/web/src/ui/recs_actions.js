// recs_actions.js - the loop's steps on one recommendation (PROTOCOL.md §16 Requests), shown only
// to whoever may take them: the addressed GP acknowledges (`rec_ack`, an explicit button), decides
// (`rec_decide`: accepted, or modified / declined with a reason that is first sent as an
// end-to-end encrypted text message of the thread, named by its `reason_seq`, worded as
// `sesame rec decide` words it) and marks it implemented (`rec_implemented`); a nurse of the
// thread verifies an implemented one at the next contact (`rec_verify`).
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { ErrorLine, useAction, useId } from './common.js';
import { sendText } from '../app/threads.js';

export const DECISIONS = Object.freeze(['accepted', 'modified', 'declined']);
export const REASON_MAX = 1000; // SES_REC_TEXT_MAX

/** The thread message that carries the GP's reason, as the CLI writes it. */
export function reasonMessage(rec, decision, reason) {
  return `Decision on recommendation ${rec.rec.slice(0, 8)} (${decision}): ${reason}`;
}

/**
 * Records the GP's decision: for modified and declined the reason goes to the thread first.
 * @returns {Promise<object>} the server's `rec` reply
 * @throws {{code: string}} REASON_REQUIRED before anything is sent when a reason is needed and empty
 */
export async function decide(session, rec, decision, reason) {
  const text = reason.trim();
  const req = { t: 'rec_decide', rec: rec.rec, decision };
  if (decision !== 'accepted' && text === '') throw Object.assign(new Error('reason'), { code: 'REASON_REQUIRED' });
  if (new TextEncoder().encode(text).length > REASON_MAX) throw Object.assign(new Error('reason'), { code: 'REASON_TOO_LONG' });
  if (text !== '') {
    const sent = await sendText(session, rec.thread, reasonMessage(rec, decision, text));
    req.reason_seq = sent.seq;
  }
  return session.request(req);
}

function StepButton({ session, type, rec, label, onDone }) {
  const act = useAction();
  const go = () => act.run(async () => {
    await session.request({ t: type, rec: rec.rec });
    onDone();
  });
  return html`<div class="rec-step">
    <button type="button" onClick=${go} disabled=${act.busy} data-step=${type}>${label}</button>
    <${ErrorLine} error=${act.error} />
  </div>`;
}

function DecideForm({ session, rec, onDone }) {
  const [decision, setDecision] = useState('');
  const [reason, setReason] = useState('');
  const act = useAction();
  const reasonId = useId('reason');
  const hintId = useId('hint');
  const needsReason = decision === 'modified' || decision === 'declined';
  const submit = (e) => {
    e.preventDefault();
    if (!decision) return act.setError({ code: 'DECISION_REQUIRED' });
    return act.run(async () => {
      await decide(session, rec, decision, reason);
      onDone();
    });
  };
  return html`<form class="rec-decide" onSubmit=${submit} noValidate>
    <fieldset>
      <legend>${t('recs.decide')}</legend>
      ${DECISIONS.map((d) => html`<label class="choice" key=${d}>
        <input type="radio" name="decision" value=${d} checked=${decision === d}
          onChange=${() => setDecision(d)} />
        ${t(`recs.decision.${d}`)}
      </label>`)}
    </fieldset>
    <div class="field">
      <label for=${reasonId}>${t('recs.reason_label')}${needsReason ? html` <span class="muted">(${t('recs.required')})</span>` : ''}</label>
      <textarea id=${reasonId} rows="3" maxlength=${REASON_MAX} aria-describedby=${hintId}
        aria-required=${needsReason} value=${reason} onInput=${(e) => setReason(e.currentTarget.value)}></textarea>
      <p id=${hintId} class="muted">${t('recs.reason_hint')}</p>
    </div>
    <${ErrorLine} error=${act.error} />
    <button type="submit" disabled=${act.busy}>${t('recs.decide_do')}</button>
  </form>`;
}

/**
 * The steps the signed-in user may take on the recommendation now, or a line saying whose turn it is.
 * @param {{session: object, d: object, onDone: () => void}} props d: loadRec's result
 */
export function RecActions({ session, d, onDone }) {
  const { rec } = d;
  const me = session.profile.user;
  const role = session.profile.role;
  const isGp = role === 'gp' && rec.gp === me;
  const isNurse = role === 'nurse' && d.entry.roster.members.some((m) => m.user === me);
  let body = null;
  if (isGp && rec.state === 'sent') {
    body = html`<p>${t('recs.ack_hint')}</p>
      <${StepButton} session=${session} type="rec_ack" rec=${rec} label=${t('recs.ack_do')} onDone=${onDone} />`;
  } else if (isGp && rec.state === 'acknowledged') {
    body = html`<${DecideForm} session=${session} rec=${rec} onDone=${onDone} />`;
  } else if (isGp && (rec.state === 'accepted' || rec.state === 'modified')) {
    body = html`<${StepButton} session=${session} type="rec_implemented" rec=${rec} label=${t('recs.implemented_do')} onDone=${onDone} />`;
  } else if (isNurse && rec.state === 'implemented') {
    body = html`<p>${t('recs.verify_hint')}</p>
      <${StepButton} session=${session} type="rec_verify" rec=${rec} label=${t('recs.verify_do')} onDone=${onDone} />`;
  } else {
    body = html`<p class="muted" data-testid="rec-next">${t(`recs.next.${rec.state}`)}</p>`;
  }
  return html`<section class="rec-actions" aria-labelledby="rec-actions-h">
    <h2 id="rec-actions-h">${t('recs.actions')}</h2>
    ${body}
  </section>`;
}
