// daemon.mjs - starts a real sesamed for a browser test: a fresh temporary folder, the development
// certificates (certs/gen-dev-certs.sh), `sesamed init --json`, then `sesamed serve` on a free
// loopback port with the web client's files (--web-root), waiting (bounded) for its ready file.
// The binary comes from the environment variable SESAMED (the CTest registration sets it).
// stop() ends the daemon it started by its PID (SIGTERM, then SIGKILL if it does not exit in
// time) and removes the folder; if the test process exits first, the daemon is killed too.
import { spawn, execFile } from 'node:child_process';
import { accessSync, constants, existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GEN_CERTS = fileURLToPath(new URL('../../../certs/gen-dev-certs.sh', import.meta.url));
// setpriv (util-linux) makes the kernel kill the daemon if this process dies, even by SIGKILL.
const SETPRIV = '/usr/bin/setpriv';

export const READY_TIMEOUT_MS = 10_000;
export const STOP_TIMEOUT_MS = 10_000;

/** The sesamed binary named by $SESAMED; throws a clear error when it is unset or unusable. */
export function sesamedPath() {
  const bin = process.env.SESAMED;
  if (!bin) {
    throw new Error('SESAMED is not set: point it at the built daemon (e.g. build/daemon/sesamed); ' +
      'ctest sets it for the web.* tests');
  }
  try {
    accessSync(bin, constants.X_OK);
  } catch {
    throw new Error(`SESAMED=${bin} is not an executable file: build sesamed first`);
  }
  return bin;
}

// Daemons still running, killed synchronously if the test process goes away without stop().
const live = new Map(); // pid -> temp dir
function killLive() {
  for (const [pid, dir] of live) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    try { rmSync(dir, { recursive: true, force: true }); } catch { /* best effort */ }
  }
  live.clear();
}
process.on('exit', killLive);
for (const [sig, num] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.once(sig, () => { killLive(); process.exit(128 + num); });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// p, or null after ms (the timer is cleared either way: no wait outlives its promise)
async function within(p, ms) {
  let timer;
  const t = new Promise((r) => { timer = setTimeout(() => r(null), ms); });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

function parseReady(text) {
  const port = Number(/^port=(\d+)$/m.exec(text)?.[1]);
  const pid = Number(/^pid=(\d+)$/m.exec(text)?.[1]);
  return port > 0 && port < 65536 && pid > 0 ? { port, pid } : null;
}

function tail(file, max = 4000) {
  try {
    const s = readFileSync(file, 'utf8');
    return s.length > max ? s.slice(-max) : s;
  } catch {
    return '';
  }
}

/**
 * Starts sesamed. Options: webRoot (folder for --web-root), args (more `serve` flags).
 * Returns {url, origin, port, pid, dataDir, adminCode, serverId, caFile, certFile, logFile,
 * logTail(), stop()}; stop() resolves to the daemon's exit {code, signal}.
 */
export async function startDaemon({ webRoot, args = [] } = {}) {
  const bin = sesamedPath();
  const dir = await mkdtemp(join(tmpdir(), 'sesame-web-'));
  try {
    const certs = join(dir, 'certs');
    await run('bash', [GEN_CERTS, certs], { timeout: 20_000 });
    const dataDir = join(dir, 'data');
    const init = await run(bin, ['init', '--data', dataDir, '--json'], { timeout: 20_000 });
    const info = JSON.parse(init.stdout);
    if (typeof info.admin_code !== 'string' || typeof info.server_id !== 'string') {
      throw new Error(`sesamed init --json: unexpected output ${init.stdout}`);
    }
    const ready = join(dir, 'ready');
    const logFile = join(dir, 'sesamed.log');
    const argv = ['serve', '--data', dataDir, '--listen', '127.0.0.1:0',
      '--cert', join(certs, 'server.crt'), '--key', join(certs, 'server.key'),
      '--ready-file', ready, '--log-level', 'debug'];
    if (webRoot) argv.push('--web-root', webRoot);
    argv.push(...args);
    let child;
    let exited = null; // {code, signal} once the current child has exited
    let exit;
    const spawnDaemon = async (args) => {
      const log = openSync(logFile, 'a', 0o600);
      const [cmd, cmdArgs] = existsSync(SETPRIV)
        ? [SETPRIV, ['--pdeathsig', 'KILL', '--', bin, ...args]] // setpriv execs: same PID
        : [bin, args];
      child = spawn(cmd, cmdArgs, { stdio: ['ignore', log, log] });
      closeSync(log);
      exited = null;
      const me = child;
      exit = new Promise((resolve) => {
        me.once('exit', (code, signal) => {
          exited = { code, signal };
          live.delete(me.pid);
          resolve(exited);
        });
      });
      if (child.pid === undefined) {
        throw new Error(`cannot start ${bin}: ${await new Promise((r) => me.once('error', r))}`);
      }
      live.set(child.pid, dir);
    };
    await spawnDaemon(argv);

    const halt = async () => {
      if (!exited) {
        child.kill('SIGTERM');
        if ((await within(exit, STOP_TIMEOUT_MS)) === null) {
          child.kill('SIGKILL');
          await within(exit, 2000);
        }
      }
      live.delete(child.pid);
      return exited;
    };
    const stop = async () => {
      const status = await halt();
      await rm(dir, { recursive: true, force: true });
      return status;
    };
    // Waits (bounded) for the ready file of the current child; returns its port.
    const waitReady = async () => {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      for (;;) {
        if (exited) {
          throw new Error(`sesamed serve exited (${exited.code ?? exited.signal}) before it was ` +
            `ready\n--- sesamed log ---\n${tail(logFile)}`);
        }
        const r = parseReady(await readFile(ready, 'utf8').catch(() => ''));
        if (r && r.pid === child.pid) return r.port;
        if (Date.now() >= deadline) {
          throw new Error(`sesamed serve: no ready file after ${READY_TIMEOUT_MS} ms\n` +
            `--- sesamed log ---\n${tail(logFile)}`);
        }
        await sleep(25);
      }
    };
    /**
     * Stops the daemon (SIGTERM) and starts it again on the same port and data, as an operator
     * restarting it would; resolves when the new process is ready. `between` runs while it is
     * down (e.g. to tamper with the database).
     */
    const restart = async (between) => {
      const port = handle.port;
      const status = await halt();
      if (between) await between();
      await rm(ready, { force: true });
      const again = argv.map((a) => (a === '127.0.0.1:0' ? `127.0.0.1:${port}` : a));
      await spawnDaemon(again);
      await waitReady();
      handle.pid = child.pid;
      return status;
    };
    let handle;

    let port;
    try {
      port = await waitReady();
    } catch (e) {
      await stop();
      throw e;
    }
    handle = {
      url: `wss://127.0.0.1:${port}/`,
      origin: `https://127.0.0.1:${port}`,
      port,
      pid: child.pid,
      dir,
      dataDir,
      adminCode: info.admin_code,
      serverId: info.server_id,
      caFile: join(certs, 'ca.crt'),
      certFile: join(certs, 'server.crt'),
      logFile,
      logTail: () => tail(logFile),
      stop,
      restart,
    };
    return handle;
  } catch (e) {
    // a failure before the daemon was handed over: nothing of this start is left behind
    if (![...live.values()].includes(dir)) await rm(dir, { recursive: true, force: true });
    throw e;
  }
}
