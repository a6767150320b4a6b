// errors.js - the protocol's one error table (PROTOCOL.md §3, protocol/include/sesame/err.h):
// every code's stable name, number and message, and SesError, what every function of
// src/protocol throws. The §10/§12 receiver codes (BAD_SIGNATURE .. INNER_MISMATCH) are the
// envelope refusals; E2E_VERIFY_FAILED is local to clients (a server statement that does not
// verify: a roster whose hash does not match, a reply about another thread) and has no number.

/** [number, name, message] of every code, as err.h lists them; numbers are never reused. */
const TABLE = [
  [-1, 'BAD_JSON', 'frame is not valid JSON'],
  [-2, 'BAD_FRAME', 'frame must be a JSON object with a string "t" and an integer "id"'],
  [-3, 'UNKNOWN_TYPE', 'unknown message type'],
  [-4, 'BAD_FIELD', 'a field has the wrong type or is out of range'],
  [-5, 'MISSING_FIELD', 'a required field is missing'],
  [-6, 'TOO_LARGE', 'frame exceeds the size limit'],
  [-7, 'TOO_DEEP', 'JSON nesting exceeds the depth limit'],
  [-8, 'UNAUTHENTICATED', 'log in first'],
  [-9, 'ALREADY_AUTHENTICATED', 'this connection is already logged in'],
  [-10, 'AUTH_FAILED', 'authentication failed'],
  [-11, 'REPLAY', 'nonce was not issued on this connection or was already used'],
  [-12, 'CLOCK_SKEW', 'timestamp too far from server time'],
  [-13, 'REVOKED', 'device or user is revoked'],
  [-14, 'CODE_INVALID', 'enrolment code is not valid'],
  [-15, 'CODE_EXPIRED', 'enrolment code has expired'],
  [-16, 'CODE_USED', 'enrolment code was already used'],
  [-17, 'CODE_LOCKED', 'enrolment code is locked after too many attempts'],
  [-18, 'DENIED', 'not allowed for this role'],
  [-19, 'NOT_FOUND', 'no such object'],
  [-20, 'CONFLICT', 'conflicts with the current state'],
  [-21, 'RATE_LIMITED', 'too many requests'],
  [-22, 'INTERNAL', 'internal server error'],
  [-23, 'UNSUPPORTED', 'unsupported protocol version or suite'],
  [-24, 'TIMEOUT', 'timed out'],
  [-25, 'CLOSED', 'connection closed'],
  [-26, 'IO', 'input/output error'],
  [-27, 'NOMEM', 'out of memory'],
  [-28, 'INVALID_ARG', 'invalid argument'],
  [-29, 'EXISTS', 'already exists'],
  [-30, 'BAD_SIGNATURE', 'envelope signature does not verify'],
  [-31, 'BAD_COMMITMENT', 'envelope key does not match its commitment'],
  [-32, 'GHOST_DEVICE', 'envelope is wrapped to a device that is not an expected recipient'],
  [-33, 'NOT_A_RECIPIENT', 'envelope has no key wrapped to this device'],
  [-34, 'REPLAYED', 'sender sequence number is not above the last one seen'],
  [-35, 'BAD_ENVELOPE', 'envelope is malformed'],
  [-36, 'DECRYPT_FAILED', 'envelope key wrap or ciphertext does not decrypt'],
  [-37, 'INNER_MISMATCH', 'envelope\'s inner sender, message or thread differs from its header'],
  [-38, 'UNKNOWN_ALERT_TYPE', 'unknown alert type code or variant'],
  [-39, 'SEVERITY_TOO_LOW', 'severity is below the alert type\'s minimum'],
  [-40, 'NOT_OWNER',
    'only an owner of the alert, or the recommendation\'s addressee, may do this'],
  [-41, 'OUTCOME_REQUIRED', 'a safety alert is closed only with a risk-assessment outcome'],
  [-42, 'BAD_STATE', 'the state of the alert, session or episode does not allow this'],
  [-43, 'BAD_SCALE', 'a scale answer is missing or out of range'],
  [-44, 'NOTE_REQUIRED', 'a safety alert is closed only with a note of the assessment'],
  [-45, 'OUTCOME_CONFLICT', 'this resolution code cannot close a risk above low'],
  [-46, 'REASON_REQUIRED', 'a modified or declined recommendation needs the GP\'s reason'],
  [-47, 'STORAGE_FULL', 'the server\'s storage is full: nothing was stored; try again later'],
  [-48, 'ROSTER_BROKEN', 'the signed roster does not follow from the thread\'s previous roster'],
];

/** Client-local code (no number, never on the wire): a server's statement does not verify. */
export const E2E_VERIFY_FAILED = 'E2E_VERIFY_FAILED';

/** Every code by name: {num, msg}. Frozen. */
export const ERRORS = Object.freeze(
  Object.fromEntries(TABLE.map(([num, name, msg]) => [name, Object.freeze({ num, msg })])),
);

/** An error of the protocol: `code` is its name ("BAD_SIGNATURE"), `num` its number. */
export class SesError extends Error {
  /**
   * @param {string} code a name of ERRORS, or E2E_VERIFY_FAILED
   * @param {string} [detail] what went wrong, for people (never secrets or content)
   * @param {object} [extra] more fields copied onto the error (e.g. a receiver's reason)
   */
  constructor(code, detail, extra) {
    const known = ERRORS[code];
    super(`${code}: ${detail ?? known?.msg ?? 'error'}`);
    this.name = 'SesError';
    this.code = code;
    this.num = known?.num;
    if (extra) Object.assign(this, extra);
  }
}

/**
 * The name of an error number, or 'UNKNOWN'.
 * @param {number} num
 * @returns {string}
 */
export function errName(num) {
  return TABLE.find((row) => row[0] === num)?.[1] ?? 'UNKNOWN';
}

/**
 * The number of an error name, or 0 when the name is not in the table.
 * @param {string} name
 * @returns {number}
 */
export function errNum(name) {
  return Object.hasOwn(ERRORS, name) ? ERRORS[name].num : 0;
}

/**
 * The human message of an error name, or 'unknown error'.
 * @param {string} name
 * @returns {string}
 */
export function errMsg(name) {
  return Object.hasOwn(ERRORS, name) ? ERRORS[name].msg : 'unknown error';
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
