#!/usr/bin/env node
// The published entry point. `npm run build` makes dist/: the library compiled one file per module
// (tsc) and dist/jettison.cjs, the CLI bundled into one CommonJS file (scripts/bundle.ts), which
// starts faster; this file and the bundle are CommonJS so that a command never starts Node's ES
// module loader. Without the bundle (dist/ made by tsc alone) the compiled modules run instead. In a
// checkout, `npm run jettison -- …` runs the sources directly.
'use strict';
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const argv = process.argv.slice(2);
const bundle = join(__dirname, '..', 'dist', 'jettison.cjs');
const done = (code) => {
  process.exitCode = code;
};

if (!existsSync(bundle)) {
  import('../dist/cli/main.js').then((cli) => {
    cli.enableModuleCache();
    return cli.main(argv).then(done);
  });
} else {
  // Compiled code is kept between runs (in ~/.cache/jettison): see src/cli/compile-cache.ts.
  const { cacheKey, enableModuleCache, loadBundle } = require('../dist/loader.cjs');
  enableModuleCache();
  if (argv.includes('--debug')) {
    // Stack traces through the source map (src/… positions), which Node applies to what require() loads.
    process.setSourceMapsEnabled(true);
    require(bundle).main(argv).then(done);
  } else {
    const cli = loadBundle(bundle, cacheKey(argv));
    cli.exports.main(argv).then((code) => {
      done(code);
      if (code === 0) cli.saveCache();
    });
  }
}
