// audit.js - the auditor's screens (PROTOCOL.md §8, §9): the log with filters (actor, action,
// time range: `audit_tail`), one record's detail (`audit_show`: its canonical bytes, decoded, and
// whether they hash to the stored leaf), and "Verify" - the same checks as `sesame audit verify`
// (protocol/audit.js verifyLog), run here against the log key the auditor pinned (pasted once
// from `sesamed log-key`, kept in this browser) and the last checkpoint that verified.
import { html, useState } from './html.js';
import { t } from '../app/i18n.js';
import { describeRecord, parseVkey, verifyLog } from '../protocol/audit.js';
import { getLocal, putLocal } from '../app/keystore.js';
import { ErrorLine, Table, Title, When, useAction, useId, useLoad } from './common.js';

const TAIL_LIMIT = 200;
const keyName = (session) => `audit-vkey:${session.profile.user}`;
const ckptName = (session) => `audit-checkpoint:${session.profile.user}`;

function Filters({ onApply }) {
  const [f, setF] = useState({ actor: '', action: '', from: '', to: '' });
  const ids = { actor: useId('actor'), action: useId('action'), from: useId('from'), to: useId('to') };
  const set = (k) => (e) => setF({ ...f, [k]: e.currentTarget.value });
  const submit = (e) => {
    e.preventDefault();
    const q = {};
    if (f.actor.trim()) q.actor = f.actor.trim();
    if (f.action.trim()) q.action = f.action.trim();
    if (f.from) q.from_ts = Date.parse(`${f.from}T00:00:00`);
    if (f.to) q.to_ts = Date.parse(`${f.to}T23:59:59.999`);
    onApply(q);
  };
  return html`<form class="inline-form" onSubmit=${submit} aria-label=${t('audit.filters')}>
    <div class="field">
      <label for=${ids.actor}>${t('audit.actor')}</label>
      <input id=${ids.actor} value=${f.actor} onInput=${set('actor')} />
    </div>
    <div class="field">
      <label for=${ids.action}>${t('audit.action')}</label>
      <input id=${ids.action} value=${f.action} placeholder="auth.login" onInput=${set('action')} />
    </div>
    <div class="field">
      <label for=${ids.from}>${t('audit.from')}</label>
      <input type="date" id=${ids.from} value=${f.from} onInput=${set('from')} />
    </div>
    <div class="field">
      <label for=${ids.to}>${t('audit.to')}</label>
      <input type="date" id=${ids.to} value=${f.to} onInput=${set('to')} />
    </div>
    <button type="submit">${t('audit.apply')}</button>
  </form>`;
}

function Log({ session }) {
  const [q, setQ] = useState({});
  const log = useLoad(async () => {
    const r = await session.request({ t: 'audit_tail', limit: TAIL_LIMIT, ...q });
    return Promise.all(r.records.map((x) => describeRecord(x)));
  }, [session, JSON.stringify(q)]);
  const rows = log.data ?? [];
  return html`<section aria-labelledby="log-h">
    <h2 id="log-h">${t('audit.log')}</h2>
    <${Filters} onApply=${setQ} />
    <${ErrorLine} error=${log.error} />
    <${Table} class="audit" caption=${t('audit.log')} hideCaption
      cols=${[
        '#', t('audit.time'), t('audit.actor'), t('audit.action'), t('audit.object'),
        t('audit.outcome'),
      ]}>
        ${rows.map(
          (r) => html`<tr data-seq=${r.seq}>
            <td><a href=${`#/audit/${r.seq}`}>${r.seq}</a></td>
            <td>${r.pruned ? t('audit.pruned') : html`<${When} ms=${r.ts} />`}</td>
            <td class="mono">${r.actor?.label ?? '—'}</td>
            <td>${r.action ?? '—'}</td>
            <td class="mono">${r.object ?? '—'}</td>
            <td>${r.outcome ?? '—'}</td>
          </tr>`,
        )}
    <//>
    ${log.data && rows.length === TAIL_LIMIT && html`<p class="muted">${t('audit.limit', { n: TAIL_LIMIT })}</p>`}
  </section>`;
}

