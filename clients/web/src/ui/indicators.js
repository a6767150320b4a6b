// indicators.js - the team's quality indicators Q1..Q15 (PROTOCOL.md §15, computed on this device
// by indicators_data.js as `sesame caseload --indicators` does): for the chosen window, each
// indicator's numerator, denominator and percentage with what it measures in words, and its
// trend over the windows before (a small chart, and the same figures in a table).
import { html, useState } from './html.js';
import { formatTime, t } from '../app/i18n.js';
import { DAY_MS } from '../protocol/registry.js';
import { ErrorLine, Title, useId, useLoad } from './common.js';
import { WINDOWS, loadIndicators } from './indicators_data.js';

const CHART_W = 96;
const CHART_H = 28;
const BAR_GAP = 3;

function day(d) {
  return formatTime(d * DAY_MS + DAY_MS / 2, { dateStyle: 'medium' });
}

/** A window's label, e.g. "12 Jan 2026 – 10 Feb 2026". */
function windowLabel(w) {
  return t('ind.window_range', { from: day(w.from), to: day(w.to) });
}

/** The value an indicator's trend plots: its percentage, or the count of Q14. */
function value(q) {
  return q.code === 'Q14' ? q.num : q.pct;
}

function valueText(q) {
  if (q.code === 'Q14') return String(q.num);
  if (q.pct === null) return t('ind.no_patient');
  return t('ind.pct_of', { pct: q.pct, num: q.num, den: q.den });
}

/** Bars of one indicator over the windows (oldest first); the table below carries the figures. */
function TrendChart({ series, code }) {
  const vals = series.map(value);
  const max = code === 'Q14' ? Math.max(1, ...vals.map((v) => v ?? 0)) : 100;
  const bw = (CHART_W - BAR_GAP * (vals.length - 1)) / vals.length;
  return html`<svg class="ind-chart" width=${CHART_W} height=${CHART_H} viewBox=${`0 0 ${CHART_W} ${CHART_H}`}
    role="img" aria-label=${t('ind.trend_label', { values: series.map(valueText).join(' ; ') })}>
    <line x1="0" y1=${CHART_H - 0.5} x2=${CHART_W} y2=${CHART_H - 0.5} stroke="currentColor" stroke-width="1" />
    ${vals.map((v, i) => {
      const h = v === null ? 0 : Math.max(1, (v / max) * (CHART_H - 2));
      return v === null
        ? html`<circle key=${i} cx=${i * (bw + BAR_GAP) + bw / 2} cy=${CHART_H - 3} r="1.5" fill="currentColor" />`
        : html`<rect key=${i} x=${i * (bw + BAR_GAP)} y=${CHART_H - 1 - h} width=${bw} height=${h}
            class=${i === vals.length - 1 ? 'ind-bar current' : 'ind-bar'} />`;
    })}
  </svg>`;
}

function Current({ windows }) {
  const cur = windows[windows.length - 1];
  return html`<table class="indicators">
    <caption>${t('ind.current', { range: windowLabel(cur) })}</caption>
    <thead><tr>
      <th scope="col">${t('ind.code')}</th><th scope="col">${t('ind.indicator')}</th>
      <th scope="col">${t('ind.num')}</th><th scope="col">${t('ind.den')}</th>
      <th scope="col">${t('ind.pct')}</th><th scope="col">${t('ind.trend')}</th>
    </tr></thead>
    <tbody>
      ${cur.q.map((q, k) => html`<tr key=${q.code} data-code=${q.code}>
        <th scope="row">${q.code}</th>
        <td><strong>${t(`ind.${q.code}.name`)}</strong><br /><span class="muted">${t(`ind.${q.code}.what`)}</span>
          ${q.code === 'Q11' && html`<br /><span data-testid="q11-median">${q.median_hours >= 0
            ? t('ind.median_hours', { hours: q.median_hours }) : t('ind.median_none')}</span>`}</td>
        <td class="num" data-testid="num">${q.num}</td>
        <td class="num" data-testid="den">${q.code === 'Q14' ? '—' : q.den}</td>
        <td class="num" data-testid="pct">${q.code === 'Q14' ? t('ind.count') : q.pct === null ? t('ind.no_patient') : `${q.pct} %`}</td>
        <td><${TrendChart} series=${windows.map((w) => w.q[k])} code=${q.code} /></td>
      </tr>`)}
    </tbody>
  </table>`;
}

function TrendTable({ windows }) {
  return html`<table class="ind-trend">
    <caption>${t('ind.trend_table')}</caption>
    <thead><tr>
      <th scope="col">${t('ind.code')}</th>
      ${windows.map((w, i) => html`<th scope="col" key=${i}>${windowLabel(w)}</th>`)}
    </tr></thead>
    <tbody>
      ${windows[0].q.map((q, k) => html`<tr key=${q.code}>
        <th scope="row">${q.code}</th>
        ${windows.map((w, i) => html`<td key=${i}>${valueText(w.q[k])}</td>`)}
      </tr>`)}
    </tbody>
  </table>`;
}

/**
 * The indicators screen.
 * @param {{session: object}} props
 */
export function IndicatorsScreen({ session }) {
  const [win, setWin] = useState('year');
  const pickId = useId('win');
  const data = useLoad(() => loadIndicators(session, win), [session, win]);
  return html`<${Title}>${t('ind.title')}<//>
    <p class="muted">${t('ind.intro')}</p>
    <div class="field ind-window">
      <label for=${pickId}>${t('ind.window')}</label>
      <select id=${pickId} value=${win} onChange=${(e) => setWin(e.currentTarget.value)}>
        ${Object.keys(WINDOWS).map((k) => html`<option key=${k} value=${k}>${t(`ind.window.${k}`)}</option>`)}
      </select>
    </div>
    <${ErrorLine} error=${data.error} />
    ${!data.data && !data.error && html`<p role="status">${t('loading')}</p>`}
    ${data.data && html`<p role="status" data-testid="ind-patients">${t('ind.patients', { n: data.data.patients })}</p>
      <${Current} windows=${data.data.windows} />
      <h2>${t('ind.trend_h')}</h2>
      <${TrendTable} windows=${data.data.windows} />`}`;
}
