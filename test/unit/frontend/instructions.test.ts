/**
 * Typed-instruction validation. Golden suite test/cases/instructions/<case>/{Dockerfile,args?,error}:
 * each case is one invalid Dockerfile run through `jettison check` (or the command line in `args`),
 * which must fail with exactly the message in `error` (FILE:LINE:COL: BuildKit's wording).
 * Then tables for the parts with many values: --mount defaults and aliases, durations, flags.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseDockerfile } from '../../../src/frontend/dockerfile/index.ts';
import { parseGoDuration } from '../../../src/frontend/dockerfile/instructions/duration.ts';
import { parseFlags } from '../../../src/frontend/dockerfile/instructions/flags.ts';
import { parseMount } from '../../../src/frontend/dockerfile/instructions/mount.ts';
import { validateDockerfile } from '../../../src/frontend/dockerfile/instructions/parse.ts';
import type { MountSpec } from '../../../src/frontend/dockerfile/instructions/types.ts';
import { runCli } from '../../support/cli.ts';
import { expectBaseline, listCases } from '../../support/golden.ts';

describe('instruction errors (golden)', () => {
  const cases = listCases('instructions');
  it('has cases', () => assert.ok(cases.length > 0));
  for (const c of cases) {
    it(c.name, async () => {
      const extra = existsSync(join(c.dir, 'args')) ? readFileSync(join(c.dir, 'args'), 'utf8').split('\n').filter(Boolean) : ['check'];
      const r = await runCli([...extra, '-f', 'Dockerfile'], { cwd: c.dir });
      assert.notEqual(r.code, 0, `expected failure, got stdout ${r.stdout}`);
      assert.match(r.stderr, /^error: Dockerfile:\d+:\d+: /);
      expectBaseline(join(c.dir, 'error'), r.stderr.replace(/^error: /, ''));
    });
  }
});

const BASE: MountSpec = {
  type: 'bind', from: null, source: null, target: null, readonly: true, id: null, sharing: null,
  required: false, mode: null, uid: null, gid: null, env: null, size: null,
};

describe('--mount specs', () => {
  const cases: [string, Partial<MountSpec>][] = [
    ['target=/src', { target: '/src' }],
    ['type=bind,src=a,dst=/b', { source: 'a', target: '/b' }],
    ['type=bind,source=a,destination=/b,rw', { source: 'a', target: '/b', readonly: false }],
    ['type=bind,target=/b,readwrite=true', { target: '/b', readonly: false }],
    ['type=bind,target=/b,from=builder,ro=false', { target: '/b', from: 'builder', readonly: false }],
    ['type=cache,target=/root/.cache', { type: 'cache', target: '/root/.cache', readonly: false, sharing: 'shared' }],
    ['type=cache,target=/c,id=go,sharing=LOCKED,mode=0700,uid=1000,gid=1000', { type: 'cache', target: '/c', readonly: false, id: 'go', sharing: 'locked', mode: 0o700, uid: 1000, gid: 1000 }],
    ['type=cache,target=/c,ro', { type: 'cache', target: '/c', readonly: true, sharing: 'shared' }],
    ['type=tmpfs,target=/t,size=64m', { type: 'tmpfs', target: '/t', readonly: false, size: 64 * 1024 * 1024 }],
    ['type=secret,id=npmrc', { type: 'secret', id: 'npmrc', target: '/run/secrets/npmrc' }],
    ['type=secret,id=tok,env=TOKEN', { type: 'secret', id: 'tok', env: 'TOKEN' }],
    ['type=secret,target=/root/.npmrc,required', { type: 'secret', target: '/root/.npmrc', id: '.npmrc', required: true }],
    ['type=secret,source=aws,target=/a', { type: 'secret', source: 'aws', id: 'aws', target: '/a' }],
    ['type=ssh', { type: 'ssh', id: 'default' }],
    ['type=ssh,id=github,required=true,mode=0600', { type: 'ssh', id: 'github', required: true, mode: 0o600 }],
    ['TYPE=Cache,Target=/x', { type: 'cache', target: '/x', readonly: false, sharing: 'shared' }],
    ['"type=bind","target=/a,b"', { target: '/a,b' }],
  ];
  for (const [spec, want] of cases) {
    it(spec, () => assert.deepEqual(parseMount(spec, null), { ...BASE, ...want }));
  }
  it('expands values when given an expander, never from=', () => {
    assert.deepEqual(parseMount('type=cache,target=$T,id=$T', (w) => w.replace('$T', '/x')), {
      ...BASE, type: 'cache', target: '/x', id: '/x', readonly: false, sharing: 'shared',
    });
    assert.throws(() => parseMount('type=bind,from=$X,target=/a', (w) => w), /'from' doesn't support variable expansion/);
  });
  it('reads the spec as CSV (Go encoding/csv)', () => {
    assert.throws(() => parseMount('type=bind,target=/x"y', null), /failed to parse csv mounts: parse error on line 1, column 20: bare " in non-quoted-field/);
    assert.throws(() => parseMount('"type=bind', null), /extraneous or missing " in quoted-field/);
  });
  it('defers values holding $ without an expander', () => {
    assert.equal(parseMount('type=cache,target=/x,mode=$M', null).mode, null);
  });
});

describe('durations (Go time.ParseDuration)', () => {
  const cases: [string, number | RegExp][] = [
    ['30s', 30e9], ['1m30s', 90e9], ['1.5h', 5400e9], ['300ms', 300e6], ['2us', 2000], ['2µs', 2000], ['0', 0], ['-1s', -1e9],
    ['5', /missing unit/], ['5x', /unknown unit "x"/], ['', /invalid duration/], ['s', /invalid duration/], ['1..2s', /missing unit/],
  ];
  for (const [text, want] of cases) {
    it(JSON.stringify(text), () => {
      if (typeof want === 'number') assert.equal(parseGoDuration(text), want);
      else assert.throws(() => parseGoDuration(text), want);
    });
  }
});

describe('instruction flags', () => {
  const spec = { link: 'bool', from: 'string', exclude: 'strings' } as const;
  it('parses booleans, strings and repeatable strings', () => {
    const f = parseFlags(['--link', '--from=a', '--exclude=x', '--exclude=y'], spec);
    assert.equal(f.bool('link'), true);
    assert.equal(f.string('from'), 'a');
    assert.deepEqual(f.strings('exclude'), ['x', 'y']);
  });
  it('accepts --link=false and --link=TRUE', () => {
    assert.equal(parseFlags(['--link=false'], spec).bool('link'), false);
    assert.equal(parseFlags(['--link=TRUE'], spec).bool('link'), true);
  });
  it('rejects empty booleans, bare strings, duplicates, unknown flags', () => {
    assert.throws(() => parseFlags(['--link='], spec), /missing a value on flag: link/);
    assert.throws(() => parseFlags(['--from'], spec), /missing a value on flag: from/);
    assert.throws(() => parseFlags(['--from=a', '--from=b'], spec), /duplicate flag specified: from/);
    assert.throws(() => parseFlags(['--frm=a'], spec), /unknown flag: frm \(did you mean from\?\)/);
  });
});

describe('typed instructions', () => {
  it('splits meta args from stages and keeps values as written', () => {
    const t = validateDockerfile(parseDockerfile('ARG V=1\nARG B\nFROM busybox:$V AS Build\nENV A=$V\nCOPY --from=0 --chmod=0755 a b /dst/\n', { file: 'Dockerfile' }));
    assert.deepEqual(t.metaArgs.flatMap((a) => a.args), [{ key: 'V', value: '1' }, { key: 'B', value: null }]);
    assert.equal(t.stages.length, 1);
    const s = t.stages[0];
    assert.equal(s.from.name, 'build');
    assert.equal(s.from.nameRaw, 'Build');
    assert.equal(s.from.image, 'busybox:$V');
    const env = s.commands[0];
    assert.equal(env.kind, 'env');
    if (env.kind === 'env') assert.deepEqual(env.pairs, [{ key: 'A', value: '$V', legacy: false }]);
    const copy = s.commands[1];
    assert.equal(copy.kind, 'copy');
    if (copy.kind === 'copy') {
      assert.deepEqual([copy.from, copy.chmod, copy.sources, copy.dest], ['0', '0755', ['a', 'b'], '/dst/']);
    }
  });
  it('types HEALTHCHECK options in nanoseconds and CMD-SHELL for the shell form', () => {
    const t = validateDockerfile(parseDockerfile('FROM busybox\nHEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD wget -q localhost\n', { file: 'Dockerfile' }));
    const h = t.stages[0].commands[0];
    assert.equal(h.kind, 'healthcheck');
    if (h.kind === 'healthcheck') {
      assert.deepEqual(h.health, { test: ['CMD-SHELL', 'wget -q localhost'], interval: 30e9, timeout: 3e9, startPeriod: 0, startInterval: 0, retries: 3 });
    }
  });
  it('keeps the ONBUILD expression as BuildKit stores it', () => {
    const t = validateDockerfile(parseDockerfile('FROM busybox\nonbuild  COPY --from=x a /b\n', { file: 'Dockerfile' }));
    const o = t.stages[0].commands[0];
    assert.equal(o.kind, 'onbuild');
    if (o.kind === 'onbuild') {
      assert.equal(o.expression, 'COPY --from=x a /b');
      assert.equal(o.trigger.kind, 'copy');
    }
  });
});
