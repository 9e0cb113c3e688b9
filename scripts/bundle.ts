#!/usr/bin/env node
/**
 * Bundles the CLI (src/cli/main.ts and everything it imports, commander and yaml included) into one
 * CommonJS file, dist/jettison.cjs, which bin/jettison.cjs runs through dist/loader.cjs (the code
 * cache, src/cli/compile-cache.ts). Part of `npm run build`, after tsc (dist/ keeps tsc's
 * one-file-per-module layout for the library's `exports`).
 *
 * Why: a command's start-up was mostly module loading. One file is read, resolved and compiled once
 * (≈110 ES modules otherwise, each resolved, read and linked), and as CommonJS it loads Node's
 * builtins through require(): an ES import of a builtin builds its namespace, which runs the lazy
 * getters (node:crypto's webcrypto, node:util's parseArgs, …). The lazy `import()`s of main.ts and
 * the engine stay lazy: esbuild runs a bundled module's body on first import. Minified, names kept.
 *
 *   node scripts/bundle.ts [--outfile FILE]
 *
 * Builtins imported with `import('node:…')` are turned into require() calls as well (esbuild keeps
 * dynamic imports of external modules as they are, which would start the ES module loader).
 */
import { build, type Plugin } from 'esbuild';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

const REPO = join(import.meta.dirname, '..');
export const ENTRY = join(REPO, 'src', 'cli', 'main.ts');
export const BUNDLE = join(REPO, 'dist', 'jettison.cjs');
/** The code cache loader bin/jettison.cjs requires before the bundle (src/cli/compile-cache.ts). */
export const LOADER = join(REPO, 'dist', 'loader.cjs');

/** `import('node:x')` → a bundled CommonJS shim whose body is `require('node:x')`. */
const dynamicBuiltins: Plugin = {
  name: 'dynamic-builtins',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) =>
      args.kind === 'dynamic-import' ? { path: args.path, namespace: 'dynamic-builtin' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'dynamic-builtin' }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

/**
 * Writes the bundle (and its source map) to `outfile`, and the loader beside it (loader.cjs): both
 * CommonJS, so that the bin never starts Node's ES module loader.
 */
export async function bundleCli(outfile: string = BUNDLE): Promise<void> {
  await build({
    entryPoints: [join(REPO, 'src', 'cli', 'compile-cache.ts')],
    outfile: join(dirname(outfile), basename(LOADER)),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    logLevel: 'warning',
  });
  await build({
    entryPoints: [ENTRY],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    // Smaller code reads, checks and deserializes faster (the code cache holds the names too). Names
    // are kept: error classes name themselves after their class (`this.name = new.target.name`), and
    // stack traces keep their function names; `--debug` maps positions back through the source map.
    minify: true,
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    legalComments: 'eof',
    logLevel: 'warning',
    // import.meta in CommonJS: the bundle's own file. Any other import.meta use is an error, not undefined.
    define: {
      'import.meta.url': '__jettison_import_meta_url',
      'import.meta.dirname': '__dirname',
      'import.meta.filename': '__filename',
    },
    // ("use strict" first: a banner before esbuild's own directive would turn it into a plain string.)
    banner: { js: `'use strict';\nconst __jettison_import_meta_url = require('node:url').pathToFileURL(__filename).href;` },
    logOverride: { 'empty-import-meta': 'error' },
    plugins: [dynamicBuiltins],
  });
}

if (process.argv[1] === import.meta.filename) {
  const { values } = parseArgs({ options: { outfile: { type: 'string' } } });
  await bundleCli(values.outfile ?? BUNDLE);
}
