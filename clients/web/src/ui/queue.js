// queue.js - the nurse's patients on the review queue, and putting one on it.
import { html } from './html.js';
import { t } from '../app/i18n.js';
import { Title } from './common.js';

/** The screen (being written). */
export function QueueScreen() {
  return html`<section><${Title}>${t('nav.queue')}</${Title}></section>`;
}
