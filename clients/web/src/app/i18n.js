// i18n.js - the web client's two languages (French and English): the browser's language first,
// switchable and remembered; labels with {named} parameters; dates and times in the user's locale
// and time zone (Intl). Pure but for the remembered choice (localStorage, when there is one).

import en from './i18n/en.js';
import fr from './i18n/fr.js';
import enReview from './i18n/en_review.js';
import frReview from './i18n/fr_review.js';
import enRecs from './i18n/en_recs.js';
import frRecs from './i18n/fr_recs.js';

/** The labels of each language: the core file and one file per group of screens. */
export const LANGS = { en: { ...en, ...enReview, ...enRecs }, fr: { ...fr, ...frReview, ...frRecs } };
const STORE_KEY = 'sesame.lang';

let current = 'en';

/**
 * The language to use: a remembered choice, else the first of the browser's languages we have.
 * @param {readonly string[]} preferred e.g. navigator.languages
 * @param {string|null} remembered the stored choice, or null
 * @returns {'en'|'fr'}
 */
export function pickLang(preferred, remembered = null) {
  if (remembered && remembered in LANGS) return remembered;
  for (const tag of preferred || []) {
    const base = String(tag).toLowerCase().split('-')[0];
    if (base in LANGS) return base;
  }
  return 'en';
}

/** Sets the current language (and remembers it when storage is available). */
export function setLang(lang, storage = globalThis.localStorage) {
  if (!(lang in LANGS)) throw new RangeError(`unknown language ${lang}`);
  current = lang;
  try {
    storage?.setItem(STORE_KEY, lang);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  if (globalThis.document) document.documentElement.lang = lang;
}

/** The remembered choice, or null. */
export function rememberedLang(storage = globalThis.localStorage) {
  try {
    return storage?.getItem(STORE_KEY) ?? null;
  } catch {
    return null;
  }
}

/** The current language. */
export function lang() {
  return current;
}

/**
 * The label `key` in the current language with {name} parameters replaced. An unknown key is
 * returned as is (visible in tests and screenshots, never a blank).
 * @param {string} key
 * @param {Record<string, string|number>} params
 */
export function t(key, params = {}) {
  const text = LANGS[current][key] ?? LANGS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

/**
 * A time (ms since the epoch) as a date and time in the user's locale and time zone.
 * @param {number} ms
 * @param {Intl.DateTimeFormatOptions} options
 */
export function formatTime(ms, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  return new Intl.DateTimeFormat(current === 'fr' ? 'fr-FR' : 'en-GB', options).format(ms);
}
