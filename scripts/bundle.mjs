// Turns wasm-bindgen's output into the shipped bundle in DIST:
//   wallet-checkout.js              the loader a page includes, with wasm-bindgen's glue and the
//                                   element class inside (short cache; its SRI hash is in integrity.json)
//   wallet-checkout.<hash>.js       the same loader under a versioned name (immutable), for the snippet
//   wallet-checkout.<hash>.wasm     the module (immutable)
//   wallet-checkout.<tag>.<hash>.json  each locale but English (compiled in), fetched when needed
//   wallet-checkout.locales.<hash>.json  their names and SRI hashes, fetched before one of them
//   integrity.json                  SRI hashes of every file
//   embed.json                      the tags of the snippet a page embeds (see below)
// The loader fetches the module with its SHA-384 hash (`fetch(..., { integrity })`), so the one
// hash on the page's script tag covers the whole chain. The snippet (embed.json, the README)
// lets the browser fetch the module as soon as it reads the page: a `preload` of the module with
// its hash beside the versioned loader with its own. On the way the names the module and the glue
// share are shortened (scripts/shorten-names.mjs), the glue loses the parts of wasm-bindgen's
// start-up the loader does not use, and loader and glue are minified together (esbuild, from
// tools/).
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
// The manifest (tag -> [file, SRI hash]) is a file of its own, whose name and hash the glue
// learns: a page in English loads none of it.
const manifestText = JSON.stringify(
  Object.fromEntries(Object.entries(locales).map(([tag, { name, text }]) => [tag, [name, sri(text)]])),
);
const manifestName = `wallet-checkout.locales.${shortHash(manifestText)}.json`;
if (!glue.includes('[/* LOCALES */]')) throw new Error('the glue has no LOCALES placeholder');
glue = glue.replace('[/* LOCALES */]', JSON.stringify([manifestName, sri(manifestText)]));

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

// The glue becomes the first part of the loader: its exports go (the loader is the only caller),
// and so do the ways of starting the module the loader does not use (a path or bytes instead of a
// fetch, `initSync`, the fallback for a server that sends the wrong MIME type: the module must be
// served as `application/wasm`). What is left starts it from the loader's checked fetch.
// Fallbacks for browsers that cannot run the module anyway (it needs bulk memory, so Safari 15,
// Chrome 75, Firefox 79 or later) and for amounts of text the widget never decodes.
const GLUE_TRIMS = [
  // Safari's TextDecoder after 2 GB decoded (the widget decodes kilobytes).
  [/const MAX_SAFARI_DECODE_BYTES = \d+;\nlet numBytesDecoded = 0;\nfunction decodeText\(bytes\) \{[^]*?\n\}\n/,
    'function decodeText(bytes) {\n    return cachedTextDecoder.decode(bytes);\n}\n'],
  // TextEncoder.encodeInto (everywhere since 2021).
  [/if \(!\('encodeInto' in cachedTextEncoder\)\) \{[^]*?\n\}\n/, ''],
  // ArrayBuffer.detached: a grown memory has a new buffer, which the comparison sees.
  [/cachedDataViewMemory0\.buffer\.detached === true \|\| \(cachedDataViewMemory0\.buffer\.detached === undefined && (cachedDataViewMemory0\.buffer !== wasm\.\w+\.buffer)\)/, '$1'],
  // FinalizationRegistry (everywhere since 2021).
  [/\(typeof FinalizationRegistry === 'undefined'\)\n\s*\? \{ register: \(\) => \{\}, unregister: \(\) => \{\} \}\n\s*: new FinalizationRegistry/g, 'new FinalizationRegistry'],
  // `using` declarations on the Widget class, which only the glue touches.
  [/if \(Symbol\.dispose\) Widget\.prototype\[Symbol\.dispose\] = Widget\.prototype\.free;\n/, ''],
];
for (const [pattern, replacement] of GLUE_TRIMS) {
  if (!pattern.test(glue)) throw new Error(`the glue has changed: ${pattern} no longer matches`);
  pattern.lastIndex = 0;
  glue = glue.replace(pattern, replacement);
}

const GLUE_TAIL = 'async function __wbg_load(';
if (!glue.includes(GLUE_TAIL) || !glue.includes('function __wbg_finalize_init(instance, module)')) {
  throw new Error('the glue does not start the module in the expected form');
}
glue = glue.slice(0, glue.indexOf(GLUE_TAIL)).replace(/^export class /m, 'class ')
  + 'function __wbg_init(response) {\n'
  + '  return WebAssembly.instantiateStreaming(response, __wbg_get_imports())\n'
  + '    .then(({ instance, module }) => __wbg_finalize_init(instance, module));\n'
  + '}\n';
if (/^export /m.test(glue)) throw new Error('the glue exports something the loader does not expect');

const esbuild = createRequire(join(root, 'tools/package.json'))('esbuild');
let loader = readFileSync(join(root, 'js/wallet-checkout.js'), 'utf8')
  .replace('__WASM_FILE__', wasmName)
  .replace('__WASM_INTEGRITY__', sri(wasm));
if (/__[A-Z_]+__/.test(loader)) throw new Error('a placeholder in js/wallet-checkout.js was not filled');
loader = esbuild.transformSync(`${glue}\n${loader}`, {
  format: 'esm', minify: true, treeShaking: true, target: 'es2020', legalComments: 'none',
}).code;
const versionedName = `wallet-checkout.${shortHash(loader)}.js`;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
writeFileSync(join(dist, 'wallet-checkout.js'), loader);
writeFileSync(join(dist, versionedName), loader);
writeFileSync(join(dist, wasmName), wasm);
for (const { name, text } of Object.values(locales)) writeFileSync(join(dist, name), text);
writeFileSync(join(dist, manifestName), manifestText);
const integrity = {
  'wallet-checkout.js': sri(loader),
  [versionedName]: sri(loader),
  [wasmName]: sri(wasm),
  [manifestName]: sri(manifestText),
  ...Object.fromEntries(Object.values(locales).map(({ name, text }) => [name, sri(text)])),
};
writeFileSync(join(dist, 'integrity.json'), `${JSON.stringify(integrity, null, 2)}\n`);
// The snippet's tags, attributes in order, paths relative to this directory: a `preload` of the
// module (the loader's `fetch` with the same hash takes it over) and the versioned loader.
const embed = {
  links: [{ rel: 'preload', href: wasmName, as: 'fetch', crossorigin: 'anonymous', integrity: sri(wasm) }],
  script: { type: 'module', src: versionedName, integrity: sri(loader), crossorigin: 'anonymous' },
};
writeFileSync(join(dist, 'embed.json'), `${JSON.stringify(embed, null, 2)}\n`);
for (const [name, hash] of Object.entries(integrity)) console.log(`${hash}  ${name}`);
