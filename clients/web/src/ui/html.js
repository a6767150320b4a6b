// html.js - the view layer's one import: Preact's h bound to htm, so screens are tagged
// templates (html`<p>${x}</p>`) with no build-time JSX and no inline script.
import { h } from 'preact';
import htm from 'htm';

export const html = htm.bind(h);
export { render } from 'preact';
export { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
