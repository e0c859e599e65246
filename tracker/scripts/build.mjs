// Builds the four tracker variants from src/tracker.js and the Umami-style tracker from src/umami.js
// (served as /umami/script.js), prints their sizes, enforces the size budgets and copies them to
// where the server serves them (medama_py/static/scripts/).
//
//   node scripts/build.mjs                  build into dist/ and copy to the server
//   node scripts/build.mjs --out DIR        build into DIR only (the reproducibility test uses this)
//
// The output depends only on the source and the terser version pinned in package-lock.json,
// so a fresh build reproduces the committed files byte for byte.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { minify } from 'terser';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const served = resolve(root, '..', 'medama_py', 'static', 'scripts');

// Name = enabled features sorted and joined with "."; the server maps script_type the same way.
// The budget is gzip -9 bytes: 700 for default, and strictly below Medama's own builds otherwise;
// the Umami-style tracker gets 1,500 (Umami 3.1's own is 2,226).
const NO_FLAGS = { CLICK_EVENTS: false, PAGE_EVENTS: false };
const VARIANTS = [
	{ name: 'default', source: 'tracker.js', flags: NO_FLAGS, budget: 700 },
	{ name: 'click-events', source: 'tracker.js', flags: { CLICK_EVENTS: true, PAGE_EVENTS: false }, budget: 972 },
	{ name: 'page-events', source: 'tracker.js', flags: { CLICK_EVENTS: false, PAGE_EVENTS: true }, budget: 886 },
	{ name: 'click-events.page-events', source: 'tracker.js', flags: { CLICK_EVENTS: true, PAGE_EVENTS: true }, budget: 1012 },
	{ name: 'umami', source: 'umami.js', flags: NO_FLAGS, budget: 1500 },
];

/** gzip -9 -n when the gzip tool exists (what the budget is quoted in), else zlib level 9. */
function gzipSize(bytes) {
	const tool = spawnSync('gzip', ['-9', '-n', '-c'], { input: bytes });
	if (tool.status === 0) return tool.stdout.length;
	return gzipSync(bytes, { level: 9 }).length;
}

function brotliSize(bytes) {
	return brotliCompressSync(bytes, {
		params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT },
	}).length;
}

async function build(source, flags) {
	const result = await minify(source, {
		ecma: 5,
		compress: { global_defs: { ...flags }, passes: 3, unsafe: true, pure_getters: true },
		mangle: true,
		format: { comments: false },
	});
	if (!result.code) throw new Error('terser produced no output');
	return `${result.code}\n`;
}

async function main() {
	const args = process.argv.slice(2);
	const outIndex = args.indexOf('--out');
	const outDir = outIndex >= 0 ? resolve(args[outIndex + 1]) : join(root, 'dist');
	const copy = outIndex < 0 && !args.includes('--no-copy');

	mkdirSync(outDir, { recursive: true });
	if (copy) mkdirSync(served, { recursive: true });

	let overBudget = false;
	const rows = [];
	for (const variant of VARIANTS) {
		const code = await build(readFileSync(join(root, 'src', variant.source), 'utf8'), variant.flags);
		const bytes = Buffer.from(code, 'utf8');
		writeFileSync(join(outDir, `${variant.name}.js`), bytes);
		if (copy) writeFileSync(join(served, `${variant.name}.js`), bytes);
		const gzip = gzipSize(bytes);
		const ok = gzip <= variant.budget;
		overBudget ||= !ok;
		rows.push([`${variant.name}.js`, bytes.length, gzip, brotliSize(bytes), `${variant.budget}${ok ? '' : ' OVER'}`]);
	}

	const header = ['variant', 'raw', 'gzip -9', 'brotli', 'gzip budget'];
	const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => String(row[i]).length)));
	for (const row of [header, ...rows]) {
		console.log(row.map((cell, i) => (i ? String(cell).padStart(widths[i]) : String(cell).padEnd(widths[i]))).join('  '));
	}
	if (copy) console.log(`copied to ${served}`);
	if (overBudget) {
		console.error('tracker: a variant is over its gzip budget');
		process.exit(1);
	}
}

await main();
