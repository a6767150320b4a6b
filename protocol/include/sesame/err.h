/*
 * err.h - Sesame's one error table.
 *
 * Every error that can reach a peer has a stable name and a stable negative number; both go on the
 * wire in error frames ({"t":"error","code":NAME,"num":NUM,...}) and are documented in PROTOCOL.md.
 * Numbers are never reused or renumbered. Functions across Sesame return 0 on success or a negative
 * SES_E* value.
 */
#ifndef SESAME_ERR_H
#define SESAME_ERR_H

/* XX(name, number, message) */
#define SES_ERR_MAP(XX)                                                                            \
    XX(BAD_JSON, -1, "frame is not valid JSON")                                                    \
    XX(BAD_FRAME, -2, "frame must be a JSON object with a string \"t\" and an integer \"id\"")     \
    XX(UNKNOWN_TYPE, -3, "unknown message type")                                                   \
    XX(BAD_FIELD, -4, "a field has the wrong type or is out of range")                             \
    XX(MISSING_FIELD, -5, "a required field is missing")                                           \
    XX(TOO_LARGE, -6, "frame exceeds the size limit")                                              \
    XX(TOO_DEEP, -7, "JSON nesting exceeds the depth limit")                                       \
    XX(UNAUTHENTICATED, -8, "log in first")                                                        \
    XX(ALREADY_AUTHENTICATED, -9, "this connection is already logged in")                          \
    XX(AUTH_FAILED, -10, "authentication failed")                                                  \
    XX(REPLAY, -11, "nonce was not issued on this connection or was already used")                 \
    XX(CLOCK_SKEW, -12, "timestamp too far from server time")                                      \
    XX(REVOKED, -13, "device or user is revoked")                                                  \
    XX(CODE_INVALID, -14, "enrolment code is not valid")                                           \
    XX(CODE_EXPIRED, -15, "enrolment code has expired")                                            \
    XX(CODE_USED, -16, "enrolment code was already used")                                          \
    XX(CODE_LOCKED, -17, "enrolment code is locked after too many attempts")                       \
    XX(DENIED, -18, "not allowed for this role")                                                   \
    XX(NOT_FOUND, -19, "no such object")                                                           \
    XX(CONFLICT, -20, "conflicts with the current state")                                          \
    XX(RATE_LIMITED, -21, "too many requests")                                                     \
    XX(INTERNAL, -22, "internal server error")                                                     \
    XX(UNSUPPORTED, -23, "unsupported protocol version or suite")                                  \
    XX(TIMEOUT, -24, "timed out")                                                                  \
    XX(CLOSED, -25, "connection closed")                                                           \
    XX(IO, -26, "input/output error")                                                              \
    XX(NOMEM, -27, "out of memory")                                                                \
    XX(INVALID_ARG, -28, "invalid argument")                                                       \
    XX(EXISTS, -29, "already exists")                                                              \
    XX(BAD_SIGNATURE, -30, "envelope signature does not verify")                                   \
    XX(BAD_COMMITMENT, -31, "envelope key does not match its commitment")                          \
    XX(GHOST_DEVICE, -32, "envelope is wrapped to a device that is not an expected recipient")     \
    XX(NOT_A_RECIPIENT, -33, "envelope has no key wrapped to this device")                         \
    XX(REPLAYED, -34, "sender sequence number is not above the last one seen")                     \
    XX(BAD_ENVELOPE, -35, "envelope is malformed")                                                 \
    XX(DECRYPT_FAILED, -36, "envelope key wrap or ciphertext does not decrypt")                    \
    XX(INNER_MISMATCH, -37, "envelope's inner sender, message or thread differs from its header")  \
    XX(UNKNOWN_ALERT_TYPE, -38, "unknown alert type code or variant")                              \
    XX(SEVERITY_TOO_LOW, -39, "severity is below the alert type's minimum")                        \
    XX(NOT_OWNER, -40,                                                                             \
       "only an owner of the alert, or the recommendation's addressee, may do this")               \
    XX(OUTCOME_REQUIRED, -41, "a safety alert is closed only with a risk-assessment outcome")      \
    XX(BAD_STATE, -42, "the state of the alert, session or episode does not allow this")           \
    XX(BAD_SCALE, -43, "a scale answer is missing or out of range")                                \
    XX(NOTE_REQUIRED, -44, "a safety alert is closed only with a note of the assessment")          \
    XX(OUTCOME_CONFLICT, -45, "this resolution code cannot close a risk above low")                \
    XX(REASON_REQUIRED, -46, "a modified or declined recommendation needs the GP's reason")        \
    XX(STORAGE_FULL, -47, "the server's storage is full: nothing was stored; try again later")     \
    XX(ROSTER_BROKEN, -48, "the signed roster does not follow from the thread's previous roster")

enum ses_err {
    SES_OK = 0,
#define XX(name, num, msg) SES_E##name = (num),
    SES_ERR_MAP(XX)
#undef XX
};

/* Stable wire name of an error ("BAD_JSON"), or "UNKNOWN" for a number not in the table. Static. */
const char *ses_err_name(int err);

/* Human message of an error, or "unknown error". Static string. */
const char *ses_err_msg(int err);

/* Number for a wire name, or 0 if the name is not in the table. */
int ses_err_from_name(const char *name);

#endif
