#!/usr/bin/env node
// The test command: typecheck, then the unit tier, then the integration tier.
//   npm test                 both tiers (integration needs root, overlayfs, runc, the registry)
//   npm run test:unit        the fast tier only
//   npm run test:integration the integration tier only
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=parser).
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const tiers = [];
if (args[0] === 'unit' || args[0] === 'integration') tiers.push(args.shift());
else tiers.push('unit', 'integration');

function run(cmd, argv) {
  const r = spawnSync(cmd, argv, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']);
for (const tier of tiers) {
  console.log(`\n== ${tier} tests ==`);
  const concurrency = tier === 'integration' ? ['--test-concurrency=1'] : [];
  run(process.execPath, ['--test', ...concurrency, ...args, `test/${tier}/**/*.test.ts`]);
}
