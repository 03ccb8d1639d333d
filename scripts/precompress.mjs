// Writes .br and .gz next to every .js, .wasm, .css and .json file in the given directory, so the
// server can send precompressed assets. Brotli at quality 11, gzip at level 9.
import { readdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/precompress.mjs DIR');
  process.exit(2);
}

function walk(path) {
  for (const name of readdirSync(path)) {
    const full = join(path, name);
    if (statSync(full).isDirectory()) {
      walk(full);
    } else if (/\.(js|wasm|css|json)$/.test(name)) {
      const raw = readFileSync(full);
      writeFileSync(`${full}.br`, brotliCompressSync(raw, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
      }));
      writeFileSync(`${full}.gz`, gzipSync(raw, { level: 9 }));
    }
  }
}

walk(dir);
