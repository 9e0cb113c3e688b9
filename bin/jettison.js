#!/usr/bin/env node
// The published entry point: the compiled CLI. In a checkout, `npm run build` makes dist/
// (npm ci runs it through the prepare script); `npm run jettison -- …` runs the sources directly.
import module from 'node:module';

// Node's on-disk compile cache makes every later start faster (no effect where it is unavailable).
try {
  module.enableCompileCache?.();
} catch {
  /* a read-only cache directory: just slower */
}
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
