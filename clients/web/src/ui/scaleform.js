// scaleform.js - the PHQ-9 and GAD-7 form of a thread (PROTOCOL.md §14): scored as it is
// answered (protocol/scales.js, the same scoring as the CLI), an item may stay blank, and the
// item-9 warning shows the moment item 9 is answered above 0 (or stays unanswered). On submit,
// as `sesame scale add`: the client-side rules run on the thread's history, the record is sent
// encrypted, every triggered alert is raised naming it, and it counts as an assessment contact.
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { contactScales, item9Trigger, rules, scoreScale } from '../protocol/scales.js';
import { sendScaleRecord, threadStore } from '../app/threads.js';
import { ErrorLine, useAction, useId } from './common.js';

export const PHQ9_ITEMS = 9;
export const GAD7_ITEMS = 7;
const DAY_MS = 86400000;

const today = () => new Date().toISOString().slice(0, 10);

function Item({ scale, i, value, onChange }) {
  const name = `${scale}-${i}`;
  return html`<fieldset class="item">
    <legend>${i + 1}. ${t(`${scale}.q${i + 1}`)}</legend>
    ${[0, 1, 2, 3].map(
      (v) => html`<label class="choice">
        <input
          type="radio"
          name=${name}
          value=${v}
          checked=${value === v}
          onChange=${() => onChange(i, v)}
        />
        ${t(`answer.${v}`)}
      </label>`,
    )}
    <button type="button" class="link small" onClick=${() => onChange(i, null)} disabled=${value === null}>
      ${t('scale.clear')}
    </button>
  </fieldset>`;
}

function Score({ scale, items }) {
  const s = scoreScale(scale, items);
  return html`<p class="score" aria-live="polite" data-testid=${`score-${scale}`}>
    ${t('scale.score', { answered: s.answered, n: items.length })}
    ${s.total !== null && s.total !== undefined ? html` · <strong>${s.total}</strong> (${t(`band.${s.band}`)})${s.prorated ? ` · ${t('scale.prorated')}` : ''}` : html` · ${t('scale.no_score')}`}
  </p>`;
}

function Item9Warning({ phq9 }) {
  const trig = item9Trigger(phq9);
  if (!trig) return null;
  return html`<p class="emergency" role="alert" data-testid="item9-warning" data-variant=${trig.variant}>
    ${t(`item9.${trig.variant}`)}
  </p>`;
}

/** Sends the record and what follows from it; resolves with {seq, raised: [...], contact}. */
async function submitRecord(session, thread, record) {
  const e = await threadStore(session).get(thread, { roster: true });
  const history = e.messages.filter((m) => m.record).map((m) => m.record);
  const rp = e.roster.meta?.phase === 'relapse_prevention';
  const { triggers } = rules(history, record, rp);
  const sent = await sendScaleRecord(session, thread, record);
  const raised = [];
  for (const trig of triggers) {
    try {
      const r = await session.request({
        t: 'alert_raise',
        thread,
        type: trig.type,
        ...(trig.variant ? { variant: trig.variant } : {}),
        msg_seq: sent.seq,
      });
      raised.push({ ...trig, repeat: r.repeat, alert: r.alert.alert });
    } catch (err) {
      raised.push({ ...trig, error: err.code ?? 'INTERNAL' });
    }
  }
  const scales = contactScales(record);
  const contact = await session
    .request({
      t: 'contact_record',
      thread,
      type: 'assessment',
      date: Date.parse(`${record.date}T00:00:00Z`),
      ...(scales.length ? { scales } : {}),
    })
    .then(
      () => null,
      (err) => err.code ?? 'INTERNAL',
    );
  return { seq: sent.seq, raised, contactError: contact };
}

export function ScaleForm({ session, thread, onDone }) {
  const [phq9, setPhq9] = useState(() => Array(PHQ9_ITEMS).fill(null));
  const [gad7, setGad7] = useState(() => Array(GAD7_ITEMS).fill(null));
  const [date, setDate] = useState(today);
  const [result, setResult] = useState(null);
  const act = useAction();
  const dateId = useId('date');
  const set = (arr, setter) => (i, v) => setter(arr.map((x, k) => (k === i ? v : x)));
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const record = { kind: 'scales', date, phq9, gad7 };
      if (gad7.every((v) => v === null)) delete record.gad7;
      const r = await submitRecord(session, thread, record);
      setResult(r);
      setPhq9(Array(PHQ9_ITEMS).fill(null));
      setGad7(Array(GAD7_ITEMS).fill(null));
      onDone?.(r);
    });
  };
  return html`<form class="scales" onSubmit=${submit} aria-labelledby="scales-h">
    <h2 id="scales-h">${t('scale.title')}</h2>
    <div class="field">
      <label for=${dateId}>${t('scale.date')}</label>
      <input type="date" id=${dateId} value=${date} max=${today()} required onInput=${(e) => setDate(e.currentTarget.value)} />
    </div>
    <h3>PHQ-9 — ${t('phq9.stem')}</h3>
    ${phq9.map((v, i) => html`<${Item} scale="phq9" i=${i} value=${v} onChange=${set(phq9, setPhq9)} />`)}
    <${Item9Warning} phq9=${phq9} />
    <${Score} scale="PHQ-9" items=${phq9} />
    <h3>GAD-7 — ${t('gad7.stem')}</h3>
    ${gad7.map((v, i) => html`<${Item} scale="gad7" i=${i} value=${v} onChange=${set(gad7, setGad7)} />`)}
    <${Score} scale="GAD-7" items=${gad7} />
    <${ErrorLine} error=${act.error} />
    <button type="submit" disabled=${act.busy}>${t('scale.submit')}</button>
    ${result &&
    html`<div role="status" class="result">
      <p>${t('scale.sent', { seq: result.seq })}</p>
      ${result.raised.map(
        (r) => html`<p class=${r.error ? 'error' : ''}>
          ${r.error ? t('scale.raise_failed', { type: r.type, code: r.error }) : t(r.repeat ? 'scale.repeated' : 'scale.raised', { type: `${r.type}${r.variant ? `/${r.variant}` : ''}` })}
        </p>`,
      )}
      ${result.contactError && html`<p class="warning">${t('scale.no_contact', { code: result.contactError })}</p>`}
    </div>`}
  </form>`;
}

export { DAY_MS };
