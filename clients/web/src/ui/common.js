// common.js - small pieces every screen uses: the async-data hook, an error line, a button
// that waits for its action, a labelled field, a date, and the page heading that takes focus
// when a screen opens (so a keyboard or screen-reader user lands on it).
import { html, useEffect, useRef, useState } from './html.js';
import { formatTime, t } from '../app/i18n.js';

/**
 * Runs `load()` now and whenever a value in `deps` changes; returns {data, error, reload}.
 * @template T
 * @param {() => Promise<T>} load
 * @param {any[]} deps
 */
export function useLoad(load, deps) {
  const [state, setState] = useState({ data: undefined, error: null });
  const gen = useRef(0);
  const reload = () => {
    const mine = ++gen.current;
    load().then(
      (data) => mine === gen.current && setState({ data, error: null }),
      (error) => mine === gen.current && setState((s) => ({ data: s.data, error })),
    );
  };
  useEffect(reload, deps);
  return { ...state, reload };
}

/** The text of an error for the user: the server's code, translated when we know it. */
export function errorText(e) {
  const code = e?.code ?? 'INTERNAL';
  const known = t(`err.${code}`);
  return known === `err.${code}` ? t('error.generic', { code }) : known;
}

/** An error line (announced to screen readers), or nothing. */
export function ErrorLine({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${errorText(error)}</p>`;
}

/** A heading that takes the focus when the screen opens. */
export function Title({ children }) {
  const ref = useRef(null);
  useEffect(() => ref.current?.focus(), []);
  return html`<h1 tabindex="-1" ref=${ref}>${children}</h1>`;
}

/** A date and time in the user's locale and zone, or a dash. */
export function When({ ms, dateOnly = false }) {
  if (ms === null || ms === undefined) return html`<span aria-label=${t('none')}>—</span>`;
  const opts = dateOnly ? { dateStyle: 'medium' } : undefined;
  return html`<time datetime=${new Date(ms).toISOString()}>${formatTime(ms, opts)}</time>`;
}

/**
 * A form's submit state: run(fn) disables the form while fn runs, shows its error, and
 * returns its result (undefined on error).
 */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async (fn) => {
    setBusy(true);
    setError(null);
    try {
      return await fn();
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, setError, run };
}

let fieldSeq = 0;
/** A stable id for a label/control pair. */
export function useId(prefix = 'f') {
  const ref = useRef(null);
  if (ref.current === null) ref.current = `${prefix}${++fieldSeq}`;
  return ref.current;
}

/**
 * A table with its caption (for screen readers only with hideCaption) and a header row of column
 * titles; the children are its body rows. Other props (class, id, aria-*) go on the table.
 * @param {{caption: any, cols: any[], hideCaption?: boolean, children?: any}} props
 */
export function Table({ caption, cols, hideCaption = false, children, ...rest }) {
  return html`<table ...${rest}>
    <caption class=${hideCaption ? 'sr-only' : undefined}>${caption}</caption>
    <thead><tr>${cols.map((c, i) => html`<th scope="col" key=${i}>${c}</th>`)}</tr></thead>
    <tbody>${children}</tbody>
  </table>`;
}
