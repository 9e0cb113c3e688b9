#!/usr/bin/env node
// The published entry point: the compiled CLI. In a checkout, `npm run build` makes dist/
// (npm ci runs it through the prepare script); `npm run jettison -- …` runs the sources directly.
const { main, enableModuleCache } = await import('../dist/cli/main.js');
// Node's compile cache (in ~/.cache/jettison) makes later starts faster; the commands load after this.
enableModuleCache();
process.exitCode = await main(process.argv.slice(2));
