/**
 * Layers as root, with real devices, owners, xattrs (security.capability, trusted.*) and real
 * overlayfs mounts: writer → applier round trips, GNU tar extraction of what we write, a real base
 * rootfs applied by us vs by GNU tar, an overlay upper dir turned into a layer, and layers applied in
 * overlay mode stacked as lowerdirs (deleted files gone, opaque dirs hiding what was below).
 */
import { test, describe, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, lstatSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PathEscapeError } from '../../../src/errors.ts';
import { applyLayerTar, readTar, writeLayerTar, type LayerSource } from '../../../src/image/tar/index.ts';
import { busyboxRootfs } from '../../support/images.ts';
import { craftTar, snapshotTree } from '../../support/trees.ts';

const tmp = mkdtempSync(join(tmpdir(), 'jettison-layer-int-'));
const mounts: string[] = [];
after(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', [m]);
    } catch {
      // already unmounted
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});
let n = 0;
function fresh(name: string): string {
  const d = join(tmp, `${name}${n++}`);
  mkdirSync(d, { recursive: true });
  return d;
}

async function tarOf(source: LayerSource): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of writeLayerTar(source)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function headerMap(buf: Buffer) {
  const out = new Map<string, Awaited<ReturnType<typeof headersOf>>[number]>();
  for (const h of await headersOf(buf)) out.set(h.path, h);
  return out;
}
async function headersOf(buf: Buffer) {
  const out = [];
  for await (const { header } of readTar([buf])) out.push(header);
  return out;
}

function mountOverlay(lowers: string[], target: string, upper?: { upper: string; work: string }): void {
  const opts = [`lowerdir=${lowers.join(':')}`];
  if (upper) opts.push(`upperdir=${upper.upper}`, `workdir=${upper.work}`);
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', opts.join(','), target]);
  mounts.push(target);
}
function umount(target: string): void {
  execFileSync('umount', [target]);
  mounts.splice(mounts.indexOf(target), 1);
}

// VFS_CAP_REVISION_2 | effective; permitted = CAP_NET_BIND_SERVICE
const CAP_NET_BIND = '0x0100000200040000000000000000000000000000';

before(() => {
  assert.equal(process.getuid?.(), 0, 'integration tests run as root');
});

describe('special files, owners and xattrs (as root)', () => {
  function makeRootTree(): string {
    const d = fresh('tree');
    mkdirSync(join(d, 'dev'));
    execFileSync('mknod', [join(d, 'dev/null'), 'c', '1', '3']);
    execFileSync('mknod', [join(d, 'dev/loop9'), 'b', '7', '9']);
    execFileSync('mknod', [join(d, 'dev/big'), 'c', '300', '70000']); // major/minor past 8 and 8 bits
    execFileSync('mkfifo', [join(d, 'dev/pipe')]);
    writeFileSync(join(d, 'ping'), 'binary');
    chownSync(join(d, 'ping'), 1000, 1000);
    chmodSync(join(d, 'ping'), 0o6755); // setuid+setgid must survive chown on apply
    execFileSync('setfattr', ['-n', 'security.capability', '-v', CAP_NET_BIND, join(d, 'ping')]);
    writeFileSync(join(d, 'bigid'), 'x');
    chownSync(join(d, 'bigid'), 3_000_000, 4_000_000);
    mkdirSync(join(d, 'home'));
    chownSync(join(d, 'home'), 1000, 100);
    chmodSync(join(d, 'home'), 0o2770);
    execFileSync('setfattr', ['-n', 'trusted.jettison', '-v', 'kept', join(d, 'home')]);
    execFileSync('setfattr', ['-n', 'user.x', '-v', 'y', join(d, 'bigid')]);
    return d;
  }

  test('write → apply gives the same devices, FIFOs, owners, modes and xattrs', async () => {
    const d = makeRootTree();
    const tar = await tarOf({ type: 'dir', dir: d });
    const hs = await headerMap(tar);
    assert.equal(hs.get('dev/big')!.devmajor, 300);
    assert.equal(hs.get('dev/big')!.devminor, 70000);
    assert.equal(hs.get('bigid')!.uid, 3_000_000);
    assert.equal(hs.get('ping')!.xattrs.get('security.capability')!.toString('hex'), CAP_NET_BIND.slice(2));
    const out = fresh('out');
    await applyLayerTar([tar], out, { mode: 'merge' });
    assert.deepEqual(snapshotTree(out), snapshotTree(d));
    assert.match(execFileSync('getfattr', ['-n', 'security.capability', '-e', 'hex', join(out, 'ping')], { encoding: 'utf8' }), new RegExp(CAP_NET_BIND));
  });

  test('GNU tar --xattrs extracts what we write, capabilities included', async () => {
    const d = makeRootTree();
    const file = join(fresh('gnu'), 'l.tar');
    writeFileSync(file, await tarOf({ type: 'dir', dir: d }));
    const out = fresh('gnuout');
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', file, '-C', out]);
    assert.deepEqual(snapshotTree(out), snapshotTree(d));
  });

  test('a real base rootfs: our applier and GNU tar give the same tree; rewriting it round-trips', async () => {
    const rootfs = await busyboxRootfs();
    const ours = fresh('bb-ours');
    const gnu = fresh('bb-gnu');
    await applyLayerTar(Readable.from(readFileSync(rootfs)), ours, { mode: 'merge' });
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', rootfs, '-C', gnu]);
    const expected = snapshotTree(gnu);
    assert.ok(Object.keys(expected).length > 100);
    assert.deepEqual(snapshotTree(ours), expected);
    const again = fresh('bb-again');
    await applyLayerTar([await tarOf({ type: 'dir', dir: ours })], again, { mode: 'merge' });
    assert.deepEqual(snapshotTree(again), expected);
  });

  test('a layer cannot smuggle overlayfs xattrs (trusted.overlay.redirect) into a lowerdir', async () => {
    const out = fresh('smuggle');
    const tar = craftTar([{ path: 'd', type: 'dir', xattrs: new Map([['trusted.overlay.redirect', Buffer.from('/etc')], ['trusted.ok', Buffer.from('1')]]) }]);
    await applyLayerTar([tar], out, { mode: 'overlay' });
    const attrs = execFileSync('getfattr', ['-d', '-m', '-', join(out, 'd')], { encoding: 'utf8' });
    assert.match(attrs, /trusted\.ok/);
    assert.doesNotMatch(attrs, /overlay/);
  });
});

