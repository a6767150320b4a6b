// case_chart.js - a case's PHQ-9 and GAD-7 over time (PROTOCOL.md §14 records, read in date
// order as the registry reads them): an SVG chart with both series (PHQ-9 a solid line with
// round marks, GAD-7 a dashed line with square marks: told apart by more than colour), the
// band thresholds, and each change of treatment plan (plan records) as a marked vertical line;
// then the same figures as a table, the alternative for screen readers and for exact reading.
import { html } from './html.js';
import { formatTime, t } from '../app/i18n.js';
import { dayParse, scaleUsable, scoreScale } from '../protocol/scales.js';
import { DAY_MS, Day } from './review_util.js';

const W = 640;
const H = 240;
const M = { left: 34, right: 16, top: 22, bottom: 30 };
const Y_MAX = 27;
const BANDS = [5, 10, 15, 20];
const PAD_DAYS = 7;
const TICKS_MAX = 6;
const dayText = (d) => formatTime(d * DAY_MS, { day: 'numeric', month: 'short', timeZone: 'UTC' });

const usable = (key, items) => {
  if (!items) return null;
  const s = scoreScale(key, items);
  return scaleUsable(s) ? s.total : null;
};

/**
 * The chart's points from a thread's records: scales records with a usable PHQ-9 or GAD-7, and
 * plan records, in date order (same-day records in entry order).
 * @param {object[]} records parsed scale records, in thread order
 * @returns {{points: {day, phq9, gad7}[], plans: {day, antidepressant}[]}}
 */
export function chartData(records) {
  const dated = records
    .map((r, i) => ({ r, i, day: safeDay(r.date) }))
    .filter((x) => x.day !== null)
    .sort((a, b) => a.day - b.day || a.i - b.i);
  const points = [];
  const plans = [];
  for (const { r, day } of dated) {
    if (r.kind === 'plan') plans.push({ day, antidepressant: r.antidepressant === true });
    if (r.kind !== 'scales') continue;
    const p = { day, phq9: usable('phq9', r.phq9), gad7: usable('gad7', r.gad7) };
    if (p.phq9 !== null || p.gad7 !== null) points.push(p);
  }
  return { points, plans };
}

function safeDay(iso) {
  try {
    return dayParse(iso);
  } catch {
    return null;
  }
}

function scales(points, plans) {
  const days = [...points.map((p) => p.day), ...plans.map((p) => p.day)];
  let lo = Math.min(...days);
  let hi = Math.max(...days);
  if (hi - lo < PAD_DAYS) {
    lo -= PAD_DAYS;
    hi += PAD_DAYS;
  }
  const x = (d) => M.left + ((d - lo) / (hi - lo)) * (W - M.left - M.right);
  const y = (v) => M.top + (1 - v / Y_MAX) * (H - M.top - M.bottom);
  return { x, y, lo, hi };
}

function ticks(points) {
  const days = [...new Set(points.map((p) => p.day))];
  return days.length <= TICKS_MAX ? days : [days[0], days[days.length - 1]];
}

// a tick's label stays inside the frame at both ends
const anchor = (px) => (px < M.left + 30 ? 'start' : px > W - M.right - 30 ? 'end' : 'middle');

function Series({ pts, x, y, cls, square }) {
  if (pts.length === 0) return null;
  const d = pts.map((p) => `${x(p.day).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
  return html`<g class=${cls}>
    <polyline points=${d} fill="none" />
    ${pts.map((p) =>
      square
        ? html`<rect x=${x(p.day) - 4} y=${y(p.v) - 4} width="8" height="8" />`
        : html`<circle cx=${x(p.day)} cy=${y(p.v)} r="4.5" />`,
    )}
  </g>`;
}

function Svg({ points, plans, label }) {
  const { x, y } = scales(points, plans);
  const of = (k) => points.filter((p) => p[k] !== null).map((p) => ({ day: p.day, v: p[k] }));
  return html`<svg class="case-chart" viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${label}>
    ${BANDS.map(
      (b) => html`<g class="band"><line x1=${M.left} x2=${W - M.right} y1=${y(b)} y2=${y(b)} />
        <text x=${M.left - 6} y=${y(b) + 4} text-anchor="end">${b}</text></g>`,
    )}
    <line class="axis" x1=${M.left} x2=${W - M.right} y1=${y(0)} y2=${y(0)} />
    <text class="axis-label" x=${M.left - 6} y=${y(0) + 4} text-anchor="end">0</text>
    ${ticks(points).map(
      (d) => html`<text class="tick" x=${x(d)} y=${H - 10} text-anchor=${anchor(x(d))}>${dayText(d)}</text>`,
    )}
    ${plans.map(
      (p) => html`<g class="plan-mark"><line x1=${x(p.day)} x2=${x(p.day)} y1=${M.top - 8} y2=${y(0)} />
        <path d=${`M${x(p.day) - 5},${M.top - 14} h10 l-5,7 z`} />
        <text x=${x(p.day) + 7} y=${M.top - 8}>${t('case.chart.plan_short')}</text></g>`,
    )}
    <${Series} pts=${of('phq9')} x=${x} y=${y} cls="s-phq9" />
    <${Series} pts=${of('gad7')} x=${x} y=${y} cls="s-gad7" square=${true} />
  </svg>`;
}

function Legend() {
  return html`<ul class="chart-legend" aria-hidden="true">
    <li><span class="key key-phq9"></span> PHQ-9 ${t('case.chart.phq9_key')}</li>
    <li><span class="key key-gad7"></span> GAD-7 ${t('case.chart.gad7_key')}</li>
    <li><span class="key key-plan"></span> ${t('case.chart.plan_key')}</li>
  </ul>`;
}

function Table({ points, plans }) {
  const rows = [
    ...points.map((p) => ({ day: p.day, kind: 'scores', p })),
    ...plans.map((p) => ({ day: p.day, kind: 'plan', p })),
  ].sort((a, b) => a.day - b.day);
  return html`<table class="chart-table">
    <caption>${t('case.chart.table')}</caption>
    <thead>
      <tr><th scope="col">${t('case.chart.date')}</th><th scope="col">PHQ-9</th><th scope="col">GAD-7</th><th scope="col">${t('case.chart.plan')}</th></tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) => html`<tr>
          <th scope="row"><${Day} day=${r.day} /></th>
          <td class="num">${r.kind === 'scores' ? (r.p.phq9 ?? '—') : ''}</td>
          <td class="num">${r.kind === 'scores' ? (r.p.gad7 ?? '—') : ''}</td>
          <td>${r.kind === 'plan' ? t(r.p.antidepressant ? 'case.chart.plan_ad' : 'case.chart.plan_no_ad') : ''}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** The chart and its table for a thread's parsed records. */
export function CaseChart({ records }) {
  const { points, plans } = chartData(records);
  if (points.length === 0) return html`<p role="status">${t('case.chart.none')}</p>`;
  const phq = points.filter((p) => p.phq9 !== null).map((p) => p.phq9);
  const gad = points.filter((p) => p.gad7 !== null).map((p) => p.gad7);
  const label = t('case.chart.label', { phq: phq.join(', ') || '—', gad: gad.join(', ') || '—', plans: plans.length });
  return html`<figure class="chart" data-points=${points.length} data-plans=${plans.length}>
    <${Svg} points=${points} plans=${plans} label=${label} />
    <figcaption><${Legend} /></figcaption>
    <${Table} points=${points} plans=${plans} />
  </figure>`;
}
