// Writes the SRI hashes of the built widget (dist/wallet-checkout/integrity.json) into README.md
// between the integrity markers. `node scripts/integrity-readme.mjs --check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const integrity = JSON.parse(readFileSync(resolve(root, 'dist/wallet-checkout/integrity.json'), 'utf8'));
const rows = Object.entries(integrity)
  .filter(([name]) => !/\.[a-z]{2}(-[A-Z]{2})?\.[0-9a-f]{12}\.json$/.test(name))
  .map(([name, hash]) => `| \`${name}\` | \`${hash}\` |`);
const block = `<!-- integrity:begin -->\n| file | integrity |\n|---|---|\n${rows.join('\n')}\n<!-- integrity:end -->`;
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const updated = readme.replace(/<!-- integrity:begin -->[\s\S]*<!-- integrity:end -->/, block);
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md lists other SRI hashes than the build: run `node scripts/integrity-readme.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(resolve(root, 'README.md'), updated);
}
