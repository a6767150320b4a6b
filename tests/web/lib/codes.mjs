// codes.mjs - what the node tests of clients/web/src/protocol share: the error code a call
// throws.

/** The `code` of what fn throws, or 'no error'. */
export function codeOf(fn) {
  try {
    fn();
  } catch (e) {
    return e.code;
  }
  return 'no error';
}
