// recs.js - the recommendations: the GP's inbox and exports, the nurse's verification.
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { Title } from './common.js';

/** The screen (being written). */
export function RecsScreen() {
  return html`<section><${Title}>${t('nav.recs')}</${Title}></section>`;
}
