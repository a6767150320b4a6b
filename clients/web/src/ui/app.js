// app.js - the page: enrolment when this browser is not a device yet, else the signed-in shell
// (header with the connection state and the language, the role's navigation, the screen of the
// current #/route). Routes live in the fragment so nothing about them reaches the server.
import { html, useEffect, useState } from './html.js';
import { t } from '../app/i18n.js';
import { LangPicker } from './lang.js';
import { Session, originUrl } from '../app/session.js';
import { EnrolScreen } from './enrol.js';
import { DevicesScreen, PeopleScreen } from './devices.js';
import { HIDDEN, screensFor, NAV } from './routes.js';

const SIGNED_OUT = 'sesame.signed_out';

function storageFlag(name, value) {
  try {
    if (value === undefined) return localStorage.getItem(name) === '1';
    if (value) localStorage.setItem(name, '1');
    else localStorage.removeItem(name);
  } catch {
    /* private mode */
  }
  return false;
}

/** The current route: the fragment after '#/', split on '/'. */
export function useRoute() {
  const read = () => (location.hash.startsWith('#/') ? location.hash.slice(2) : '').split('/');
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const f = () => setRoute(read());
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return route;
}

function ConnState({ session }) {
  const [s, setS] = useState(session.connState);
  const [, tick] = useState(0);
  useEffect(() => session.onState(setS), [session]);
  useEffect(() => {
    if (s.state !== 'offline' || !s.retryAt) return undefined;
    const id = setInterval(() => tick((n) => n + 1), 1000);
    return () => clearInterval(id);
  }, [s]);
  const secs = s.retryAt ? Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000)) : 0;
  const label = t(`conn.${s.state}`, { seconds: secs });
  return html`<p class=${`conn conn-${s.state}`} role="status" data-state=${s.state}>
    ${label}${s.pending > 0 ? html` · ${t('conn.pending', { count: s.pending })}` : ''}
  </p>`;
}

function Shell({ session, demo, onSignOut, onLang }) {
  const route = useRoute();
  const role = session.profile.role;
  const screens = { ...screensFor(role), devices: DevicesScreen };
  if (role !== 'auditor') screens.people = PeopleScreen;
  const name = screens[route[0]] ? route[0] : (NAV[role][0] ?? 'devices');
  const Screen = screens[name];
  return html`<div class="shell">
    <a class="skip" href="#main">${t('skip')}</a>
    <header class="top">
      <p class="brand">${t('app.name')}</p>
      <p class="who">
        ${session.profile.name} · ${t(`role.${role}`)}${session.profile.site
          ? ` · ${session.profile.site}`
          : ''}
      </p>
      <${ConnState} session=${session} />
      <${LangPicker} onLang=${onLang} />
      <button type="button" class="link" onClick=${onSignOut}>${t('signout')}</button>
    </header>
    ${demo && html`<p class="synthetic" role="note">${t('app.synthetic')}</p>`}
    <nav aria-label=${t('nav.label')}>
      <ul>
        ${[...NAV[role], 'devices', 'people']
          .filter((n) => !HIDDEN.has(n) && (n !== 'people' || role !== 'auditor'))
          .map(
            (n) =>
              html`<li>
                <a href=${`#/${n}`} aria-current=${n === name ? 'page' : undefined}
                  >${t(`nav.${n}`)}</a
                >
              </li>`,
          )}
      </ul>
    </nav>
    <main id="main">
      <${Screen} session=${session} route=${route} key=${route.join('/')} />
    </main>
  </div>`;
}

function SignedOut({ profile, onSignIn, onLang }) {
  return html`<main id="main" class="narrow">
    <${LangPicker} onLang=${onLang} />
    <h1>${t('signedout.title')}</h1>
    <p>${t('signedout.body', { name: profile.name })}</p>
    <button type="button" onClick=${onSignIn}>${t('signin')}</button>
  </main>`;
}

/**
 * @param {{device: {profile: object, keys: object}|null, code: string|null, demo: boolean,
 *   saveDevice: (profile: object, keys: object) => Promise<void>}} props
 */
export function App({ device: initial, code, demo, saveDevice }) {
  const [device, setDevice] = useState(initial);
  const [session, setSession] = useState(null);
  const [signedOut, setSignedOut] = useState(() => storageFlag(SIGNED_OUT));
  const [, redraw] = useState(0);
  const onLang = () => redraw((n) => n + 1);

  useEffect(() => {
    if (!device || signedOut) return undefined;
    const s = new Session({ profile: device.profile, keys: device.keys, url: originUrl() });
    s.start();
    setSession(s);
    return () => s.stop();
  }, [device, signedOut]);

  if (!device) {
    return html`<${EnrolScreen}
      code=${code}
      demo=${demo}
      onLang=${onLang}
      onEnrolled=${async (d) => {
        await saveDevice(d.profile, d.keys);
        storageFlag(SIGNED_OUT, false);
        setDevice(d);
      }}
    />`;
  }
  if (signedOut) {
    return html`<${SignedOut}
      profile=${device.profile}
      onLang=${onLang}
      onSignIn=${() => {
        storageFlag(SIGNED_OUT, false);
        setSignedOut(false);
      }}
    />`;
  }
  if (!session) return html`<p class="boot">${t('conn.connecting')}</p>`;
  return html`<${Shell}
    session=${session}
    demo=${demo}
    onLang=${onLang}
    onSignOut=${() => {
      storageFlag(SIGNED_OUT, true);
      setSession(null);
      setSignedOut(true);
    }}
  />`;
}
