// routes.js - which screens each role has (#/name), the first one being its home. The policy
// that matters is the server's; this only keeps a role's navigation to what it can use.
import { AdminScreen } from './admin.js';
import { AlertsScreen } from './alerts.js';
import { AuditScreen } from './audit.js';
import { CaseloadScreen } from './caseload.js';
import { ThreadScreen } from './thread.js';

/** The navigation of each role, home first ('devices' and 'people' are added for everyone). */
export const NAV = {
  nurse: ['caseload', 'alerts', 'thread'],
  psychiatrist: ['alerts', 'caseload', 'thread'],
  gp: ['caseload', 'alerts', 'thread'],
  auditor: ['audit'],
  admin: ['admin'],
};

const SCREENS = {
  admin: AdminScreen,
  audit: AuditScreen,
  alerts: AlertsScreen,
  caseload: CaseloadScreen,
  thread: ThreadScreen,
};
/** Routes that are opened from a link, not listed in the navigation. */
export const HIDDEN = new Set(['thread']);

/** The screens a role may open, by route name. */
export function screensFor(role) {
  const out = {};
  for (const n of NAV[role] ?? []) out[n] = SCREENS[n];
  return out;
}
