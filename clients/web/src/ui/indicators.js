// indicators.js - the quality indicators Q1-Q15 of the team with their trend.
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { Title } from './common.js';

/** The screen (being written). */
export function IndicatorsScreen() {
  return html`<section><${Title}>${t('nav.indicators')}</${Title}></section>`;
}
