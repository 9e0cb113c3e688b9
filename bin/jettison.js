#!/usr/bin/env node
// The published entry point. `npm run build` makes dist/: the library compiled one file per module
// (tsc) and dist/jettison.cjs, the CLI bundled into one CommonJS file (scripts/bundle.ts), which
// starts faster. Without the bundle (dist/ made by tsc alone) the compiled modules run instead. In a
// checkout, `npm run jettison -- …` runs the sources directly.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setFlagsFromString } from 'node:v8';
import { enableModuleCache } from '../dist/cli/compile-cache.js';

// Node's compile cache (in ~/.cache/jettison) keeps the compiled CLI between runs. It is turned on
// before the CLI is loaded, as only code compiled afterwards is cached.
const cached = enableModuleCache();
let cli;
if (existsSync(new URL('../dist/jettison.cjs', import.meta.url))) {
  // Node caches the code V8 made when it compiled the file, and V8 compiles a function's body only
  // when it is first called: every start would compile the functions a command runs again. Compiled
  // eagerly, the whole bundle is in the cache (1.7 MB), and later starts only read it back.
  if (cached) setFlagsFromString('--no-lazy');
  try {
    cli = createRequire(import.meta.url)('../dist/jettison.cjs');
  } finally {
    if (cached) setFlagsFromString('--lazy');
  }
} else {
  cli = await import('../dist/cli/main.js');
}
process.exitCode = await cli.main(process.argv.slice(2));