describe('overlayfs', () => {
  test('an upper dir becomes a layer; layers applied in overlay mode stack as lowerdirs', async () => {
    // base layer
    const base = fresh('base');
    for (const dir of ['etc', 'gone-dir/sub', 'opq/sub', 'keep']) mkdirSync(join(base, dir), { recursive: true });
    writeFileSync(join(base, 'etc/config'), 'v1');
    writeFileSync(join(base, 'etc/deleted'), 'bye');
    writeFileSync(join(base, 'gone-dir/sub/f'), 'f');
    writeFileSync(join(base, 'opq/old'), 'hidden after');
    writeFileSync(join(base, 'opq/sub/old2'), 'hidden after');
    writeFileSync(join(base, 'keep/k'), 'k');

    // changes made through a real overlay mount
    const upper = fresh('upper');
    const work = fresh('work');
    const merged = fresh('merged');
    mountOverlay([base], merged, { upper, work });
    rmSync(join(merged, 'etc/deleted'));
    rmSync(join(merged, 'gone-dir'), { recursive: true });
    rmSync(join(merged, 'opq'), { recursive: true });
    mkdirSync(join(merged, 'opq'));
    writeFileSync(join(merged, 'opq/new'), 'fresh');
    writeFileSync(join(merged, 'etc/config'), 'v2');
    writeFileSync(join(merged, 'added'), 'a');
    const truth = snapshotTree(merged);
    umount(merged);

    const layer2 = await tarOf({ type: 'overlay', upper });
    const hs = await headerMap(layer2);
    assert.deepEqual([...hs.keys()], ['added', 'etc/', 'etc/.wh.deleted', 'etc/config', '.wh.gone-dir', 'opq/', 'opq/.wh..wh..opq', 'opq/new'].sort((a, b) => Buffer.compare(Buffer.from(a.replace(/\/$/, '')), Buffer.from(b.replace(/\/$/, '')))));
    for (const h of hs.values()) for (const k of h.xattrs.keys()) assert.ok(!k.includes('overlay'), `${h.path} carries ${k}`);

    // overlay mode: each layer in its own dir, stacked
    const layer1 = await tarOf({ type: 'dir', dir: base });
    const l1 = fresh('l1');
    const l2 = fresh('l2');
    await applyLayerTar([layer1], l1, { mode: 'overlay' });
    await applyLayerTar([layer2], l2, { mode: 'overlay' });
    assert.ok(lstatSync(join(l2, 'etc/deleted')).isCharacterDevice());
    assert.equal(lstatSync(join(l2, 'etc/deleted')).rdev, 0);
    assert.match(execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', join(l2, 'opq')], { encoding: 'utf8' }), /="y"/);
    const view = fresh('view');
    mountOverlay([l2, l1], view);
    assert.deepEqual(snapshotTree(view), truth);
    umount(view);

    // merge mode: both layers into one tree gives the same view
    const m = fresh('m');
    await applyLayerTar([layer1], m, { mode: 'merge' });
    await applyLayerTar([layer2], m, { mode: 'merge' });
    assert.deepEqual(snapshotTree(m), truth);

    // the copy snapshotter's fallback: a diff of two plain dirs gives an equivalent layer
    const copy = fresh('copy');
    execFileSync('cp', ['-a', `${base}/.`, copy]);
    await applyLayerTar([layer2], copy, { mode: 'merge' });
    const l2diff = fresh('l2diff');
    await applyLayerTar([await tarOf({ type: 'diff', lower: base, upper: copy })], l2diff, { mode: 'overlay' });
    const view2 = fresh('view2');
    mountOverlay([l2diff, l1], view2);
    assert.deepEqual(snapshotTree(view2), truth);
    umount(view2);
  });

  test('overlay mode: a whiteout through a symlink is rejected and nothing outside is touched', async () => {
    const sandbox = fresh('sandbox');
    const outside = join(sandbox, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'sentinel'), 'untouched');
    const tar = craftTar([{ path: 'a', type: 'symlink', linkname: outside }, { path: 'a/.wh.sentinel' }]);
    await assert.rejects(applyLayerTar([tar], join(sandbox, 'root'), { mode: 'overlay' }), PathEscapeError);
    assert.equal(readFileSync(join(outside, 'sentinel'), 'utf8'), 'untouched');
    const tar2 = craftTar([{ path: 'a', type: 'symlink', linkname: outside }, { path: 'a/.wh..wh..opq' }]);
    await assert.rejects(applyLayerTar([tar2], join(sandbox, 'root2'), { mode: 'overlay' }), PathEscapeError);
    assert.equal(execFileSync('getfattr', ['-d', '-m', '-', outside], { encoding: 'utf8' }), '');
  });
});
