// Runs the unit tests (test/unit/*.test.mjs) with `node --test`. The tests
// import the TypeScript source, so each is first bundled by esbuild (a
// dependency of vite, pinned in package.json) into test-results/unit/.
// Types are checked by `npm run typecheck`, not here.

import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outdir = resolve(here, '../../test-results/unit');
const tests = readdirSync(here).filter((f) => f.endsWith('.test.mjs'));

await rm(outdir, { recursive: true, force: true });
await build({
  entryPoints: tests.map((f) => join(here, f)),
  outdir,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outExtension: { '.js': '.mjs' },
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--test', ...tests.map((f) => join(outdir, f))], { stdio: 'inherit' });
process.exit(r.status ?? 1);
