// devices.js - "My devices" (this browser's id and key fingerprint, the user's other devices,
// a link to enrol another one, sharing history with it: PROTOCOL.md §7 device_link, §12) and
// "Safety numbers" (the 60 digits to compare with each colleague, as `sesame safety-number`).
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { ErrorLine, Title, When, useAction, useLoad } from './common.js';
import { fromB64url, idFromText } from '../protocol/encode.js';
import {
  fingerprint as rawFingerprint,
  groupFingerprint,
  safetyNumber,
  safetyRows,
} from '../protocol/fingerprint.js';
import { shareHistoryTo } from '../app/threads.js';

/** A device key's fingerprint as the CLI shows it (`sesame device fingerprint`). */
const fingerprint = (signPk) => groupFingerprint(rawFingerprint(signPk));

const KEY_ROLES = ['nurse', 'psychiatrist', 'gp', 'admin'];

/** The active devices of `user` from the server (`keys`), or [] for roles that may not ask. */
async function ownDevices(session) {
  if (!KEY_ROLES.includes(session.profile.role)) return [];
  const r = await session.request({ t: 'keys', user: session.profile.user });
  return r.devices;
}

function LinkDevice({ session }) {
  const act = useAction();
  const [link, setLink] = useState(null);
  const make = () =>
    act.run(async () => {
      const r = await session.request({ t: 'device_link' });
      setLink({ url: `${location.origin}/#code=${r.code}`, expires: r.expires });
    });
  return html`<section aria-labelledby="link-h">
    <h2 id="link-h">${t('devices.link.title')}</h2>
    <p>${t('devices.link.intro')}</p>
    <button type="button" onClick=${make} disabled=${act.busy}>${t('devices.link.make')}</button>
    <${ErrorLine} error=${act.error} />
    ${link &&
    html`<p>
      <span class="mono selectable" data-testid="device-link">${link.url}</span>
      <br />${t('devices.link.expires')} <${When} ms=${link.expires} />
    </p>`}
  </section>`;
}

function ShareHistory({ session, device }) {
  const act = useAction();
  const [done, setDone] = useState(null);
  const fp = fingerprint(fromB64url(device.sign_pk));
  const share = () =>
    act.run(async () => setDone(await shareHistoryTo(session, device)));
  return html`<div class="share">
    <p>${t('devices.share.confirm')} <span class="mono">${fp}</span></p>
    <button type="button" onClick=${share} disabled=${act.busy}>
      ${t('devices.share.do')}
    </button>
    <${ErrorLine} error=${act.error} />
    ${done && html`<p role="status">${t('devices.share.done', done)}</p>`}
  </div>`;
}

export function DevicesScreen({ session }) {
  const me = session.profile;
  const list = useLoad(() => ownDevices(session), [session]);
  const [sharing, setSharing] = useState(null);
  return html`<${Title}>${t('devices.title')}<//>
    <section aria-labelledby="this-h">
      <h2 id="this-h">${t('devices.this')}</h2>
      <dl class="facts">
        <dt>${t('devices.name')}</dt>
        <dd>${me.deviceName ?? t('enrol.browser')}</dd>
        <dt>${t('devices.id')}</dt>
        <dd class="mono" data-testid="device-id">${me.device}</dd>
        <dt>${t('devices.fingerprint')}</dt>
        <dd class="mono" data-testid="device-fingerprint">${fingerprint(session.keys.signPk)}</dd>
      </dl>
      <p class="warning">${t('device.warning')}</p>
    </section>
    ${KEY_ROLES.includes(me.role) &&
    html`<section aria-labelledby="mine-h">
      <h2 id="mine-h">${t('devices.mine')}</h2>
      <${ErrorLine} error=${list.error} />
      <table>
        <caption class="sr-only">${t('devices.mine')}</caption>
        <thead>
          <tr>
            <th scope="col">${t('devices.id')}</th>
            <th scope="col">${t('devices.created')}</th>
            <th scope="col">${t('devices.fingerprint')}</th>
            <th scope="col"><span class="sr-only">${t('actions')}</span></th>
          </tr>
        </thead>
        <tbody>
          ${(list.data ?? []).map(
            (d) => html`<tr>
              <td class="mono">${d.device}${d.device === me.device ? ` (${t('devices.this_short')})` : ''}</td>
              <td><${When} ms=${d.created} /></td>
              <td class="mono">${fingerprint(fromB64url(d.sign_pk))}</td>
              <td>
                ${d.device !== me.device &&
                html`<button type="button" class="small" onClick=${() => setSharing(d)}>
                  ${t('devices.share.open')}
                </button>`}
              </td>
            </tr>`,
          )}
        </tbody>
      </table>
      ${sharing && html`<${ShareHistory} session=${session} device=${sharing} key=${sharing.device} />`}
    </section>`}
    <${LinkDevice} session=${session} />`;
}

function SafetyNumber({ session, user }) {
  const num = useLoad(async () => {
    const [mine, theirs] = await Promise.all(
      [session.profile.user, user.user].map((u) => session.request({ t: 'keys', user: u })),
    );
    const half = (r) => ({
      userId: idFromText(r.user),
      signPks: r.devices.map((d) => fromB64url(d.sign_pk)),
    });
    return {
      number: await safetyNumber(half(mine), half(theirs)), mine: mine.devices.length, theirs: theirs.devices.length };
  }, [user.user]);
  if (num.error) return html`<${ErrorLine} error=${num.error} />`;
  if (!num.data) return html`<p>${t('loading')}</p>`;
  return html`<div class="safety" data-testid="safety-number" aria-label=${t('people.number_of', { name: user.name })}>
      ${safetyRows(num.data.number).map((r) => html`<p class="mono big">${r}</p>`)}
      <p>${t('people.covers', num.data)}</p>
    </div>`;
}

export function PeopleScreen({ session }) {
  const dir = useLoad(() => session.request({ t: 'directory' }), [session]);
  const [open, setOpen] = useState(null);
  const users = (dir.data?.users ?? []).filter((u) => u.user !== session.profile.user);
  return html`<${Title}>${t('people.title')}<//>
    <p>${t('people.intro')}</p>
    <${ErrorLine} error=${dir.error} />
    <ul class="people">
      ${users.map(
        (u) => html`<li>
          <button type="button" class="link" aria-expanded=${open === u.user} onClick=${() => setOpen(open === u.user ? null : u.user)}>
            ${u.name} · ${t(`role.${u.role}`)}${u.site ? ` · ${u.site}` : ''}
          </button>
          ${open === u.user && html`<${SafetyNumber} session=${session} user=${u} />`}
        </li>`,
      )}
    </ul>`;
}
