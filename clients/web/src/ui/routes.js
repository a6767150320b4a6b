// routes.js - which screens each role has (#/name), the first one being its home. The policy
// that matters is the server's; this only keeps a role's navigation to what it can use.
import { AdminScreen } from './admin.js';
import { AlertsScreen } from './alerts.js';
import { AuditScreen } from './audit.js';
import { CaseloadScreen } from './caseload.js';
import { ThreadScreen } from './thread.js';
import { ReviewScreen } from './review.js';
import { CaseScreen } from './case.js';
import { RecsScreen } from './recs.js';
import { QueueScreen } from './queue.js';
import { IndicatorsScreen } from './indicators.js';

/** The navigation of each role, home first ('devices' and 'people' are added for everyone). */
export const NAV = {
  nurse: ['caseload', 'alerts', 'queue', 'recs', 'indicators', 'thread'],
  psychiatrist: ['review', 'alerts', 'caseload', 'recs', 'indicators', 'thread', 'case'],
  gp: ['recs', 'caseload', 'alerts', 'thread'],
  auditor: ['audit'],
  admin: ['admin'],
};

const SCREENS = {
  admin: AdminScreen,
  audit: AuditScreen,
  alerts: AlertsScreen,
  caseload: CaseloadScreen,
  thread: ThreadScreen,
  review: ReviewScreen,
  case: CaseScreen,
  recs: RecsScreen,
  queue: QueueScreen,
  indicators: IndicatorsScreen,
};
/** Routes that are opened from a link, not listed in the navigation. */
export const HIDDEN = new Set(['thread', 'case']);

/** The screens a role may open, by route name. */
export function screensFor(role) {
  const out = {};
  for (const n of NAV[role] ?? []) out[n] = SCREENS[n];
  return out;
}
