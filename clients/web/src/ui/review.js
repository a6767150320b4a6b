// review.js - the psychiatrist's weekly case review: the next session's agenda, sessions, minutes.
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { Title } from './common.js';

/** The screen (being written). */
export function ReviewScreen() {
  return html`<section><${Title}>${t('nav.review')}</${Title}></section>`;
}
