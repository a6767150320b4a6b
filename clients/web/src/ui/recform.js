// recform.js - the psychiatrist's structured recommendation to the GP (PROTOCOL.md §16), as
// `sesame rec send` sends it: the form is checked with recDocCheck before anything leaves the
// page (the problem is shown next to the field at fault, marked aria-invalid, and the focus
// moves there); then the letter travels as an encrypted message of content type 5 and is
// registered with `rec_send` (thread, msg_seq of that message, the addressed GP, urgency).
// `day` is today, `reviewDay` the day of the session the case is on (-1: ad hoc), the
// disclaimer the standard one.
import { html, useEffect, useState } from './html.js';
import { t } from '../app/i18n.js';
import { CONTENT } from '../protocol/envelope_core.js';
import {
  DISCLAIMER_DEFAULT, QUESTION_CODES, REC_LONG_MAX, REC_TEXT_MAX, encodeRecDoc, recDocCheck,
} from '../protocol/recommend.js';
import { threadStore } from '../app/threads.js';
import { When, useAction, useId } from './common.js';
import { ErrorCode, inputDay, todayDay } from './review_util.js';
import { ItemsEditor, itemFieldId, itemFields } from './recform_items.js';

const EMPTY = { questionCode: 'other', question: '', dataBasis: '', safety: '', diagnosis: '',
  narrative: '', contingency: '', urgent: false, next: '' };
const TEXTS = [
  ['question', REC_TEXT_MAX, true],
  ['dataBasis', REC_LONG_MAX, true],
  ['safety', REC_TEXT_MAX, true],
  ['diagnosis', REC_TEXT_MAX, false],
];

/** The control of a RecDoc field ('items[2].drug' -> its input), for the focus. */
export function fieldControlId(field) {
  const m = /^items\[(\d+)\]\.(\w+)$/.exec(field);
  if (m) return itemFieldId(Number(m[1]), m[2]);
  if (/^items\[\d+\]$/.test(field)) return itemFieldId(Number(/\d+/.exec(field)[0]), 'type');
  if (field === 'items') return 'rec-items-add';
  if (['day', 'reviewDay'].includes(field)) return 'rec-submit';
  return `rec-${field}`;
}

/** The words of a check's problem in the user's language (the check's own words otherwise). */
function problemText(p) {
  const key = `recform.invalid.${p.field.replace(/\[\d+\]/g, '')}`;
  const v = t(key);
  return v === key ? p.problem : v;
}

function TextField({ name, max, required, f, set, fieldError, rows = 3, hinted = false }) {
  const id = `rec-${name}`;
  const bad = fieldError?.field === name;
  return html`<div class="field">
    <label for=${id}>${t(`recform.${name}`)}${required || hinted ? '' : ` (${t('case.optional')})`}</label>
    <textarea id=${id} rows=${rows} maxlength=${max} value=${f[name]}
      aria-required=${required ? 'true' : 'false'} aria-invalid=${bad ? 'true' : 'false'}
      aria-describedby=${bad ? `${id}-err` : undefined}
      onInput=${(e) => set({ [name]: e.currentTarget.value })}></textarea>
    ${bad && html`<p class="field-error" id=${`${id}-err`}>${fieldError.message}</p>`}
  </div>`;
}

function GpChoice({ gps, gp, setGp }) {
  const id = useId('gp');
  if (gps.length === 0) return html`<p class="warning">${t('recform.no_gp')}</p>`;
  if (gps.length === 1) return html`<p>${t('recform.to')}${t('review.colon')}<strong>${gps[0].name}</strong> (${t('role.gp')})</p>`;
  return html`<div class="field">
    <label for=${id}>${t('recform.to')}</label>
    <select id=${id} value=${gp} onChange=${(e) => setGp(e.currentTarget.value)}>
      ${gps.map((g) => html`<option value=${g.user}>${g.name}</option>`)}
    </select>
  </div>`;
}

function Sent({ rec }) {
  return html`<div role="status" class="result rec-result" data-testid="rec-result" data-rec=${rec.rec}>
    <p><strong>${t('recform.sent', { version: rec.version })}</strong> <span class="mono">${rec.rec}</span></p>
    <p>${t('recform.state')}${t('review.colon')}${t(`rec.state.${rec.state}`)} · ${t(rec.urgent ? 'case.recs.urgent' : 'case.recs.routine')}</p>
    <p>${t('recform.deadline')}${t('review.colon')}<${When} ms=${rec.deadline} /></p>
  </div>`;
}

/** Builds the RecDoc of the form's state. */
function docOf(f, items, reviewDay) {
  const next = inputDay(f.next);
  return {
    day: todayDay(), reviewDay, urgent: f.urgent, questionCode: f.questionCode,
    question: f.question.trim(), dataBasis: f.dataBasis.trim(), safety: f.safety.trim(),
    diagnosis: f.diagnosis.trim(), narrative: f.narrative.trim(), contingency: f.contingency.trim(),
    items: items.map((it) => {
      const has = itemFields(it.type); // a field the type does not show is not sent
      const v = (k) => (has.includes(k) ? it[k].trim() : '');
      return { type: it.type, drug: v('drug'), dose: v('dose'), titration: v('titration'),
        monitoring: v('monitoring'), text: v('text') };
    }),
    nextReviewDay: next === null ? -1 : next, disclaimer: DISCLAIMER_DEFAULT,
  };
}

