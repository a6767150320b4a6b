// backoff.js - reconnection delays: exponential from BASE_MS up to MAX_MS with full jitter, so a
// restarted daemon is not met by every browser at the same instant. Pure.

export const BASE_MS = 500;
export const MAX_MS = 30000;

/**
 * The delay before reconnection attempt `attempt` (0 = the first after a drop).
 * @param {number} attempt 0, 1, 2, ...
 * @param {() => number} random a source in [0, 1) (Math.random by default; tests pass their own)
 * @returns {number} milliseconds in [BASE_MS / 2, min(MAX_MS, BASE_MS * 2^attempt)]
 */
export function backoffDelay(attempt, random = Math.random) {
  const n = Math.max(0, Math.min(attempt, 16));
  const cap = Math.min(MAX_MS, BASE_MS * 2 ** n);
  const floor = BASE_MS / 2;
  return Math.round(floor + (cap - floor) * random());
}
