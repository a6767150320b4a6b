// case_outcome.js - recording a case's review outcome (PROTOCOL.md §15 `review_outcome`): the
// outcome and the next review date, required but for a discharge and within a year (checked
// here first: the problem is shown next to the date, marked invalid, and the focus moves
// there); a refusal by the server shows its error code. The date travels as the CLI sends it:
// the day's midnight UTC.
import { html, useRef, useState } from './html.js';
import { t } from '../app/i18n.js';
import { When, useAction, useId } from './common.js';
import {
  DAY_MS, Day, ErrorCode, dayOf, NEXT_REVIEW_MAX_DAYS, OUTCOMES, dayInput, inputDay, outcomeWords, todayDay,
} from './review_util.js';

/** Why the next review date cannot go, as a label key, or null. */
export function nextReviewProblem(outcome, value, today = todayDay()) {
  if (!value) return outcome === 'DISCHARGE' ? null : 'case.outcome.next_required';
  const day = inputDay(value);
  if (day === null) return 'case.outcome.next_invalid';
  if (day <= today || day > today + NEXT_REVIEW_MAX_DAYS) return 'case.outcome.next_range';
  return null;
}

/** The outcome form of a thread; onDone(reply) after the server recorded it. */
export function OutcomeForm({ session, thread, onDone }) {
  const [outcome, setOutcome] = useState('CONTINUE');
  const [next, setNext] = useState('');
  const [problem, setProblem] = useState(null);
  const [done, setDone] = useState(null);
  const act = useAction();
  const ids = { outcome: useId('oc'), next: useId('nr'), err: useId('nre') };
  const dateRef = useRef(null);
  const today = todayDay();
  const submit = (e) => {
    e.preventDefault();
    const p = nextReviewProblem(outcome, next, today);
    setProblem(p);
    if (p) {
      dateRef.current?.focus();
      return;
    }
    act.run(async () => {
      const req = { t: 'review_outcome', thread, outcome };
      if (next) req.next_review = inputDay(next) * DAY_MS;
      const r = await session.request(req);
      setDone(r);
      onDone?.(r);
    });
  };
  return html`<form class="outcome" onSubmit=${submit} noValidate aria-labelledby="outcome-h">
    <h2 id="outcome-h">${t('case.outcome')}</h2>
    <div class="inline-form">
      <div class="field">
        <label for=${ids.outcome}>${t('case.outcome.code')}</label>
        <select id=${ids.outcome} value=${outcome} onChange=${(e) => setOutcome(e.currentTarget.value)}>
          ${OUTCOMES.map((o) => html`<option value=${o}>${outcomeWords(o)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for=${ids.next}>${t('case.outcome.next')}${outcome === 'DISCHARGE' ? ` (${t('case.optional')})` : ''}</label>
        <input id=${ids.next} ref=${dateRef} type="date" value=${next}
          min=${dayInput(today + 1)} max=${dayInput(today + NEXT_REVIEW_MAX_DAYS)}
          aria-required=${outcome !== 'DISCHARGE'} aria-invalid=${problem ? 'true' : 'false'}
          aria-describedby=${problem ? ids.err : undefined}
          onInput=${(e) => setNext(e.currentTarget.value)} />
        ${problem && html`<p class="field-error" id=${ids.err}>${t(problem)}</p>`}
      </div>
      <button type="submit" disabled=${act.busy}>${t('case.outcome.do')}</button>
    </div>
    <${ErrorCode} error=${act.error} />
    ${done &&
    html`<p role="status" class="result" data-testid="outcome-result">
      ${t('case.outcome.recorded', { outcome: outcomeWords(outcome) })}
      ${done.meta?.next_review ? html` ${t('case.next_review')}${t('review.colon')}<${Day} day=${dayOf(done.meta.next_review)} />.` : ''}
      ${done.session ? ` ${t('case.outcome.on_session')}` : ` ${t('case.outcome.no_session')}`}
    </p>`}
  </form>`;
}
