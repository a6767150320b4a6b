// build.mjs - builds the web client into a folder sesamed serves with --web-root: esbuild bundles
// src/main.js (Preact, htm, libsodium-wrappers, our modules) and src/styles.css into
// assets/app.<content hash>.js|.css, and index.html names them, so a changed file gets a new
// name and the assets can be cached for a year while index.html is never cached.
// Usage: node build.mjs [--out DIR] [--demo]   (default: dist; --demo marks every screen as
// showing synthetic data, for scripts/run.sh's demo territory)
import { build } from 'esbuild';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const outIdx = args.indexOf('--out');
const out = resolve(outIdx >= 0 && args[outIdx + 1] ? args[outIdx + 1] : join(here, 'dist'));

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'assets'), { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src/main.js'), styles: join(here, 'src/styles.css') },
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  legalComments: 'linked',
  entryNames: '[name].[hash]',
  outdir: join(out, 'assets'),
  metafile: true,
  logLevel: 'warning',
  // libsodium-wrappers names node's modules for its node path; the browser bundle needs none
  external: ['crypto', 'path', 'fs'],
  define: { 'process.env.NODE_ENV': '"production"' },
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const pick = (prefix, ext) => {
  const f = outputs.find((n) => n.startsWith(prefix + '.') && n.endsWith(ext));
  if (!f) throw new Error(`build: no ${prefix}*${ext} in the output`);
  return f;
};
const html = (await readFile(join(here, 'src/index.html'), 'utf8'))
  .replace('%APP_JS%', `/assets/${pick('app', '.js')}`)
  .replace('%APP_CSS%', `/assets/${pick('styles', '.css')}`)
  .replace('%DEMO%', args.includes('--demo') ? '1' : '0');
await writeFile(join(out, 'index.html'), html);
console.log(`web client built in ${out}: ${outputs.filter((n) => !n.endsWith('.txt')).join(', ')}`);