/** The recommendation form of a thread: gps the thread's GP members, reviewDay or -1. */
/* The first required text left empty at the top of the form (recDocCheck reports the problems in
 * its own order, which starts at the bottom: the focus goes to the first field instead). */
function firstEmpty(doc) {
  const name = ['question', 'dataBasis', 'safety'].find((k) => doc[k].trim() === '');
  return name ? { code: 'BAD_FIELD', field: name } : null;
}

export function RecForm({ session, thread, gps, reviewDay, questionCode, onSent }) {
  const [f, setF] = useState({ ...EMPTY, questionCode: questionCode ?? 'other' });
  const [items, setItems] = useState([]);
  const [gp, setGp] = useState(gps[0]?.user ?? '');
  const [fieldError, setFieldError] = useState(null);
  const [sent, setSent] = useState(null);
  const act = useAction();
  const set = (p) => setF({ ...f, ...p });
  useEffect(() => {
    if (fieldError) document.getElementById(fieldControlId(fieldError.field))?.focus();
  }, [fieldError]);
  const submit = (e) => {
    e.preventDefault();
    const doc = docOf(f, items, reviewDay);
    const p = firstEmpty(doc) ?? recDocCheck(doc);
    setSent(null);
    setFieldError(p ? { field: p.field, message: problemText(p), n: Date.now() } : null);
    if (p || !gp) return;
    act.run(async () => {
      const msg = await threadStore(session).send(thread, CONTENT.RECOMMENDATION, encodeRecDoc(doc));
      const r = await session.request({ t: 'rec_send', thread, msg_seq: msg.seq, gp, urgent: doc.urgent });
      setSent(r.rec);
      setF({ ...EMPTY, questionCode: f.questionCode });
      setItems([]);
      onSent?.(r.rec);
    });
  };
  const bad = (name) => fieldError?.field === name;
  return html`<form class="recform" onSubmit=${submit} noValidate aria-labelledby="recform-h">
    <h2 id="recform-h">${t('recform.title')}</h2>
    <${GpChoice} gps=${gps} gp=${gp} setGp=${setGp} />
    <div class="field">
      <label for="rec-questionCode">${t('recform.questionCode')}</label>
      <select id="rec-questionCode" value=${f.questionCode} onChange=${(e) => set({ questionCode: e.currentTarget.value })}>
        ${QUESTION_CODES.map((c) => html`<option value=${c}>${t(`recform.q.${c}`)}</option>`)}
      </select>
    </div>
    ${TEXTS.map(([name, max, req]) => html`<${TextField} name=${name} max=${max} required=${req} f=${f} set=${set} fieldError=${fieldError} key=${name} />`)}
    <${ItemsEditor} items=${items} setItems=${setItems} fieldError=${fieldError} />
    <${TextField} name="narrative" max=${REC_LONG_MAX} required=${false} hinted=${true} f=${f} set=${set} fieldError=${fieldError} rows=${4} />
    <${TextField} name="contingency" max=${REC_TEXT_MAX} required=${true} f=${f} set=${set} fieldError=${fieldError} />
    <div class="inline-form">
      <div class="field">
        <label for="rec-nextReviewDay">${t('recform.next')}</label>
        <input id="rec-nextReviewDay" type="date" value=${f.next} aria-required="true"
          aria-invalid=${bad('nextReviewDay') ? 'true' : 'false'}
          aria-describedby=${bad('nextReviewDay') ? 'rec-nextReviewDay-err' : undefined}
          onInput=${(e) => set({ next: e.currentTarget.value })} />
        ${bad('nextReviewDay') && html`<p class="field-error" id="rec-nextReviewDay-err">${fieldError.message}</p>`}
      </div>
      <label class="choice rf-urgent">
        <input type="checkbox" checked=${f.urgent} onChange=${(e) => set({ urgent: e.currentTarget.checked })} />
        ${t('recform.urgent')}
      </label>
    </div>
    <p class="rf-disclaimer" id="rec-disclaimer" tabindex="-1"><strong>${t('recform.disclaimer')}${t('review.colon')}</strong> ${DISCLAIMER_DEFAULT}</p>
    ${fieldError && ['day', 'reviewDay', 'disclaimer', 'questionCode'].includes(fieldError.field) &&
    html`<p class="field-error" role="alert">${fieldError.message}</p>`}
    ${fieldError && html`<p class="sr-only" role="alert">${t('recform.refused_local')} ${fieldError.message}</p>`}
    <${ErrorCode} error=${act.error} />
    <button type="submit" id="rec-submit" disabled=${act.busy || gps.length === 0}>${t('recform.send')}</button>
    ${sent && html`<${Sent} rec=${sent} />`}
  </form>`;
}
