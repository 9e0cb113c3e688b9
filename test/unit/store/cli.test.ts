/**
 * The image commands end to end, in-process on a temp store: import → images/inspect/tag/rmi →
 * save (docker, OCI dir, OCI tar) → load into another store; load refuses tampered archives and
 * keeps nothing named from them; prune and fsck through the CLI.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ArchiveTarWriter } from '../../../src/exporter/index.ts';
import { readTar } from '../../../src/image/tar/reader.ts';
import { sha256 } from '../../../src/image/digest.ts';
import { openStore } from '../../../src/store/index.ts';
import { runCli } from '../../support/cli.ts';

function setup(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'jettison-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'rootfs', 'etc'), { recursive: true });
  writeFileSync(join(dir, 'rootfs', 'etc', 'greeting'), 'hi\n');
  execFileSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
  const cli = (args: string[], root = 'store') => runCli(['--root', join(dir, root), ...args], { cwd: dir });
  return { dir, cli };
}

async function entries(file: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const { createReadStream } = await import('node:fs');
  for await (const e of readTar(createReadStream(file))) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(c);
    if (e.header.type === 'file') out.set(e.header.path, Buffer.concat(parts));
  }
  return out;
}

test('import, images, inspect, tag, rmi', async (t) => {
  const { cli } = setup(t);
  const imp = await cli(['import', 'rootfs.tar', 'app:1']);
  assert.equal(imp.code, 0, imp.stderr);
  const id = imp.stdout.trim();
  assert.match(id, /^sha256:[a-f0-9]{64}$/);
  assert.equal((await cli(['tag', 'app:1', 'localhost:5000/team/app:2'])).code, 0);
  const table = (await cli(['images'])).stdout.split('\n');
  assert.match(table[0], /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/);
  assert.match(table[1], new RegExp(`^app\\s+1\\s+${id.slice(7, 19)}\\s+(Less than a second|\\d+ seconds) ago\\s+\\d+(\\.\\d+)?[kM]?B$`));
  assert.match(table[2], /^localhost:5000\/team\/app\s+2\s+/);
  const json = (await cli(['images', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(json.map((r) => `${r.Repository}:${r.Tag}`), ['app:1', 'localhost:5000/team/app:2']);
  const [info] = JSON.parse((await cli(['inspect', id.slice(7, 19)])).stdout);
  assert.equal(info.Id, id);
  assert.deepEqual(info.RepoTags, ['app:1', 'localhost:5000/team/app:2']);
  assert.equal(info.RootFS.Layers.length, 1);
  // Stored uncompressed (pushes and OCI exports compress): the layer's digest is its diffID.
  assert.equal(info.Manifest.layers[0].mediaType, 'application/vnd.oci.image.layer.v1.tar');
  assert.equal(info.Manifest.layers[0].digest, info.RootFS.Layers[0]);
  const missing = await cli(['inspect', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /No such image: nope/);
  const byId = await cli(['rmi', id.slice(7, 19)]);
  assert.equal(byId.code, 1);
  assert.match(byId.stderr, /must be forced\) - image is referenced in multiple repositories/);
  assert.equal((await cli(['rmi', 'app:1'])).stdout, 'Untagged: app:1\n');
  assert.equal((await cli(['images', '-q'])).stdout, `${id.slice(7, 19)}\n`);
  const bad = await cli(['tag', 'app:1', 'x:y']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /No such image: app:1/);
  assert.equal((await cli(['rmi', 'localhost:5000/team/app:2'])).code, 0);
  const pruned = await cli(['prune']);
  assert.match(pruned.stdout, /^(Deleted: sha256:[a-f0-9]{64}\n){3}Total reclaimed space: /);
  assert.equal((await cli(['fsck'])).stdout, 'fsck: ok (0 blobs, 0 refs checked)\n');
});

test('save as docker archive, OCI dir and OCI tar; load each into a fresh store', async (t) => {
  const { dir, cli } = setup(t);
  const id = (await cli(['import', 'rootfs.tar', 'app:1'])).stdout.trim();
  assert.equal((await cli(['save', '-o', 'd.tar', 'app:1'])).code, 0);
  const d = await entries(join(dir, 'd.tar'));
  const manifest = JSON.parse(d.get('manifest.json')!.toString());
  assert.deepEqual(manifest[0].RepoTags, ['app:1']);
  assert.equal(manifest[0].Config, `blobs/sha256/${id.slice(7)}`);
  const layer = d.get(manifest[0].Layers[0])!;
  assert.equal(`blobs/sha256/${sha256(layer).slice(7)}`, manifest[0].Layers[0], 'layers are uncompressed, named by diffID');
  assert.deepEqual(JSON.parse(d.get('repositories')!.toString()), { app: { '1': sha256(layer).slice(7) } });

  assert.equal((await cli(['save', '--format', 'oci', '-o', 'layout', 'app:1'])).code, 0);
  assert.equal(readFileSync(join(dir, 'layout', 'oci-layout'), 'utf8'), '{"imageLayoutVersion":"1.0.0"}');
  const index = JSON.parse(readFileSync(join(dir, 'layout', 'index.json'), 'utf8'));
  assert.deepEqual(index.manifests[0].annotations, { 'io.containerd.image.name': 'docker.io/library/app:1', 'org.opencontainers.image.ref.name': '1' });
  assert.equal((await cli(['save', '--format', 'oci', '-o', 'o.tar', 'app:1'])).code, 0);

  for (const [input, root] of [['d.tar', 's1'], ['layout', 's2'], ['o.tar', 's3']]) {
    const r = await cli(['load', '-i', input], root);
    assert.equal(r.code, 0, `${input}: ${r.stderr}`);
    assert.equal(r.stdout, 'Loaded image: app:1\n');
    const [info] = JSON.parse((await cli(['inspect', 'app:1'], root)).stdout);
    assert.equal(info.Id, id, `${input}: same image ID`);
    assert.equal((await cli(['fsck'], root)).code, 0);
  }
  // Stdin, gzip-compressed.
  execFileSync('gzip', ['-k', join(dir, 'd.tar')]);
  const r = await runCli(['--root', join(dir, 's4'), 'load'], { cwd: dir, stdin: readFileSync(join(dir, 'd.tar.gz')) });
  assert.equal(r.stdout, 'Loaded image: app:1\n', r.stderr);
});

async function writeTar(file: string, files: [string, Buffer | string][]): Promise<void> {
  const w = new ArchiveTarWriter(createWriteStream(file));
  for (const [p, data] of files) await w.addBytes(p, data);
  await w.finish();
}

test('load refuses tampered archives and names nothing', async (t) => {
  const { dir, cli } = setup(t);
  await cli(['import', 'rootfs.tar', 'app:1']);
  assert.equal((await cli(['save', '-o', 'd.tar', 'app:1'])).code, 0);
  const d = await entries(join(dir, 'd.tar'));
  const manifest = JSON.parse(d.get('manifest.json')!.toString());
  const layerPath = manifest[0].Layers[0];
  const configPath = manifest[0].Config;

  // A docker archive whose layer is not what the config's diff_ids say (stored under another name).
  const evil = Buffer.from(d.get(layerPath)!);
  evil[600] ^= 1;
  await writeTar(join(dir, 'bad-layer.tar'), [
    [configPath, d.get(configPath)!],
    ['evil/layer.tar', evil],
    ['manifest.json', JSON.stringify([{ ...manifest[0], Layers: ['evil/layer.tar'] }])],
  ]);
  // A blob whose content does not match its file name.
  await writeTar(join(dir, 'bad-blob.tar'), [
    [configPath, d.get(configPath)!],
    [layerPath, evil],
    ['manifest.json', d.get('manifest.json')!],
  ]);
  // A path that leaves the archive.
  await writeTar(join(dir, 'escape.tar'), [['../x', 'x'], ['manifest.json', '[]']]);
  const cases: [string, RegExp][] = [
    ['bad-layer.tar', /layer evil\/layer.tar: digest mismatch: expected sha256:/],
    ['bad-blob.tar', /content: digest mismatch: expected sha256:/],
    ['escape.tar', /leaves the archive/],
  ];
  for (const [file, msg] of cases) {
    const r = await cli(['load', '-i', file], `bad-${file}`);
    assert.equal(r.code, 1, file);
    assert.match(r.stderr, msg);
    assert.deepEqual(await openStore(join(dir, `bad-${file}`)).listRefs(), [], `${file}: nothing named`);
  }
});
