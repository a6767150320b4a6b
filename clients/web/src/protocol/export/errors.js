// errors.js - ExportError, what the web client's export builders (pdf.js, cda.js, xdm.js,
// fhir.js) throw where the C builders of clients/cli/export return a negative SES_E* code:
// .code is the same stable name ('BAD_FIELD' for an input exp_input_check refuses,
// 'INVALID_ARG' for no input at all, 'IO' where libhpdf or another library would fail).

import { SesError } from '../errors.js';

/** An export refused or failed; .code is the SES error name, .num its number. */
export class ExportError extends SesError {
  /**
   * @param {string} code a name of the protocol's error table ('BAD_FIELD', 'INVALID_ARG', 'IO')
   * @param {string} [detail] which field or what went wrong, for people (never the content)
   */
  constructor(code, detail) {
    super(code, detail);
    this.name = 'ExportError';
  }
}
