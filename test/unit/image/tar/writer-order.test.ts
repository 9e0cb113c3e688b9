// The layer tar writer walks one directory at a time in output order (src/image/tar/writer.ts). These
// cases check that the streamed order is exactly the byte order of the full paths for names that sort
// differently component by component ("a", "a-c", "a/b", "a0", non-ASCII), for plain, overlay and diff
// sources, and which parent directories a diff writes (a table).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { readTar, writeLayerTar, type LayerSource } from '../../../../src/image/tar/index.ts';

const base = mkdtempSync(join(tmpdir(), 'jettison-tar-order-'));
after(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => {
  const d = join(base, `t${++n}`);
  mkdirSync(d);
  return d;
};

/** Creates files (content = their path) and directories (names ending in "/"). */
function make(root: string, paths: string[]): void {
  for (const p of paths) {
    if (p.endsWith('/')) mkdirSync(join(root, p), { recursive: true });
    else {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      writeFileSync(join(root, p), p);
    }
  }
}

async function entries(source: LayerSource): Promise<string[]> {
  const out: string[] = [];
  for await (const e of readTar(writeLayerTar(source, { xattrs: false }))) {
    out.push(e.header.path.replace(/\/$/, '') + (e.header.type === 'dir' ? '/' : ''));
    for await (const _ of e.body) void _;
  }
  return out;
}

const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const strip = (p: string) => p.replace(/\/$/, '');

const TRICKY = ['a', 'a-c', 'a.txt', 'a0', 'ab', 'A', '_', 'é', '\u{1F600}', '\uFF46', 'b c'];

test('dir source: every entry, in the byte order of full paths, for names that sort differently by component', async () => {
  const root = fresh();
  const paths: string[] = [];
  for (const x of TRICKY) {
    paths.push(`${x}/`, `${x}/f`, `${x}/a-c`, `${x}/a/deep`);
    paths.push(`${x}-file`);
  }
  make(root, paths);
  symlinkSync('a', join(root, 'a/ln'));
  const got = await entries({ type: 'dir', dir: root });
  assert.deepEqual(got.map(strip), [...got.map(strip)].sort(byBytes));
  const expected = new Set<string>();
  for (const p of paths) {
    const parts = strip(p).split('/');
    for (let i = 1; i <= parts.length; i++) expected.add(parts.slice(0, i).join('/'));
  }
  expected.add('a/ln');
  assert.deepEqual(new Set(got.map(strip)), expected);
});

test('overlay source: whiteouts and opaque markers take their place in the byte order', async () => {
  const upper = fresh();
  make(upper, ['a/', 'a/x', 'a-c', 'opq/', 'opq/in', 'w/']);
  execFileSync('mknod', [join(upper, 'a0'), 'c', '0', '0']);
  execFileSync('mknod', [join(upper, 'w', 'gone'), 'c', '0', '0']);
  execFileSync('setfattr', ['-n', 'user.overlay.opaque', '-v', 'y', join(upper, 'opq')]);
  assert.deepEqual(await entries({ type: 'overlay', upper }), ['.wh.a0', 'a/', 'a-c', 'a/x', 'opq/', 'opq/.wh..wh..opq', 'opq/in', 'w/', 'w/.wh.gone']);
});

const diffCases: { name: string; lower: string[]; upper: string[]; change?: (upper: string) => void; expected: string[] }[] = [
  { name: 'no change, nothing written', lower: ['a/', 'a/b/', 'a/b/f'], upper: ['a/', 'a/b/', 'a/b/f'], expected: [] },
  {
    name: 'a file deep down: its unchanged parents are written, their siblings are not',
    lower: ['a/', 'a/b/', 'a/b/f', 'a-c/', 'a-c/g', 'z'],
    upper: ['a/', 'a/b/', 'a/b/f', 'a-c/', 'a-c/g', 'z'],
    change: (u) => writeFileSync(join(u, 'a/b/f'), 'changed content'),
    expected: ['a/', 'a/b/', 'a/b/f'],
  },
  {
    name: 'an added directory is written whole; a deletion is a whiteout with its parent',
    lower: ['keep/', 'keep/x', 'old/', 'old/y'],
    upper: ['keep/', 'keep/x', 'new/', 'new/s/', 'new/s/t', 'old/'],
    expected: ['new/', 'new/s/', 'new/s/t', 'old/', 'old/.wh.y'],
  },
  {
    name: 'changes under sibling directories that sort around each other ("a", "a-c", "a0")',
    lower: ['a/', 'a/f', 'a-c/', 'a-c/f', 'a0/', 'a0/f'],
    upper: ['a/', 'a/f', 'a-c/', 'a-c/f', 'a0/', 'a0/f'],
    change: (u) => {
      writeFileSync(join(u, 'a/f'), 'new a');
      writeFileSync(join(u, 'a0/f'), 'new a0');
    },
    expected: ['a/', 'a/f', 'a0/', 'a0/f'],
  },
  { name: 'a file replaced by a directory', lower: ['p'], upper: ['p/', 'p/q'], expected: ['p/', 'p/q'] },
];

for (const c of diffCases) {
  test(`diff source: ${c.name}`, async () => {
    const lower = fresh();
    make(lower, c.lower);
    const upper = fresh();
    execFileSync('cp', ['-a', `${lower}/.`, upper]); // same metadata where unchanged
    for (const p of c.lower) if (!c.upper.includes(p)) rmSync(join(upper, p), { recursive: true, force: true });
    make(upper, c.upper.filter((p) => !c.lower.includes(p)));
    c.change?.(upper);
    const got = await entries({ type: 'diff', lower, upper });
    assert.deepEqual(got, c.expected);
    assert.deepEqual(got.map(strip), [...got.map(strip)].sort(byBytes));
  });
}
