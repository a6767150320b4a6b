// index.js - the browser's `sesame rec export` (PROTOCOL.md §16 Export): buildExport makes, on
// this device, from the decrypted recommendation and the thread's latest patient card, exactly
// the bytes the CLI writes for each format (the printable letter, the CDA R2 document, the IHE
// XDM package, the FHIR R4 Bundle), with the file name and media type to download it under.

import { exportCda } from './cda.js';
import { ExportError } from './errors.js';
import { exportFhir } from './fhir.js';
import { exportPdf } from './pdf.js';
import { utf8 } from './util.js';
import { exportXdm } from './xdm.js';

/** The custodian organisation OID root when none is configured (REC_DEFAULT_ORG_OID of the CLI). */
export const DEFAULT_ORG_OID = '1.2.250.1.999.1';

/** The formats buildExport makes. */
export const EXPORT_FORMATS = Object.freeze(['pdf', 'xdm', 'fhir', 'cda']);

/** Each format's download name and media type. */
export const EXPORT_FILES = Object.freeze({
  pdf: Object.freeze({ filename: 'recommandation.pdf', mime: 'application/pdf' }),
  xdm: Object.freeze({ filename: 'IHE_XDM.ZIP', mime: 'application/zip' }),
  fhir: Object.freeze({ filename: 'recommandation.fhir.json', mime: 'application/fhir+json' }),
  cda: Object.freeze({ filename: 'recommandation.cda.xml', mime: 'text/xml' }),
});

/**
 * Builds one export of a recommendation: the bytes of `sesame rec export --format FORMAT` (and
 * for 'cda' the CDA the XDM package carries), with its download name and media type. Async:
 * the XDM package's document hash comes from the Web Crypto API.
 * @param {'pdf'|'xdm'|'fhir'|'cda'} format
 * @param {object} input an ExportInput (orgOid: DEFAULT_ORG_OID when the site has none)
 * @returns {Promise<{bytes: Uint8Array, filename: string, mime: string}>}
 * @throws {ExportError} INVALID_ARG for an unknown format; BAD_FIELD where the CLI's builder
 *   refuses the input (e.g. xdm or cda without a card with an INS) - as a rejected promise
 */
export async function buildExport(format, input) {
  if (!Object.prototype.hasOwnProperty.call(EXPORT_FILES, format)) throw new ExportError('INVALID_ARG');
  let bytes;
  if (format === 'pdf') bytes = exportPdf(input);
  else if (format === 'cda') bytes = exportCda(input);
  else if (format === 'xdm') bytes = await exportXdm(input);
  else bytes = utf8(exportFhir(input));
  return { bytes, ...EXPORT_FILES[format] };
}

export { exportCda, exportFhir, exportPdf, exportXdm, ExportError };
