// Shortens the names the module and its wasm-bindgen glue know each other by. wasm-bindgen names
// every import after the Rust item and a 16-digit hash (`__wbg_setattribute_2a8f…`) and every
// closure shim after its full type; the module and the glue each carry every name, about 3.7 KB
// brotli in all. Here each import and export gets a short name (`a`, `b`, … `ab`, …) in both
// files at once. Nothing else in either file changes.
//
// usage (from scripts/bundle.mjs): shortenNames(wasmBytes, glueText) -> { wasm, glue }

const IMPORT_SECTION = 2;
const EXPORT_SECTION = 7;
const IMPORT_MODULE = './wallet-checkout-core_bg.js';
const SHORT_MODULE = 'w';

function readU32(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(byte & 0x80)) return [value, at];
  }
}

function u32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return out;
}

function readName(bytes, at) {
  const [length, start] = readU32(bytes, at);
  return [Buffer.from(bytes.subarray(start, start + length)).toString('utf8'), start + length];
}

const name = (text) => {
  const utf8 = Buffer.from(text, 'utf8');
  return [...u32(utf8.length), ...utf8];
};

/** Skips a table, memory or global type's limits (`flags min [max]`). */
function skipLimits(bytes, at) {
  const flags = bytes[at++];
  [, at] = readU32(bytes, at);
  if (flags & 1) [, at] = readU32(bytes, at);
  return at;
}

/** The end of one import's descriptor (kind byte at `at`). */
function skipImportDescriptor(bytes, at) {
  const kind = bytes[at++];
  switch (kind) {
    case 0: // function: type index
      return readU32(bytes, at)[1];
    case 1: // table: reference type, limits
      return skipLimits(bytes, at + 1);
    case 2: // memory: limits
      return skipLimits(bytes, at);
    case 3: // global: value type, mutability
      return at + 2;
    case 4: // tag: attribute, type index
      return readU32(bytes, at + 1)[1];
    default:
      throw new Error(`shorten-names: unknown import kind ${kind}`);
  }
}

/** `a`, `b`, … `Z`, `aa`, `ab`, …: identifiers that are also valid unquoted property names. */
function* shortNames() {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  for (let length = 1; ; length += 1) {
    const total = letters.length ** length;
    for (let i = 0; i < total; i += 1) {
      let text = '';
      for (let n = i, k = 0; k < length; k += 1, n = Math.floor(n / letters.length)) {
        text = letters[n % letters.length] + text;
      }
      yield text;
    }
  }
}

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\$]/g, '\\$&');

export function shortenNames(wasmBytes, glue) {
  const bytes = new Uint8Array(wasmBytes);
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== '\0asm') throw new Error('shorten-names: not a wasm module');
  const sections = [];
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at];
    const [size, start] = readU32(bytes, at + 1);
    sections.push({ id, start, end: start + size, raw: bytes.subarray(at, start + size) });
    at = start + size;
  }

  const imports = new Map();
  const exports = new Map();
  const fresh = shortNames();
  const out = [bytes.subarray(0, 8)];
  for (const section of sections) {
    if (section.id !== IMPORT_SECTION && section.id !== EXPORT_SECTION) {
      out.push(section.raw);
      continue;
    }
    let p = section.start;
    let count;
    [count, p] = readU32(bytes, p);
    const body = [...u32(count)];
    for (let i = 0; i < count; i += 1) {
      if (section.id === IMPORT_SECTION) {
        let module;
        let field;
        [module, p] = readName(bytes, p);
        [field, p] = readName(bytes, p);
        const end = skipImportDescriptor(bytes, p);
        if (module === IMPORT_MODULE) {
          if (!imports.has(field)) imports.set(field, fresh.next().value);
          body.push(...name(SHORT_MODULE), ...name(imports.get(field)));
        } else {
          body.push(...name(module), ...name(field));
        }
        body.push(...bytes.subarray(p, end));
        p = end;
      } else {
        let field;
        [field, p] = readName(bytes, p);
        const kind = bytes[p];
        const [, end] = readU32(bytes, p + 1);
        const short = fresh.next().value;
        exports.set(field, short);
        body.push(...name(short), ...bytes.subarray(p, end));
        p = end;
      }
    }
    if (p !== section.end) throw new Error(`shorten-names: section ${section.id} was not read to its end`);
    out.push(Uint8Array.of(section.id, ...u32(body.length)), Uint8Array.from(body));
  }

  // The glue: import functions are keys of the imports object, exports are read as `wasm.name`.
  let renamed = glue;
  for (const [long, short] of imports) {
    const key = new RegExp(`(\\n\\s+)${escape(long)}(: function\\b)`, 'g');
    const found = renamed.match(key)?.length ?? 0;
    if (found !== 1) throw new Error(`shorten-names: import ${long} is defined ${found} times in the glue`);
    renamed = renamed.replace(key, `$1${short}$2`);
  }
  const moduleKey = `"${IMPORT_MODULE}": `;
  if (renamed.split(moduleKey).length !== 2) throw new Error('shorten-names: the imports object is not where expected');
  renamed = renamed.replace(moduleKey, `${SHORT_MODULE}: `);
  for (const [long, short] of exports) {
    renamed = renamed.replace(new RegExp(`\\bwasm\\.${escape(long)}\\b`, 'g'), `wasm.${short}`);
  }
  const left = [...renamed.matchAll(/\bwasm\.([A-Za-z_$][\w$]*)/g)].map((m) => m[1]).filter((n) => ![...exports.values()].includes(n));
  if (left.length) throw new Error(`shorten-names: the glue reads exports the module does not have: ${left.join(', ')}`);
  return { wasm: Buffer.concat(out.map((part) => Buffer.from(part))), glue: renamed };
}
