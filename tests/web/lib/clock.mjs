// clock.mjs - moves a test daemon's clock (the `test_clock` frame of daemons started with
// --test-hooks, test builds only) for the browser tests, as tests/integration/wire.c
// w_clock_advance does: a fresh device of the admin enrols with a code, logs in with the
// client's clock shifted by the offset already applied, and asks the daemon to advance.
// The frames are those of clients/web/src/protocol/transcript.js; the connection is node's own
// WebSocket (a child node with --experimental-websocket, trusting only the test CA through
// NODE_EXTRA_CA_CERTS), so nothing is relaxed and no npm package is added.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const TRANSCRIPT = new URL('../../../clients/web/src/protocol/transcript.js', import.meta.url).href;
export const CLOCK_TIMEOUT_MS = 15_000;

/**
 * Advances the daemon's clock by ms.
 * @param {{url: string, caFile: string}} daemon startDaemon's handle
 * @param {string} code an enrolment code for another device of an admin (`sesame admin invite --user`)
 * @param {number} offsetMs how far the daemon's clock is already ahead of the wall clock
 * @param {number} ms how much to advance it
 * @returns {Promise<number>} the daemon's new time (ms)
 */
export async function advanceClock(daemon, code, offsetMs, ms) {
  const r = await run(process.execPath, ['--experimental-websocket', '--no-warnings', SELF,
    daemon.url, code, String(offsetMs), String(ms)], {
    timeout: CLOCK_TIMEOUT_MS,
    env: { ...process.env, NODE_EXTRA_CA_CERTS: daemon.caFile },
  });
  return Number(r.stdout.trim());
}

/* --- the child: one enrolment, one login, one test_clock ----------------------------------- */

function connect(url) {
  const ws = new WebSocket(url, 'sesame.1');
  const frames = [];
  const waiters = [];
  ws.onmessage = (ev) => {
    const f = JSON.parse(ev.data);
    const w = waiters.shift();
    if (w) w(f);
    else frames.push(f);
  };
  const next = () => (frames.length ? Promise.resolve(frames.shift())
    : new Promise((r) => waiters.push(r)));
  const opened = new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
  return { ws, next, opened };
}

async function exchange(c, frame, want) {
  c.ws.send(JSON.stringify(frame));
  const f = await c.next();
  if (f.t !== want) throw new Error(`${frame.t}: ${JSON.stringify(f)}`);
  return f;
}

async function child([url, code, offset, ms]) {
  const { authFrame, enrollFrame, newDeviceKeys } = await import(TRANSCRIPT);
  const now = () => Date.now() + Number(offset);
  const keys = newDeviceKeys();
  const a = connect(url);
  await a.opened;
  const enrolled = await exchange(a, { ...enrollFrame(await a.next(), code, keys, now(), 'clock'), id: 1 }, 'enrolled');
  a.ws.close();
  const b = connect(url);
  await b.opened;
  await exchange(b, { ...authFrame(await b.next(), { deviceId: enrolled.device, signSk: keys.signSk }, now()), id: 1 }, 'auth_ok');
  const moved = await exchange(b, { t: 'test_clock', id: 2, advance_ms: Number(ms) }, 'test_clock');
  b.ws.close();
  process.stdout.write(`${moved.now}\n`);
}

if (process.argv[1] === SELF) {
  child(process.argv.slice(2)).then(() => process.exit(0), (e) => {
    console.error(e.message);
    process.exit(1);
  });
}
