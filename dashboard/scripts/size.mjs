// Prints the gzip size of the JS + CSS a first visit downloads, and fails the build over budget.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const BUDGET = 150 * 1024;
const dir = new URL('../../medama_py/static/dashboard/assets/', import.meta.url).pathname;
let total = 0;
for (const name of readdirSync(dir).sort()) {
  if (!/\.(js|css)$/.test(name)) continue;
  const gz = gzipSync(readFileSync(join(dir, name)), { level: 9 }).length;
  total += gz;
  console.log(`  ${name.padEnd(36)} ${(gz / 1024).toFixed(1).padStart(6)} KB gzip`);
}
console.log(`  ${'total JS + CSS'.padEnd(36)} ${(total / 1024).toFixed(1).padStart(6)} KB gzip (budget 150 KB)`);
if (total > BUDGET) {
  console.error('dashboard bundle is over the 150 KB gzip budget');
  process.exit(1);
}
