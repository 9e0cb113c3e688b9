/**
 * Golden cases: test/cases/cekit/<case>/ holds image.yaml (plus modules, override files and an
 * optional case.json: { "overrides": ["file.yaml", {"inline": "…"}], "squash": false }). The expected
 * output is `Dockerfile` (and `warnings` when there are any), or `error` when generation must fail.
 * Accept with `npm run baseline:accept cekit` and review the diff.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SourceError } from '../../../../src/errors.ts';
import { generate, type OverrideSource } from '../../../../src/frontend/cekit/index.ts';
import { expectBaseline, listCases } from '../../../support/golden.ts';

interface CaseConfig {
  overrides?: (string | { inline: string })[];
  squash?: boolean;
  descriptor?: string;
}

const cases = listCases('cekit');

test('there are golden cases', () => {
  assert.ok(cases.length >= 10, `found ${cases.length} cases`);
});

for (const c of cases) {
  test(`cekit case ${c.name}`, async () => {
    const configFile = join(c.dir, 'case.json');
    const config: CaseConfig = existsSync(configFile) ? JSON.parse(readFileSync(configFile, 'utf8')) : {};
    const overrides: OverrideSource[] = (config.overrides ?? []).map((o) =>
      typeof o === 'string' ? { file: join(c.dir, o) } : o,
    );
    const cacheDir = mkdtempSync(join(tmpdir(), 'jettison-cekit-golden-'));
    try {
      let result;
      try {
        result = await generate(join(c.dir, config.descriptor ?? 'image.yaml'), {
          overrides,
          squash: config.squash,
          cacheDir,
          displayRoot: c.dir,
        });
      } catch (err) {
        if (!(err instanceof Error) || !('code' in err)) throw err;
        const message = err.message.split(c.dir + '/').join('').split(cacheDir).join('<cache>');
        if (err instanceof SourceError) assert.match(message, /^[^:\s]+:\d+:\d+: /, 'source errors start FILE:LINE:COL');
        assert.ok(!existsSync(join(c.dir, 'Dockerfile')) || process.env.JETTISON_ACCEPT_BASELINES, `${c.name} has a Dockerfile baseline but failed: ${message}`);
        expectBaseline(join(c.dir, 'error'), `${message}\n`);
        return;
      }
      assert.ok(!existsSync(join(c.dir, 'error')) || process.env.JETTISON_ACCEPT_BASELINES, `${c.name} is expected to fail`);
      expectBaseline(join(c.dir, 'Dockerfile'), result.dockerfile);
      if (result.warnings.length || existsSync(join(c.dir, 'warnings'))) {
        expectBaseline(join(c.dir, 'warnings'), result.warnings.map((w) => `${w}\n`).join(''));
      }
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
}
