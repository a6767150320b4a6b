// review_util.js - small helpers the case-review screens share (PROTOCOL.md §15): days as the
// CLI counts them (UTC days since 1970, a day's time = its midnight UTC), "today" from the
// page's clock, a day shown in the user's locale, the words for tiers, reasons, promotions and
// outcomes, and the patient's name (the encrypted title) of a thread.
import { html, useEffect, useState } from './html.js';
import { formatTime, t } from '../app/i18n.js';
import { dayFormat, dayParse } from '../protocol/scales.js';
import { threadTitle } from '../app/threads.js';

export const DAY_MS = 86400000;
export const OUTCOMES = ['RECOMMENDATION', 'CONTINUE', 'REFER', 'RELAPSE_PREVENTION', 'DISCHARGE',
  'RENEW_SEQUENCE'];
/** The furthest a next review may be set (the server allows "within a year"). */
export const NEXT_REVIEW_MAX_DAYS = 365;

/** Today as days since 1970-01-01 (UTC), from the page's clock. */
export function todayDay() {
  return Math.floor(Date.now() / DAY_MS);
}

/** The UTC day of a time in ms. */
export function dayOf(ms) {
  return Math.floor(ms / DAY_MS);
}

/** A day number as the value of an <input type="date">. */
export function dayInput(day) {
  return dayFormat(day);
}

/** An <input type="date"> value as a day number, or null when it is not a date. */
export function inputDay(value) {
  try {
    return dayParse(value);
  } catch {
    return null;
  }
}

/** A day number in the user's locale (the day itself, whatever the user's zone). */
export function Day({ day }) {
  if (day === null || day === undefined || day < 0) return html`<span aria-label=${t('none')}>—</span>`;
  return html`<time datetime=${dayFormat(day)}
    >${formatTime(day * DAY_MS, { dateStyle: 'medium', timeZone: 'UTC' })}</time
  >`;
}

/** What a tier means ("new patient"). */
export function tierMeaning(tier) {
  return t(`review.tier.${tier}`);
}

/** "T2 · new patient": a tier with its words. */
export function tierWords(tier) {
  return `${tier} · ${tierMeaning(tier)}`;
}

/** Why a queue entry or agenda row was moved up ("moved up from T2: deferred twice"; without the
 * "moved up from" when the tier stayed), or "" when it was not. */
export function promotionWords(entry) {
  if (!entry.promoted) return '';
  const from = entry.base_tier !== entry.tier ? t('review.promoted_from', { tier: entry.base_tier }) : '';
  return from + t(`review.promoted.${entry.promoted}`);
}

/** A queue reason code in words (unknown codes as they are). */
export function reasonWords(code) {
  const k = `review.reason.${code}`;
  const v = t(k);
  return v === k ? code : v;
}

/** An outcome code in words, or a dash. */
export function outcomeWords(code) {
  if (!code) return '—';
  const k = `review.outcome.${code}`;
  const v = t(k);
  return v === k ? code : v;
}

/** The patient's name (the thread's decrypted title), else its pseudonymous reference. */
export function PatientName({ session, thread, patient }) {
  const [title, setTitle] = useState(null);
  useEffect(() => {
    threadTitle(session, thread).then(setTitle, () => setTitle(null));
  }, [thread]);
  return html`<span class="patient-name">${title ?? patient}${title && html`<span class="mono muted ref">${patient}</span>`}</span>`;
}

/** A server error with its code always visible (the translation alone may hide it). */
export function ErrorCode({ error }) {
  if (!error) return null;
  const code = error.code ?? 'INTERNAL';
  const known = t(`err.${code}`);
  const why = known === `err.${code}` ? String(error.message ?? '').replace(`${code}: `, '') : known;
  return html`<p class="error" role="alert" data-code=${code}>
    ${t('review.refused', { code })}${why ? ` ${why}` : ''}
  </p>`;
}
