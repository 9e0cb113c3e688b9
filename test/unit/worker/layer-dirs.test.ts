/**
 * Layer dirs (worker/image.ts) and the markers of kept upper dirs: a layer is unpacked once from its
 * blob; an upper dir kept from a volatile overlay is marked with its boot and trusted in that boot only;
 * a marked dir from another boot (which a power loss may have left incomplete) is dropped and unpacked
 * again from the blob; a durable upper gets no marker; an unpack removes a stray marker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { encodeLayer } from '../../../src/image/layer.ts';
import { openStore } from '../../../src/store/index.ts';
import { adoptUpper, layerDirs } from '../../../src/worker/index.ts';
import { bootId } from '../../../src/worker/probe-cache.ts';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-layerdirs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A store holding one uncompressed layer with app/hello.txt = "hello\n"; its descriptor and diffID. */
async function storedLayer(dir: string) {
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'app'), { recursive: true });
  writeFileSync(join(tree, 'app', 'hello.txt'), 'hello\n');
  const tar = execFileSync('tar', ['-C', tree, '--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-cf', '-', 'app']);
  const store = openStore(join(dir, 'root'));
  const { descriptor, diffID } = await encodeLayer(Readable.from([tar]), { compression: 'none' }, store);
  const stateDir = join(dir, 'root', 'worker');
  return { store, descriptor, diffID, stateDir, final: join(stateDir, 'layers', diffID.slice(7)) };
}

/** A dir standing for a kept upper whose data did not all reach the disk. */
function damagedUpper(at: string): void {
  mkdirSync(join(at, 'app'), { recursive: true });
  writeFileSync(join(at, 'app', 'hello.txt'), '');
}

const cases: { name: string; marker: (boot: string) => string | undefined; trusted: boolean }[] = [
  { name: 'no marker (unpacked, or kept from a durable overlay): used as it is', marker: () => undefined, trusted: true },
  { name: 'marked in this boot: used as it is', marker: (boot) => `${boot}\n`, trusted: true },
  { name: 'marked in another boot: dropped and unpacked again from the blob', marker: () => 'another-boot\n', trusted: false },
];

for (const c of cases) {
  test(`layerDirs, a kept dir ${c.name}`, async (t) => {
    const dir = tempDir(t);
    const { store, descriptor, diffID, stateDir, final } = await storedLayer(dir);
    damagedUpper(final);
    const marker = c.marker(bootId());
    if (marker !== undefined) writeFileSync(`${final}.boot`, marker);
    assert.deepEqual(await layerDirs(stateDir, store, [descriptor], [diffID]), [final]);
    assert.equal(readFileSync(join(final, 'app', 'hello.txt'), 'utf8'), c.trusted ? '' : 'hello\n');
    assert.equal(existsSync(`${final}.boot`), c.trusted && marker !== undefined, 'the marker goes with the dropped dir');
    assert.deepEqual(readdirSync(join(stateDir, 'layers')).filter((n) => n.startsWith('.tmp-')), [], 'nothing left aside');
  });
}

test('adoptUpper: a volatile upper is kept with a marker of this boot, a durable one without', async (t) => {
  const dir = tempDir(t);
  const { stateDir } = await storedLayer(dir);
  for (const durable of [false, true]) {
    const upper = join(dir, `upper-${durable}`);
    damagedUpper(upper);
    const diffID = `sha256:${(durable ? 'b' : 'a').repeat(64)}` as const;
    await adoptUpper(stateDir, upper, diffID, durable);
    const final = join(stateDir, 'layers', diffID.slice(7));
    assert.equal(existsSync(upper), false, 'moved, not copied');
    assert.ok(existsSync(join(final, 'app', 'hello.txt')));
    assert.equal(existsSync(`${final}.boot`) ? readFileSync(`${final}.boot`, 'utf8') : undefined, durable ? undefined : `${bootId()}\n`);
  }
});

test('adoptUpper leaves a layer dir that is there alone; an unpack removes a stray marker', async (t) => {
  const dir = tempDir(t);
  const { store, descriptor, diffID, stateDir, final } = await storedLayer(dir);
  // A marker left by a crash between writing it and the rename: the next unpack removes it.
  mkdirSync(join(stateDir, 'layers'), { recursive: true });
  writeFileSync(`${final}.boot`, 'another-boot\n');
  await layerDirs(stateDir, store, [descriptor], [diffID]);
  assert.equal(readFileSync(join(final, 'app', 'hello.txt'), 'utf8'), 'hello\n');
  assert.equal(existsSync(`${final}.boot`), false);
  const upper = join(dir, 'upper');
  damagedUpper(upper);
  await adoptUpper(stateDir, upper, diffID, false);
  assert.equal(readFileSync(join(final, 'app', 'hello.txt'), 'utf8'), 'hello\n', 'the unpacked dir stays');
  assert.equal(existsSync(`${final}.boot`), false, 'and gets no marker');
  assert.ok(existsSync(upper), 'the upper is left for its snapshot to remove');
});
