// recs.js - the recommendations (PROTOCOL.md §16): #/recs lists them (recs_inbox.js: the GP's
// inbox, a nurse's patients' recommendations, a psychiatrist's own), #/recs/REC_ID opens one
// (recs_detail.js: the decrypted letter, the loop's state and timeline, its steps and exports).
import { html } from './html.js';
import { RecsInbox } from './recs_inbox.js';
import { RecDetail } from './recs_detail.js';

/**
 * The recommendations screen.
 * @param {{session: object, route: string[]}} props route[1]: a recommendation id, if one is open
 */
export function RecsScreen({ session, route }) {
  const id = route[1];
  return id ? html`<${RecDetail} session=${session} id=${id} />` : html`<${RecsInbox} session=${session} />`;
}
