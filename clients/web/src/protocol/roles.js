// roles.js - the five roles of a Sesame team and their wire names (protocol/include/sesame/
// roles.h, protocol/src/roles.c), and the role masks the alert catalogue uses (§13). Pure.

export const SES_ROLE_NONE = 0; // not a role: an unauthenticated or unknown principal
export const SES_ROLE_ADMIN = 1;
export const SES_ROLE_NURSE = 2;
export const SES_ROLE_PSYCHIATRIST = 3;
export const SES_ROLE_GP = 4;
export const SES_ROLE_AUDITOR = 5;
export const SES_ROLE_COUNT = 6;

const ROLE_NAMES = Object.freeze(['none', 'admin', 'nurse', 'psychiatrist', 'gp', 'auditor']);

/** The clinical roles (nurse, psychiatrist, gp) as a mask of 1 << role. */
export const CLINICAL_ROLES = (1 << SES_ROLE_NURSE) | (1 << SES_ROLE_PSYCHIATRIST)
  | (1 << SES_ROLE_GP);

/**
 * The wire name of a role ("admin", "nurse", "psychiatrist", "gp", "auditor"), or "none"
 * (ses_role_name).
 * @param {number} role SES_ROLE_*
 * @returns {string}
 */
export function roleName(role) {
  return Number.isInteger(role) && role >= 0 && role < SES_ROLE_COUNT ? ROLE_NAMES[role] : 'none';
}

/**
 * The role of a wire name, or SES_ROLE_NONE when it is not one (ses_role_from_name).
 * @param {string} name
 * @returns {number}
 */
export function roleFromName(name) {
  const r = ROLE_NAMES.indexOf(name);
  return r > SES_ROLE_NONE ? r : SES_ROLE_NONE;
}

/**
 * The names of the roles in a mask of 1 << role, in role order.
 * @param {number} mask
 * @returns {string[]}
 */
export function roleNames(mask) {
  return ROLE_NAMES.filter((_, r) => r > SES_ROLE_NONE && (mask & (1 << r)) !== 0);
}
