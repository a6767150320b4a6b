// errors.js - the one error type of the protocol modules: a SesError carries the C library's
// error name (protocol/include/sesame/err.h: 'BAD_SCALE', 'INVALID_ARG', 'TOO_LARGE', ...) in
// `code`, so the web client reports the same codes as the CLI. Pure.

/** An error named by its err.h code. */
export class SesError extends Error {
  /**
   * @param {string} code the err.h name, e.g. 'BAD_SCALE'
   * @param {string} [message] what was wrong, for people
   */
  constructor(code, message) {
    super(message ? `${code}: ${message}` : code);
    this.name = 'SesError';
    this.code = code;
  }
}

/**
 * Throws a SesError unless ok.
 * @param {boolean} ok the condition that must hold
 * @param {string} code the err.h name thrown otherwise
 * @param {string} [message]
 * @returns {void}
 */
export function check(ok, code, message) {
  if (!ok) throw new SesError(code, message);
}
