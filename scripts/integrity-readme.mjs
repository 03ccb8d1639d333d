// Writes the SRI hashes of the built widget (dist/wallet-checkout/integrity.json) into README.md
// between the integrity markers, and the build's snippet (embed.json) between the snippet markers.
// `node scripts/integrity-readme.mjs --check` only compares.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const dist = resolve(root, 'dist/wallet-checkout');
const integrity = JSON.parse(readFileSync(resolve(dist, 'integrity.json'), 'utf8'));
const rows = Object.entries(integrity)
  .filter(([name]) => !/\.[a-z]{2}(-[A-Z]{2})?\.[0-9a-f]{12}\.json$/.test(name))
  .map(([name, hash]) => `| \`${name}\` | \`${hash}\` |`);
const table = `<!-- integrity:begin -->\n| file | integrity |\n|---|---|\n${rows.join('\n')}\n<!-- integrity:end -->`;

// The tags as a server writes them for the widget under /wallet-checkout/.
const embed = JSON.parse(readFileSync(resolve(dist, 'embed.json'), 'utf8'));
const attributes = (tag) =>
  Object.entries(tag)
    .map(([name, value]) => ` ${name}="${['href', 'src'].includes(name) ? `/wallet-checkout/${value}` : value}"`)
    .join('');
const tags = [...embed.links.map((link) => `<link${attributes(link)}>`), `<script${attributes(embed.script)}></script>`];
const snippet = `<!-- snippet:begin -->\n\`\`\`html\n${tags.join('\n')}\n\`\`\`\n<!-- snippet:end -->`;

const readme = readFileSync(resolve(root, 'README.md'), 'utf8');
const updated = readme
  .replace(/<!-- integrity:begin -->[\s\S]*<!-- integrity:end -->/, table)
  .replace(/<!-- snippet:begin -->[\s\S]*<!-- snippet:end -->/, snippet);
if (process.argv.includes('--check')) {
  if (updated !== readme) {
    console.error('README.md lists other SRI hashes than the build: run `node scripts/integrity-readme.mjs`');
    process.exit(1);
  }
} else {
  writeFileSync(resolve(root, 'README.md'), updated);
}
