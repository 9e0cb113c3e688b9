#!/usr/bin/env node
// Rewrites golden files from the current output: `npm run baseline:accept [suite]`.
// Review `git diff test/cases` afterwards: an accepted baseline is a claim that the output is right.
import { spawnSync } from 'node:child_process';

const suite = process.argv[2] ?? '1';
const r = spawnSync(process.execPath, ['--test', 'test/unit/**/*.test.ts'], {
  stdio: 'inherit',
  env: { ...process.env, JETTISON_ACCEPT_BASELINES: suite },
});
process.exit(r.status ?? 1);
