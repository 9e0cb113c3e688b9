#!/usr/bin/env node
// The published entry point: the compiled CLI. In a checkout, `npm run build` makes dist/
// (npm ci runs it through the prepare script); `npm run jettison -- …` runs the sources directly.
import { main } from '../dist/cli/main.js';
process.exitCode = await main(process.argv.slice(2));
