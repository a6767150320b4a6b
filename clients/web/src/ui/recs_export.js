// recs_export.js - downloading a recommendation for the GP's software (PROTOCOL.md §16 Export):
// the IHE XDM package (the CDA with the letter as PDF), the FHIR R4 Bundle, or the PDF letter,
// built on this device by protocol/export from the decrypted letter and the thread's latest
// patient card (the same bytes as `sesame rec export`), handed over as a Blob behind an object
// URL with its file name. XDM needs a card with an INS: the screen says so instead of failing.
import { html, useEffect, useState } from './html.js';
import { t } from '../app/i18n.js';
import { ErrorLine, useAction } from './common.js';
import { buildExport } from '../protocol/export/index.js';
import { exportBlocker, exportInput } from './recs_data.js';

export const FORMATS = Object.freeze(['xdm', 'fhir', 'pdf']);

/** A built file as {url, filename, size}; the URL is revoked when the screen goes. */
function useFile() {
  const [file, setFile] = useState(null);
  useEffect(() => () => file && URL.revokeObjectURL(file.url), [file]);
  return [file, setFile];
}

function ExportOne({ d, format }) {
  const [file, setFile] = useFile();
  const act = useAction();
  const blocker = exportBlocker(format, d.card);
  const make = () => act.run(async () => {
    const out = await buildExport(format, exportInput(d));
    const blob = new Blob([out.bytes], { type: out.mime });
    setFile({ url: URL.createObjectURL(blob), filename: out.filename, size: out.bytes.length });
  });
  return html`<li class="rec-export" data-format=${format}>
    <h3>${t(`recs.export.${format}`)}</h3>
    <p class="muted">${t(`recs.export.${format}.what`)}</p>
    ${blocker
      ? html`<p class="warning" data-testid=${`export-blocked-${format}`}>${t(`recs.export.${blocker}`)}</p>`
      : html`<button type="button" onClick=${make} disabled=${act.busy}>${t('recs.export.make', { format: t(`recs.export.${format}`) })}</button>`}
    <${ErrorLine} error=${act.error} />
    ${file && html`<p role="status">
      <a class="download" href=${file.url} download=${file.filename} data-testid=${`download-${format}`}>
        ${t('recs.export.download', { name: file.filename })}</a>
      <span class="muted"> (${t('recs.export.bytes', { n: file.size })})</span>
    </p>`}
  </li>`;
}

/** The export section of a loaded recommendation. */
export function RecExports({ d }) {
  return html`<section class="rec-exports" aria-labelledby="rec-exports-h">
    <h2 id="rec-exports-h">${t('recs.exports')}</h2>
    <p class="muted">${t('recs.exports_hint')}</p>
    <ul class="rec-export-list">
      ${FORMATS.map((f) => html`<${ExportOne} key=${f} d=${d} format=${f} />`)}
    </ul>
  </section>`;
}
