/**
 * RUN --mount=type=cache as BuildKit has it, end to end through `jettison build`: `from=` seeds a new
 * cache with a stage's (or image's) file system and keys the cache by it, `source=` picks the path
 * inside it that is mounted, and `sharing=private` gives concurrent builds (separate processes)
 * separate directories. Each case is a series of builds in one fresh store; each build exports its
 * final stage with -o type=local and the case checks files the RUN wrote from what it saw in the cache.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BaseImages } from '../../support/base-images.ts';
import { jettison, show, spawnJettison, withBaseImages } from '../../fixtures/build/harness.ts';

let base: BaseImages;
let dir: string;

withBaseImages('cache-mount', (b, d) => {
  base = b;
  dir = d;
});

const LONG = { timeout: 5 * 60_000 };

/** Two stages to seed caches from. */
const SEEDS = `
FROM busybox AS seed-a
RUN mkdir -p /data/sub && echo from-a > /data/who && echo deep > /data/sub/f
FROM busybox AS seed-b
RUN mkdir -p /data && echo from-b > /data/who
`;

interface Build {
  /** The final stage (after SEEDS). */
  stage: string;
  /** Files of the exported final stage and their content (trimmed). */
  expect: Record<string, string>;
  /** Files of a named local context passed as `--build-context seeds=DIR`. */
  seeds?: Record<string, string>;
}

const cases: { name: string; builds: Build[] }[] = [
  {
    name: 'from= a stage seeds a new cache with its file system, and the cache then keeps what RUN writes',
    builds: [
      {
        stage: 'RUN --mount=type=cache,id=c,from=seed-a,target=/c cat /c/data/who > /who && cat /c/data/sub/f > /deep && test -x /c/bin/busybox && echo yes > /rootfs && echo kept > /c/data/new',
        expect: { who: 'from-a', deep: 'deep', rootfs: 'yes' },
      },
      { stage: 'RUN --mount=type=cache,id=c,from=seed-a,target=/c cat /c/data/new > /new', expect: { new: 'kept' } },
    ],
  },
  {
    name: 'source= mounts a path inside the from',
    builds: [
      { stage: 'RUN --mount=type=cache,id=s,from=seed-a,source=/data,target=/c cat /c/who > /who && ls /c > /ls && echo mine > /c/mine', expect: { who: 'from-a', ls: 'sub\nwho' } },
      // The same cache (id and from) with another source sees the same directory from higher up.
      { stage: 'RUN --mount=type=cache,id=s,from=seed-a,source=/,target=/c cat /c/data/mine > /mine', expect: { mine: 'mine' } },
      { stage: 'RUN --mount=type=cache,id=s,from=seed-a,source=/data/sub,target=/c ls /c > /ls', expect: { ls: 'f' } },
    ],
  },
  {
    name: 'a different from= is a different cache under the same id',
    builds: [
      { stage: 'RUN --mount=type=cache,id=x,from=seed-a,target=/c cat /c/data/who > /who && echo a-was-here > /c/mark', expect: { who: 'from-a' } },
      { stage: 'RUN --mount=type=cache,id=x,from=seed-b,target=/c cat /c/data/who > /who && (cat /c/mark 2>/dev/null || echo none) > /mark', expect: { who: 'from-b', mark: 'none' } },
      { stage: 'RUN --mount=type=cache,id=x,target=/c ls -A /c | wc -l > /n', expect: { n: '0' } },
      { stage: 'RUN --mount=type=cache,id=x,from=seed-a,target=/c cat /c/mark > /mark', expect: { mark: 'a-was-here' } },
    ],
  },
  {
    name: 'from= a named local directory (--build-context) seeds the cache with its files',
    builds: [
      { stage: 'RUN --mount=type=cache,id=d,from=seeds,target=/c cat /c/s.txt /c/sub/t.txt > /s && echo kept > /c/k', seeds: { 's.txt': 'seeded', 'sub/t.txt': 'deeper' }, expect: { s: 'seededdeeper' } },
      { stage: 'RUN --mount=type=cache,id=d,from=seeds,target=/c cat /c/k > /k', seeds: { 's.txt': 'seeded', 'sub/t.txt': 'deeper' }, expect: { k: 'kept' } },
    ],
  },
  {
    name: 'one cache mounted twice in one RUN is one directory (sharing=locked does not wait for itself)',
    builds: [
      { stage: 'RUN --mount=type=cache,id=tw,sharing=locked,target=/a --mount=type=cache,id=tw,sharing=locked,target=/b echo x > /a/f && cat /b/f > /out', expect: { out: 'x' } },
      { stage: 'RUN --mount=type=cache,id=tp,sharing=private,target=/a --mount=type=cache,id=tp,sharing=private,target=/b echo y > /a/f && cat /b/f > /out', expect: { out: 'y' } },
    ],
  },
  {
    name: 'from= an image seeds the cache',
    builds: [
      { stage: 'RUN --mount=type=cache,id=i,from=busybox,source=/etc,target=/c cat /c/passwd | head -1 | cut -d: -f1 > /user', expect: { user: 'root' } },
    ],
  },
];

