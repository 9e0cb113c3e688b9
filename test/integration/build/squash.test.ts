/**
 * Squash (CEKit's default, build({ squash: true })): the final image's own layers become one on top of
 * its base; history keeps every step; a whiteout survives only for a path the base has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from '../../../src/build/index.ts';
import { decodeLayer } from '../../../src/image/layer.ts';
import { readTar } from '../../../src/image/tar/index.ts';
import { importRootfsFile, openStore } from '../../../src/store/index.ts';
import { busyboxRootfs } from '../../support/images.ts';

test('squash: one layer over the base, whiteouts only for base paths, history kept', async () => {
  const work = await mkdtemp(join(tmpdir(), 'jettison-squash-'));
  try {
    const store = openStore(join(work, 'root'));
    await importRootfsFile(store, await busyboxRootfs(), 'busybox:latest');
    await writeFile(
      join(work, 'Dockerfile'),
      'FROM busybox\nRUN mkdir -p /tmp/scripts && echo x > /tmp/scripts/s\nRUN echo kept > /kept\nRUN rm -rf /tmp/scripts /bin/vi\nENV A=1\n',
    );
    const common = { context: work, cwd: work, store, env: { ...process.env, SOURCE_DATE_EPOCH: '0' } };
    const plain = await build({ ...common, tags: ['plain:1'] });
    const squashed = await build({ ...common, squash: true, tags: ['squashed:1'] });

    assert.equal(plain.config.rootfs.diff_ids.length, 4, 'base + three RUN layers');
    assert.equal(squashed.config.rootfs.diff_ids.length, 2, 'base + one squashed layer');
    assert.equal(squashed.config.rootfs.diff_ids[0], plain.config.rootfs.diff_ids[0], 'the base layer is untouched');
    assert.equal(squashed.config.history?.length, plain.config.history?.length, 'every step keeps its history entry');
    assert.equal(squashed.config.history?.filter((h) => !h.empty_layer).length, 2, 'history and layers agree');

    const manifest = await store.readJSON<{ layers: { digest: string; mediaType: string }[] }>(squashed.manifest.digest);
    const top = manifest.layers[1];
    const paths: string[] = [];
    for await (const e of readTar(decodeLayer(store.open(top.digest), top.mediaType))) {
      paths.push(e.header.path);
      for await (const _ of e.body) void _;
    }
    assert.ok(paths.includes('kept'), 'the squashed layer holds the new file');
    assert.ok(paths.includes('bin/.wh.vi'), 'a base file deleted stays deleted');
    assert.ok(!paths.some((p) => p.includes('scripts')), `nothing of /tmp/scripts, created and deleted above the base: ${paths.join(', ')}`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
});
