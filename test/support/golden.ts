/**
 * Golden-file (baseline) tests. A suite is a folder test/cases/<suite>/ of case folders; each case has
 * an input and one or more expected output files. `npm run baseline:accept [suite]` runs the unit tests
 * with JETTISON_ACCEPT_BASELINES set, and expectBaseline() then writes the actual output instead of
 * comparing (review `git diff test/cases` before committing).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CASES_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'cases');

/** The case folders of a suite, sorted by name. */
export function listCases(suite: string): { name: string; dir: string }[] {
  const root = join(CASES_ROOT, suite);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((n) => statSync(join(root, n)).isDirectory())
    .sort()
    .map((name) => ({ name, dir: join(root, name) }));
}

function accepting(file: string): boolean {
  const flag = process.env.JETTISON_ACCEPT_BASELINES;
  if (!flag) return false;
  if (flag === '1' || flag === 'all') return true;
  return file.includes(`${CASES_ROOT}/${flag}/`) || file.includes(`/${flag}/`);
}

/** Compares `actual` with the baseline file (or writes it when accepting). */
export function expectBaseline(file: string, actual: string): void {
  if (accepting(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `missing baseline ${file}: run npm run baseline:accept and review it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `output differs from baseline ${file}`);
}
