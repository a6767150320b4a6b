// admin.js - the administrator's screens (PROTOCOL.md §7, §13 On call): invite a user (the
// enrolment link, to open on the new user's machine, and its QR code), the users and their
// devices, revoking a device or a user, and who is on call (on-duty psychiatrist, program lead,
// backups). Every change is the server's, audited there; nothing clinical is shown here.
import qrcode from 'qrcode-generator';
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { ErrorLine, Title, When, useAction, useId, useLoad } from './common.js';

export const ROLES = ['nurse', 'psychiatrist', 'gp', 'auditor', 'admin'];
const CLINICIANS = ['nurse', 'psychiatrist', 'gp'];

/** An enrolment link: the code in the fragment, which the browser never sends to a server. */
export const enrolLink = (code) => `${location.origin}/#code=${code}`;

function QrCode({ text, label }) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  return html`<img class="qr" src=${qr.createDataURL(4, 8)} alt=${label} width="200" height="200" />`;
}

function InviteForm({ session, onInvited }) {
  const act = useAction();
  const [f, setF] = useState({ role: 'nurse', name: '', site: '' });
  const [done, setDone] = useState(null);
  const ids = { role: useId('role'), name: useId('name'), site: useId('site') };
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    act.run(async () => {
      const frame = { t: 'invite', role: f.role, name: f.name.trim() };
      if (f.site.trim()) frame.site = f.site.trim();
      const r = await session.request(frame);
      setDone(r);
      onInvited();
    });
  };
  return html`<section aria-labelledby="inv-h">
    <h2 id="inv-h">${t('admin.invite')}</h2>
    <form onSubmit=${submit} class="inline-form">
      <div class="field">
        <label for=${ids.role}>${t('admin.role')}</label>
        <select id=${ids.role} value=${f.role} onChange=${set('role')}>
          ${ROLES.map((r) => html`<option value=${r}>${t(`role.${r}`)}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for=${ids.name}>${t('admin.name')}</label>
        <input id=${ids.name} required maxlength="64" value=${f.name} onInput=${set('name')} />
      </div>
      <div class="field">
        <label for=${ids.site}>${t('admin.site')}</label>
        <input id=${ids.site} maxlength="64" value=${f.site} onInput=${set('site')} />
      </div>
      <button type="submit" disabled=${act.busy}>${t('admin.invite.do')}</button>
    </form>
    <${ErrorLine} error=${act.error} />
    ${done && html`<${InviteResult} r=${done} />`}
  </section>`;
}

function InviteResult({ r }) {
  const link = enrolLink(r.code);
  return html`<div class="invite-result" role="status" data-name=${r.name}>
    <p>${t('admin.invite.done', { name: r.name, role: t(`role.${r.role}`) })}</p>
    <p>
      ${t('admin.invite.link')}<br />
      <span class="mono selectable" data-testid="invite-link">${link}</span>
    </p>
    <p>${t('admin.invite.expires')} <${When} ms=${r.expires} /></p>
    <${QrCode} text=${link} label=${t('admin.invite.qr', { name: r.name })} />
  </div>`;
}

function UserDevices({ session, user, onChange }) {
  const list = useLoad(() => session.request({ t: 'devices', user: user.user }), [user.user]);
  const act = useAction();
  const revoke = (device) =>
    act.run(async () => {
      if (!confirm(t('admin.revoke.confirm_device', { device }))) return;
      await session.request({ t: 'revoke', device });
      list.reload();
      onChange();
    });
  return html`<div class="devices">
    <${ErrorLine} error=${list.error ?? act.error} />
    <table>
      <caption>${t('admin.devices_of', { name: user.name })}</caption>
      <thead>
        <tr>
          <th scope="col">${t('devices.id')}</th>
          <th scope="col">${t('devices.name')}</th>
          <th scope="col">${t('admin.state')}</th>
          <th scope="col">${t('admin.last_login')}</th>
          <th scope="col"><span class="sr-only">${t('actions')}</span></th>
        </tr>
      </thead>
      <tbody>
        ${(list.data?.devices ?? []).map(
          (d) => html`<tr>
            <td class="mono">${d.device}</td>
            <td>${d.name ?? '—'}</td>
            <td>${t(`state.${d.state}`)}</td>
            <td><${When} ms=${d.last_login} /></td>
            <td>
              ${d.state === 'active' &&
              html`<button type="button" class="small danger" onClick=${() => revoke(d.device)}>
                ${t('admin.revoke')}
              </button>`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function Users({ session, users, reload }) {
  const [open, setOpen] = useState(null);
  const act = useAction();
  const revokeUser = (u) =>
    act.run(async () => {
      if (!confirm(t('admin.revoke.confirm_user', { name: u.name }))) return;
      await session.request({ t: 'revoke', user: u.user });
      reload();
    });
  return html`<section aria-labelledby="users-h">
    <h2 id="users-h">${t('admin.users')}</h2>
    <${ErrorLine} error=${act.error} />
    <table>
      <thead>
        <tr>
          <th scope="col">${t('admin.name')}</th>
          <th scope="col">${t('admin.role')}</th>
          <th scope="col">${t('admin.site')}</th>
          <th scope="col">${t('admin.state')}</th>
          <th scope="col">${t('admin.devices')}</th>
          <th scope="col"><span class="sr-only">${t('actions')}</span></th>
        </tr>
      </thead>
      <tbody>
        ${users.map(
          (u) => html`<tr>
            <td>${u.name}</td>
            <td>${t(`role.${u.role}`)}</td>
            <td>${u.site ?? '—'}</td>
            <td>${t(`state.${u.state}`)}</td>
            <td>
              <button
                type="button"
                class="link"
                aria-expanded=${open === u.user}
                onClick=${() => setOpen(open === u.user ? null : u.user)}
              >
                ${t('admin.devices_n', { count: u.devices })}
              </button>
            </td>
            <td>
              ${u.state === 'active' &&
              u.user !== session.profile.user &&
              html`<button type="button" class="small danger" onClick=${() => revokeUser(u)}>
                ${t('admin.revoke_user')}
              </button>`}
            </td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${open &&
    html`<${UserDevices}
      session=${session}
      user=${users.find((u) => u.user === open)}
      onChange=${reload}
      key=${open}
    />`}
  </section>`;
}

function UserSelect({ id, users, value, onChange, roles }) {
  return html`<select id=${id} value=${value ?? ''} onChange=${(e) => onChange(e.currentTarget.value || null)}>
    <option value="">${t('oncall.nobody')}</option>
    ${users
      .filter((u) => u.state === 'active' && roles.includes(u.role))
      .map((u) => html`<option value=${u.user}>${u.name} (${t(`role.${u.role}`)})</option>`)}
  </select>`;
}

function OnCall({ session, users }) {
  const cur = useLoad(() => session.request({ t: 'oncall_show' }), [session]);
  const act = useAction();
  const ids = { duty: useId('duty'), lead: useId('lead'), who: useId('who'), backup: useId('bk') };
  const [bk, setBk] = useState({ user: '', backup: '' });
  const name = (id) => users.find((u) => u.user === id)?.name ?? id ?? t('oncall.nobody');
  const setRole = (field, value) =>
    act.run(async () => {
      await session.request({ t: 'oncall_set', [field]: value });
      cur.reload();
    });
  const setBackup = (e) => {
    e.preventDefault();
    act.run(async () => {
      await session.request({ t: 'backup_set', user: bk.user, backup: bk.backup || null });
      cur.reload();
    });
  };
  const o = cur.data;
  return html`<section aria-labelledby="oncall-h">
    <h2 id="oncall-h">${t('oncall.title')}</h2>
    <${ErrorLine} error=${cur.error ?? act.error} />
    ${o?.warnings?.map((w) => html`<p class="warning">${t(`warn.${w}`)}</p>`)}
    ${o &&
    html`<div class="field">
        <label for=${ids.duty}>${t('oncall.duty')}</label>
        <${UserSelect}
          id=${ids.duty}
          users=${users}
          roles=${['psychiatrist']}
          value=${o.on_duty_psychiatrist}
          onChange=${(v) => setRole('on_duty_psychiatrist', v)}
        />
      </div>
      <div class="field">
        <label for=${ids.lead}>${t('oncall.lead')}</label>
        <${UserSelect}
          id=${ids.lead}
          users=${users}
          roles=${CLINICIANS}
          value=${o.program_lead}
          onChange=${(v) => setRole('program_lead', v)}
        />
      </div>
      <h3>${t('oncall.backups')}</h3>
      <ul>
        ${o.backups.map((b) => html`<li>${name(b.user)} → ${name(b.backup)}</li>`)}
      </ul>
      <form class="inline-form" onSubmit=${setBackup}>
        <div class="field">
          <label for=${ids.who}>${t('oncall.backup_for')}</label>
          <${UserSelect}
            id=${ids.who}
            users=${users}
            roles=${CLINICIANS}
            value=${bk.user}
            onChange=${(v) => setBk({ ...bk, user: v ?? '' })}
          />
        </div>
        <div class="field">
          <label for=${ids.backup}>${t('oncall.backup')}</label>
          <${UserSelect}
            id=${ids.backup}
            users=${users}
            roles=${CLINICIANS}
            value=${bk.backup}
            onChange=${(v) => setBk({ ...bk, backup: v ?? '' })}
          />
        </div>
        <button type="submit" disabled=${act.busy || !bk.user}>${t('oncall.backup_set')}</button>
      </form>
      ${o.emergency && html`<p>${t('oncall.emergency')} <strong>${o.emergency}</strong></p>`}`}
  </section>`;
}

export function AdminScreen({ session }) {
  const users = useLoad(() => session.request({ t: 'users' }), [session]);
  const list = users.data?.users ?? [];
  return html`<${Title}>${t('admin.title')}<//>
    <${ErrorLine} error=${users.error} />
    <${InviteForm} session=${session} onInvited=${users.reload} />
    <${Users} session=${session} users=${list} reload=${users.reload} />
    <${OnCall} session=${session} users=${list} />`;
}
