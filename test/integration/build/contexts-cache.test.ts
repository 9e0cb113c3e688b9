/**
 * Rebuilding from an edited context, end to end: what `jettison build --progress plain` says about a
 * re-run COPY (the files that differ, were added or removed, read from the on-disk listings), that an
 * unchanged context is served from the cache, and that the remembered file digests never hide an edit
 * (same size, mtime put back). Each case edits the context of one store and rebuilds (a table).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxRootfs } from '../../support/images.ts';
import { cleanupDir, jettison, show, tempDir } from '../../fixtures/build/harness.ts';

let dir: string;
let root: string;
let ctx: string;

before(async () => {
  dir = tempDir('contexts-cache');
  root = join(dir, 'root');
  const r = await jettison(root, [], ['import', await busyboxRootfs(), 'busybox:latest']);
  assert.equal(r.code, 0, show(r));
  ctx = join(dir, 'ctx');
  mkdirSync(join(ctx, 'src', 'lib'), { recursive: true });
  writeFileSync(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY . /ctx\n');
  writeFileSync(join(ctx, '.dockerignore'), 'Dockerfile\n');
  for (let i = 0; i < 30; i++) writeFileSync(join(ctx, 'src', `f${String(i).padStart(2, '0')}.txt`), `file ${i}\n`);
  writeFileSync(join(ctx, 'src', 'lib', 'util.c'), 'int util;\n');
});

after(() => {
  if (dir) cleanupDir(dir);
});

async function build(out: string): Promise<{ text: string; out: string }> {
  const dest = join(dir, out);
  const r = await jettison(root, [], ['build', '--progress', 'plain', '-o', `type=local,dest=${dest}`, ctx]);
  assert.equal(r.code, 0, show(r));
  return { text: r.stderr + r.stdout, out: dest };
}

function missLines(text: string): string[] {
  return text.split('\n').filter((l) => l.includes('cache miss:')).map((l) => l.replace(/^#\d+ /, ''));
}

const cases: { name: string; edit(): void; miss: string[]; check?: (out: string) => void }[] = [
  { name: 'the first build', edit: () => undefined, miss: [] },
  { name: 'nothing changed: served from the cache', edit: () => undefined, miss: [] },
  {
    name: 'one file edited',
    edit: () => writeFileSync(join(ctx, 'src', 'f07.txt'), 'edited\n'),
    miss: ['cache miss: context files changed: file ctx/src/f07.txt differs'],
    check: (out) => assert.equal(readFileSync(join(out, 'ctx/src/f07.txt'), 'utf8'), 'edited\n'),
  },
  {
    name: 'same size and the old mtime put back: still seen',
    edit: () => {
      const p = join(ctx, 'src', 'f08.txt');
      const st = statSync(p);
      writeFileSync(p, 'FILE 8\n');
      utimesSync(p, st.atime, st.mtime);
    },
    miss: ['cache miss: context files changed: file ctx/src/f08.txt differs'],
    check: (out) => assert.equal(readFileSync(join(out, 'ctx/src/f08.txt'), 'utf8'), 'FILE 8\n'),
  },
  {
    name: 'a file added and one removed',
    edit: () => {
      writeFileSync(join(ctx, 'src', 'lib', 'new.c'), 'new\n');
      rmSync(join(ctx, 'src', 'f29.txt'));
    },
    miss: ['cache miss: context files changed: file ctx/src/f29.txt removed, file ctx/src/lib/new.c added'],
  },
  {
    name: 'many files edited: three named, the rest counted',
    edit: () => {
      for (let i = 10; i < 20; i++) writeFileSync(join(ctx, 'src', `f${i}.txt`), `v2 ${i}\n`);
    },
    miss: ['cache miss: context files changed: file ctx/src/f10.txt differs, file ctx/src/f11.txt differs, file ctx/src/f12.txt differs (and 7 more)'],
  },
  { name: 'a mode change', edit: () => chmodSync(join(ctx, 'src', 'lib', 'util.c'), 0o755), miss: ['cache miss: context files changed: file ctx/src/lib/util.c differs'] },
];

let i = 0;
for (const c of cases) {
  test(c.name, async () => {
    c.edit();
    const r = await build(`out-${++i}`);
    assert.deepEqual(missLines(r.text), c.miss, r.text);
    if (c.name.startsWith('nothing changed')) assert.match(r.text, /#\d+ \[2\/2\] COPY \. \/ctx\n#\d+ CACHED/, r.text);
    c.check?.(r.out);
  });
}

test('the listings behind the explanations are kept under the store, one per distinct context state', () => {
  const listings = readdirSync(join(root, 'cache', 'listings')).filter((n) => !n.startsWith('.'));
  assert.equal(listings.length, 6, listings.join(' '));
  for (const n of listings) assert.match(n, /^[0-9a-f]{64}$/);
});
