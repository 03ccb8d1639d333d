// Turns wasm-bindgen's output into the shipped bundle in DIST:
//   wallet-checkout.js              the loader a page includes (short cache; its SRI hash is in integrity.json)
//   wallet-checkout.<hash>.js       the wasm-bindgen glue with the element class inlined (immutable)
//   wallet-checkout.<hash>.wasm     the module (immutable)
//   wallet-checkout.<tag>.<hash>.json  each locale but English (compiled in), fetched when needed
//   integrity.json                  SRI hashes of every file
// The loader fetches the glue and the module in parallel and checks both against their SHA-384
// hashes (a modulepreload with `integrity` for the glue, `fetch(..., { integrity })` for the
// module), so the one hash on the page's script tag covers the whole chain. On the way the names
// the module and the glue share are shortened (scripts/shorten-names.mjs) and the glue is
// minified (esbuild, from tools/).
// usage: node scripts/bundle.mjs WASM_BINDGEN_OUT_DIR DIST_DIR
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { shortenNames } from './shorten-names.mjs';

const [outDir, dist] = process.argv.slice(2);
if (!outDir || !dist) {
  console.error('usage: node scripts/bundle.mjs WASM_BINDGEN_OUT_DIR DIST_DIR');
  process.exit(2);
}
const root = resolve(import.meta.dirname, '..');

const sri = (bytes) => `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
const shortHash = (bytes) => createHash('sha256').update(bytes).digest('hex').slice(0, 12);

function findFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? findFiles(path) : [path];
  });
}

// The glue imports each JS snippet (`#[wasm_bindgen(module = ...)]`) from ./snippets/...; inline
// them so the page makes one request for JS before the module.
let glue = readFileSync(join(outDir, 'wallet-checkout-core.js'), 'utf8');
for (const snippet of findFiles(outDir).filter((path) => path.includes('/snippets/'))) {
  const specifier = `./${relative(outDir, snippet)}`;
  const pattern = new RegExp(`import \\{([^}]*)\\} from '${specifier.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}';\\n`);
  const match = pattern.exec(glue);
  if (!match) throw new Error(`the glue does not import ${specifier} in the expected form`);
  const exported = match[1].split(',').map((name) => name.trim()).filter(Boolean);
  const body = readFileSync(snippet, 'utf8').replace(/^export (function|const|class) /gm, '$1 ');
  for (const name of exported) {
    if (!new RegExp(`\\b(function|const|class) ${name}\\b`).test(body)) {
      throw new Error(`${specifier} does not define ${name}`);
    }
  }
  glue = glue.replace(match[0], `${body}\n`);
}

// Every locale but English becomes a file; the glue learns their names and hashes. A file is the
// array of the locale's texts in the order of the English keys (sorted, as build.rs orders `Key`),
// so the module needs no key names; a key the locale lacks is `null` (English is shown).
const keys = Object.keys(JSON.parse(readFileSync(join(root, 'locales/en.json'), 'utf8'))).sort();
const locales = {};
for (const name of readdirSync(join(root, 'locales')).sort()) {
  const tag = name.replace(/\.json$/, '');
  if (tag === 'en' || tag === name) continue;
  const texts = JSON.parse(readFileSync(join(root, 'locales', name), 'utf8'));
  const text = JSON.stringify(keys.map((key) => texts[key] ?? null));
  locales[tag] = { name: `wallet-checkout.${tag}.${shortHash(text)}.json`, text };
}
const manifest = Object.fromEntries(Object.entries(locales).map(([tag, { name, text }]) => [tag, [name, sri(text)]]));
if (!glue.includes('{/* LOCALE_FILES */}')) throw new Error('the glue has no LOCALE_FILES placeholder');
glue = glue.replace('{/* LOCALE_FILES */}', JSON.stringify(manifest));

let wasm = readFileSync(join(outDir, 'wallet-checkout-core_bg.wasm'));
// Leptos's wasm-split support stamps the module with a hash of the path leptos was built from
// (its place in CARGO_HOME). The widget does not split its module; a fixed stamp of the same
// length keeps the build reproducible across machines.
const STAMP = Buffer.from('_WASM_SPLIT_MARKER_');
for (let at = wasm.indexOf(STAMP); at !== -1; at = wasm.indexOf(STAMP, at + 1)) {
  const digits = wasm.subarray(at + STAMP.length, at + STAMP.length + 16);
  if (/^[0-9a-f]{16}$/.test(digits.toString('latin1'))) digits.fill('0'.charCodeAt(0));
}
({ wasm, glue } = shortenNames(wasm, glue));
const wasmName = `wallet-checkout.${shortHash(wasm)}.wasm`;
glue = glue.replaceAll('wallet-checkout-core_bg.wasm', wasmName);
const esbuild = createRequire(join(root, 'tools/package.json'))('esbuild');
glue = esbuild.transformSync(glue, { format: 'esm', minify: true, target: 'es2020', legalComments: 'none' }).code;
const coreName = `wallet-checkout.${shortHash(glue)}.js`;

let loader = readFileSync(join(root, 'js/wallet-checkout.js'), 'utf8')
  .replace('__CORE_FILE__', coreName)
  .replace('__CORE_INTEGRITY__', sri(glue))
  .replace('__WASM_FILE__', wasmName)
  .replace('__WASM_INTEGRITY__', sri(wasm));
if (/__[A-Z_]+__/.test(loader)) throw new Error('a placeholder in js/wallet-checkout.js was not filled');
loader = esbuild.transformSync(loader, { format: 'esm', minify: true, target: 'es2020', legalComments: 'none' }).code;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, coreName), glue);
writeFileSync(join(dist, wasmName), wasm);
writeFileSync(join(dist, 'wallet-checkout.js'), loader);
for (const { name, text } of Object.values(locales)) writeFileSync(join(dist, name), text);
const integrity = {
  'wallet-checkout.js': sri(loader),
  [coreName]: sri(glue),
  [wasmName]: sri(wasm),
  ...Object.fromEntries(Object.values(locales).map(({ name, text }) => [name, sri(text)])),
};
writeFileSync(join(dist, 'integrity.json'), `${JSON.stringify(integrity, null, 2)}\n`);
for (const [name, hash] of Object.entries(integrity)) console.log(`${hash}  ${name}`);