function Verify({ session }) {
  const pinned = useLoad(() => getLocal(keyName(session)), [session]);
  const [key, setKey] = useState('');
  const [result, setResult] = useState(null);
  const [progress, setProgress] = useState(null);
  const act = useAction();
  const keyId = useId('vkey');
  const vkey = pinned.data ?? null;
  const pin = (e) => {
    e.preventDefault();
    act.run(async () => {
      await parseVkey(key.trim());
      await putLocal(keyName(session), key.trim());
      pinned.reload();
    });
  };
  const verify = () =>
    act.run(async () => {
      setResult(null);
      const stored = (await getLocal(ckptName(session))) ?? undefined;
      const r = await verifyLog((f) => session.request(f), vkey, (p) => setProgress(p), { stored });
      if (r.ok && r.checkpoint) await putLocal(ckptName(session), r.checkpoint.note);
      setResult(r);
    });
  return html`<section aria-labelledby="verify-h">
    <h2 id="verify-h">${t('audit.verify')}</h2>
    ${!vkey &&
    html`<form onSubmit=${pin}>
      <div class="field">
        <label for=${keyId}>${t('audit.vkey')}</label>
        <input id=${keyId} class="mono" required spellcheck="false" value=${key} onInput=${(e) => setKey(e.currentTarget.value)} />
      </div>
      <p class="muted">${t('audit.vkey_help')}</p>
      <button type="submit" disabled=${act.busy}>${t('audit.pin')}</button>
    </form>`}
    ${vkey &&
    html`<p>${t('audit.pinned')} <span class="mono selectable" data-testid="vkey">${vkey}</span></p>
      <button type="button" onClick=${verify} disabled=${act.busy}>${t('audit.verify_do')}</button>
      ${act.busy && progress && html`<p role="status">${t('audit.progress', progress)}</p>`}`}
    <${ErrorLine} error=${act.error} />
    ${result && html`<${VerifyResult} r=${result} />`}
  </section>`;
}

function VerifyResult({ r }) {
  return html`<div class=${r.ok ? 'verify-ok' : 'verify-fail'} role="status" data-testid="verify-result" data-ok=${String(r.ok)}>
    <p><strong>${r.ok ? t('audit.ok', { n: r.checked }) : t('audit.failed')}</strong></p>
    ${r.failures.map(
      (f) => html`<p class="error">${f.seq ? t('audit.at', { seq: f.seq }) : ''}${f.detail} <span class="mono">(${f.kind})</span></p>`,
    )}
    ${r.checkpoint &&
    html`<dl class="facts">
      <dt>${t('audit.size')}</dt>
      <dd>${r.checkpoint.size}</dd>
      <dt>${t('audit.root')}</dt>
      <dd class="mono">${r.checkpoint.root}</dd>
      <dt>${t('audit.origin')}</dt>
      <dd class="mono">${r.checkpoint.origin}</dd>
      ${r.checkpoint.time && html`<dt>${t('audit.time')}</dt><dd><${When} ms=${r.checkpoint.time} /></dd>`}
      ${r.pruned > 0 && html`<dt>${t('audit.pruned')}</dt><dd>${r.pruned}</dd>`}
    </dl>`}
  </div>`;
}

function RecordDetail({ session, seq }) {
  const rec = useLoad(async () => {
    const r = await session.request({ t: 'audit_show', seq: Number(seq) });
    return describeRecord(r);
  }, [seq]);
  const d = rec.data;
  return html`<p><a href="#/audit">${t('audit.back')}</a></p>
    <${Title}>${t('audit.record', { seq })}<//>
    <${ErrorLine} error=${rec.error} />
    ${d &&
    html`<dl class="facts">
        <dt>${t('audit.time')}</dt>
        <dd><${When} ms=${d.ts} /></dd>
        <dt>${t('audit.actor')}</dt>
        <dd class="mono">${d.actor ? `${d.actor.role ?? '—'} · ${t('audit.user')} ${d.actor.user ?? '—'} · ${t('audit.device')} ${d.actor.device ?? '—'}` : '—'}</dd>
        <dt>${t('audit.action')}</dt>
        <dd>${d.action ?? '—'}</dd>
        <dt>${t('audit.object')}</dt>
        <dd class="mono">${d.object ?? '—'}</dd>
        <dt>${t('audit.outcome')}</dt>
        <dd>${d.outcome ?? '—'}</dd>
        <dt>${t('audit.peer')}</dt>
        <dd class="mono">${d.peer ?? '—'}</dd>
        <dt>${t('audit.leaf')}</dt>
        <dd class="mono">${d.hash ?? '—'} ${d.hashMatches === false ? html`<strong class="error">${t('audit.mismatch')}</strong>` : d.hashMatches ? `(${t('audit.matches')})` : ''}</dd>
      </dl>
      <h2>${t('audit.bytes')}</h2>
      <pre class="mono selectable">${d.pruned ? t('audit.pruned') : d.text}</pre>`}`;
}

export function AuditScreen({ session, route }) {
  if (route[1]) return html`<${RecordDetail} session=${session} seq=${route[1]} />`;
  return html`<${Title}>${t('audit.title')}<//>
    <${Verify} session=${session} />
    <${Log} session=${session} />`;
}