let n = 0;
/** Builds `stage` after SEEDS; returns a reader of the exported files. */
async function build(root: string, stage: string, seeds?: Record<string, string>): Promise<(file: string) => string> {
  const ctx = join(dir, `ctx-${++n}`);
  const out = join(dir, `out-${n}`);
  mkdirSync(ctx);
  const extra: string[] = [];
  if (seeds) {
    const seedDir = join(dir, `seeds-${n}`);
    for (const [f, content] of Object.entries(seeds)) {
      mkdirSync(dirname(join(seedDir, f)), { recursive: true });
      writeFileSync(join(seedDir, f), content);
    }
    extra.push('--build-context', `seeds=${seedDir}`);
  }
  // The seed stages come from the build cache (the same layers: the same cache); NONCE reruns the RUN.
  writeFileSync(join(ctx, 'Dockerfile'), `${SEEDS}\nFROM busybox\nARG NONCE\n${stage}\n`);
  const r = await jettison(root, base.mirrorArgs, ['build', ...extra, '--build-arg', `NONCE=${n}`, '--progress', 'plain', '-o', `type=local,dest=${out}`, ctx]);
  assert.equal(r.code, 0, show(r));
  return (f) => readFileSync(join(out, f), 'utf8').trim();
}

describe('cache mounts: from= and source=', () => {
  for (const c of cases) {
    test(c.name, LONG, async () => {
      const root = join(dir, `root-${++n}`);
      for (const b of c.builds) {
        const read = await build(root, b.stage, b.seeds);
        for (const [f, want] of Object.entries(b.expect)) assert.equal(read(f), want, `${b.stage}\n  /${f}`);
      }
    });
  }

  test('a source= missing in the from fails the step and says so', LONG, async () => {
    const root = join(dir, `root-${++n}`);
    const ctx = join(dir, `ctx-${++n}`);
    mkdirSync(ctx);
    writeFileSync(join(ctx, 'Dockerfile'), `${SEEDS}\nFROM busybox\nRUN --mount=type=cache,id=m,from=seed-b,source=/nope,target=/c true\n`);
    const r = await jettison(root, base.mirrorArgs, ['build', '--no-cache', '--progress', 'plain', ctx]);
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr + r.stdout, /cache mount \/c: source \/nope not found/);
  });
});

/**
 * Build one takes the private cache and waits (on a barrier in a shared cache mount) until build two,
 * a separate process, has listed its own private cache: so the two RUNs overlap for certain, and each
 * must have seen only its own marker. A later build reuses the first directory.
 */
test('sharing=private: two concurrent builds (two processes) get separate directories', LONG, async () => {
  const root = join(dir, 'root-private');
  const ctx = join(dir, 'ctx-private');
  mkdirSync(ctx);
  writeFileSync(
    join(ctx, 'Dockerfile'),
    `FROM busybox
ARG WHO
RUN --mount=type=cache,id=p,sharing=private,target=/c --mount=type=cache,id=barrier,target=/b \\
    echo "$WHO" > "/c/owner-$WHO" && \\
    if [ "$WHO" = one ]; then \\
      echo "one-is-in-$((1 + 1))"; i=0; \\
      while [ ! -e /b/two-done ]; do i=$((i + 1)); [ "$i" -lt 1200 ] || exit 7; sleep 0.1; done; \\
    fi && \\
    ls /c > /seen && \\
    if [ "$WHO" = two ]; then touch /b/two-done; fi
`,
  );
  const outs = { one: join(dir, 'out-one'), two: join(dir, 'out-two'), three: join(dir, 'out-three') };
  const args = (who: keyof typeof outs) => [...base.mirrorArgs, '--root', root, 'build', '--no-cache', '--progress', 'plain', '--build-arg', `WHO=${who}`, '-o', `type=local,dest=${outs[who]}`, ctx];
  const one = spawnJettison(args('one'));
  // The RUN's own output (the step's header shows the unexpanded command).
  await one.waitFor(/one-is-in-2/);
  const two = spawnJettison(args('two'));
  const [e1, e2] = await Promise.all([one.exited, two.exited]);
  assert.equal(e2.code, 0, two.output());
  assert.equal(e1.code, 0, one.output());
  assert.equal(readFileSync(join(outs.one, 'seen'), 'utf8'), 'owner-one\n');
  assert.equal(readFileSync(join(outs.two, 'seen'), 'utf8'), 'owner-two\n');
  // Nobody holds the first directory now: the next private user gets it back, as it was left.
  const r = await jettison(root, base.mirrorArgs, args('three').slice(base.mirrorArgs.length + 2));
  assert.equal(r.code, 0, show(r));
  assert.equal(readFileSync(join(outs.three, 'seen'), 'utf8'), 'owner-one\nowner-three\n');
});
