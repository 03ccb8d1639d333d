// The bytes to a drawn QR code: each file a shopper downloads (the loader, with the glue inside,
// and the module), raw and brotli (quality 11, as the server's precompressed copies), and their
// brotli total. The loader's versioned copy (the snippet's) has the same bytes and is counted once.
// usage: node scripts/sizes.mjs [DIST]   (default dist/wallet-checkout)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants } from 'node:zlib';

const dist = resolve(process.argv[2] ?? join(import.meta.dirname, '../dist/wallet-checkout'));
const integrity = JSON.parse(readFileSync(join(dist, 'integrity.json'), 'utf8'));
const loader = readFileSync(join(dist, 'wallet-checkout.js'));
let total = 0;
for (const name of Object.keys(integrity).filter((n) => !n.endsWith('.json'))) {
  const bytes = readFileSync(join(dist, name));
  const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  if (name !== 'wallet-checkout.js' && bytes.equals(loader)) {
    console.log(`${name}\t(the loader's versioned name: the same bytes, not counted again)`);
    continue;
  }
  total += brotli;
  console.log(`${name}\t${bytes.length} raw\t${brotli} brotli`);
}
console.log(`total\t\t${total} brotli`);
