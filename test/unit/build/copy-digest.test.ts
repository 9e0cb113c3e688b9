// copyDigest (src/build/copy.ts) writes its per-file detail as an on-disk listing: what a line holds,
// that the digest is the listing's sha256, that sources walked out of path order are sorted, that the
// file-hash cache is used instead of reading, and that nothing is left behind on failure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmodSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { copyDigest, type CopyRequest, type FileHashCache } from '../../../src/build/copy.ts';
import { chmodChange } from '../../../src/util/chmod.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

async function setup(): Promise<{ ctx: string; listings: string; dest: string }> {
  const base = await mkdtemp(join(tmpdir(), 'jettison-copydigest-'));
  dirs.push(base);
  const ctx = join(base, 'ctx');
  mkdirSync(join(ctx, 'src', 'lib'), { recursive: true });
  mkdirSync(join(ctx, 'docs'));
  writeFileSync(join(ctx, 'src', 'main.c'), 'main');
  writeFileSync(join(ctx, 'src', 'lib', 'util.c'), 'util');
  writeFileSync(join(ctx, 'docs', 'a.md'), 'doc');
  symlinkSync('main.c', join(ctx, 'src', 'link'));
  chmodSync(join(ctx, 'src', 'main.c'), 0o755);
  chmodSync(join(ctx, 'src'), 0o755);
  chmodSync(join(ctx, 'src', 'lib'), 0o700);
  const dest = join(base, 'dest');
  mkdirSync(dest);
  return { ctx, listings: join(base, 'listings'), dest };
}

const req = (root: string, paths: string[], dest: string, extra: Partial<CopyRequest> = {}): CopyRequest => ({ source: { root, ownership: 'reset' }, paths, dest, ...extra });

test('the listing: destination path, type, mode, owner, link target and content digest per entry; the digest is its sha256', async () => {
  const { ctx, listings, dest } = await setup();
  const d = await copyDigest(req(ctx, ['src'], '/app/'), dest, undefined, { listingDir: listings });
  assert.ok(d.listing);
  const text = readFileSync(d.listing, 'utf8');
  assert.equal(d.digest, `sha256:${hex(text)}`);
  assert.equal(d.listing, join(listings, hex(text)));
  assert.deepEqual(text.split('\n').slice(0, -1), [
    `"app/lib"\tdir 700 0:0 "" `,
    `"app/lib/util.c"\tfile 644 0:0 "" ${hex('util')}`,
    `"app/link"\tsymlink 777 0:0 "main.c" `,
    `"app/main.c"\tfile 755 0:0 "" ${hex('main')}`,
  ]);
  assert.equal(d.files, 4);
  assert.equal(d.bytes, 8);
  const chowned = await copyDigest(req(ctx, ['src'], '/app/', { chown: { uid: 7, gid: 8 }, chmod: chmodChange('600') }), dest, undefined, { listingDir: listings });
  assert.match(readFileSync(chowned.listing!, 'utf8'), /^"app\/lib"\tdir 600 7:8 "" \n/);
});

test('sources walked out of path order are sorted: the digest does not depend on their order', async () => {
  const { ctx, listings, dest } = await setup();
  const ab = await copyDigest(req(ctx, ['src', 'docs'], '/x/'), dest, undefined, { listingDir: listings });
  const ba = await copyDigest(req(ctx, ['docs', 'src'], '/x/'), dest, undefined, { listingDir: listings });
  assert.equal(ab.digest, ba.digest);
  const paths = readFileSync(ab.listing!, 'utf8').split('\n').slice(0, -1).map((l) => JSON.parse(l.slice(0, l.indexOf('\t'))));
  assert.deepEqual(paths, ['x/a.md', 'x/lib', 'x/lib/util.c', 'x/link', 'x/main.c']);
});

test('the file-hash cache: a hit is used instead of reading the file, a miss is hashed and remembered', async () => {
  const { ctx, listings, dest } = await setup();
  const seen: string[] = [];
  const remembered = new Map<string, string>();
  const cache: FileHashCache = {
    get: async (path: string, _st: Stats) => (path.endsWith('main.c') ? 'c'.repeat(64) : undefined),
    set: (path: string, _st: Stats, digest: string) => {
      seen.push(path);
      remembered.set(path, digest);
    },
  };
  const d = await copyDigest(req(ctx, ['src'], '/app/'), dest, cache, { listingDir: listings });
  const text = readFileSync(d.listing!, 'utf8');
  assert.match(text, new RegExp(`"app/main.c"\\tfile 755 0:0 "" ${'c'.repeat(64)}\\n`));
  assert.deepEqual(seen, [join(ctx, 'src', 'lib', 'util.c')]);
  assert.equal(remembered.get(join(ctx, 'src', 'lib', 'util.c')), hex('util'));
});

test('without a listing directory only the digest is returned and no file is left', async () => {
  const { ctx, dest } = await setup();
  const tmp = await mkdtemp(join(tmpdir(), 'jettison-copydigest-tmp-'));
  dirs.push(tmp);
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    const d = await copyDigest(req(ctx, ['src', 'docs'], '/x/'), dest);
    assert.equal(d.listing, undefined);
    assert.match(d.digest, /^sha256:[0-9a-f]{64}$/);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  assert.deepEqual(readdirSync(tmp), []);
});

test('a failing walk leaves no temporary listing behind', async () => {
  const { ctx, listings, dest } = await setup();
  await assert.rejects(copyDigest(req(ctx, ['src', 'missing'], '/x/'), dest, undefined, { listingDir: listings }), /"\/missing": not found/);
  assert.deepEqual(readdirSync(listings), []);
});
