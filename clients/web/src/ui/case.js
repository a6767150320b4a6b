// case.js - one case opened from the agenda: summary, chart, alerts, recommendations, outcome.
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { Title } from './common.js';

/** The screen (being written). */
export function CaseScreen() {
  return html`<section><${Title}>${t('nav.case')}</${Title}></section>`;
}
