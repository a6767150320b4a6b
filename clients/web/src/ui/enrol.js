// enrol.js - the first screen of a browser that is not a device yet: the enrolment code comes
// from the link's fragment (#code=..., which browsers never send to a server) or is typed; the
// browser makes its keys, enrols over the WebSocket (PROTOCOL.md §7 `enroll`) and keeps the keys
// sealed in IndexedDB. It says plainly that clearing the site's data loses the device.
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { enrolDevice, originUrl } from '../app/session.js';
import { ErrorLine, Title, useAction, useId } from './common.js';
import { LangPicker } from './lang.js';
function defaultDeviceName() {
  const ua = globalThis.navigator?.userAgent ?? '';
  const browser = /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chromium' : '';
  return browser ? `${t('enrol.browser')} (${browser})` : t('enrol.browser');
}

export function EnrolScreen({ code: linkCode, demo, onEnrolled, onLang }) {
  const [code, setCode] = useState(linkCode ?? '');
  const [name, setName] = useState(defaultDeviceName);
  const act = useAction();
  const codeId = useId('code');
  const nameId = useId('name');
  const warnId = useId('warn');
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const d = await enrolDevice({ url: originUrl(), code: code.trim(), deviceName: name.trim() });
      await onEnrolled(d);
    });
  };
  return html`<main id="main" class="narrow">
    <${LangPicker} onLang=${onLang} />
    ${demo && html`<p class="synthetic" role="note">${t('app.synthetic')}</p>`}
    <${Title}>${t('enrol.title')}<//>
    <p>${t('enrol.intro')}</p>
    ${!linkCode && html`<p>${t('enrol.no_code')}</p>`}
    <form onSubmit=${submit} aria-describedby=${warnId}>
      <div class="field">
        <label for=${codeId}>${t('enrol.code')}</label>
        <input
          id=${codeId}
          name="code"
          autocomplete="off"
          spellcheck="false"
          required
          value=${code}
          onInput=${(e) => setCode(e.currentTarget.value)}
        />
      </div>
      <div class="field">
        <label for=${nameId}>${t('enrol.name')}</label>
        <input
          id=${nameId}
          name="device_name"
          maxlength="64"
          value=${name}
          onInput=${(e) => setName(e.currentTarget.value)}
        />
      </div>
      <p class="warning" id=${warnId}>${t('device.warning')}</p>
      <${ErrorLine} error=${act.error} />
      <button type="submit" disabled=${act.busy}>${t('enrol.submit')}</button>
    </form>
  </main>`;
}
