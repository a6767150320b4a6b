// main.js - the web client's entry: libsodium ready, the language, this browser's device (if it
// is one) from IndexedDB, an enrolment code from the link's fragment (removed from the address
// bar at once), then the App.
import './protocol/sodium.js'; // libsodium, initialised before anything uses it
import { pickLang, rememberedLang, setLang } from './app/i18n.js';
import { codeFromFragment, loadDevice, saveDevice } from './app/keystore.js';
import { keysFromBytes, keysToBytes } from './app/session.js';
import { html, render } from './ui/html.js';
import { App } from './ui/app.js';

async function boot() {
  setLang(pickLang(navigator.languages, rememberedLang()));
  const code = codeFromFragment();
  if (code) history.replaceState(null, '', `${location.pathname}#/`);
  const stored = await loadDevice();
  const device = stored ? { profile: stored.profile, keys: keysFromBytes(stored.secrets) } : null;
  const demo = document.querySelector('meta[name="sesame-demo"]')?.content === '1';
  const save = (profile, keys) => saveDevice(profile, keysToBytes(keys));
  const root = document.getElementById('app');
  root.textContent = '';
  render(
    html`<${App} device=${device} code=${code} demo=${demo} saveDevice=${save} />`,
    root,
  );
}

boot().catch((e) => {
  document.getElementById('app').textContent = `Sesame could not start: ${e?.message ?? e}`;
});
