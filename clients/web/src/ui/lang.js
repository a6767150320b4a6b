// lang.js - the language switch (French / English), shown on every screen.
import { html } from './html.js';
import { lang, LANGS, setLang, t } from '../app/i18n.js';

export function LangPicker({ onLang }) {
  return html`<label class="lang"
    >${t('lang.label')}
    <select
      value=${lang()}
      onChange=${(e) => {
        setLang(e.currentTarget.value);
        onLang();
      }}
    >
      ${Object.keys(LANGS).map((l) => html`<option value=${l}>${LANGS[l]['lang.name']}</option>`)}
    </select></label
  >`;
}
