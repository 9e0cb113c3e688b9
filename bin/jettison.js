#!/usr/bin/env node
// The published entry point. `npm run build` makes dist/: the library compiled one file per module
// (tsc) and dist/jettison.cjs, the CLI bundled into one CommonJS file (scripts/bundle.ts), which
// starts faster. Without the bundle (dist/ made by tsc alone) the compiled modules run instead. In a
// checkout, `npm run jettison -- …` runs the sources directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cacheKey, enableModuleCache, loadBundle } from '../dist/cli/compile-cache.js';

const argv = process.argv.slice(2);
// Compiled code is kept between runs (in ~/.cache/jettison): see dist/cli/compile-cache.js.
enableModuleCache();
const bundle = fileURLToPath(new URL('../dist/jettison.cjs', import.meta.url));
if (!existsSync(bundle)) {
  const cli = await import('../dist/cli/main.js');
  process.exitCode = await cli.main(argv);
} else if (argv.includes('--debug')) {
  // Stack traces through the source map (src/… positions), which Node applies to what require() loads.
  process.setSourceMapsEnabled(true);
  process.exitCode = await createRequire(import.meta.url)(bundle).main(argv);
} else {
  const cli = loadBundle(bundle, cacheKey(argv));
  process.exitCode = await cli.exports.main(argv);
  cli.saveCache();
}
