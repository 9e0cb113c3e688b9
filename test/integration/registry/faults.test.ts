/**
 * Retries, resumption and digest checks, with a fault-injecting proxy in front of a real registry:
 * each case breaks chosen requests and says what the pull or push must do (succeed after how many
 * requests, or fail without storing anything).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DigestMismatchError, RegistryError } from '../../../src/errors.ts';
import { pullImage, pushImage, resolveRegistryConfig, type RegistryConfig } from '../../../src/registry/index.ts';
import { startFaultProxy, type FaultProxy, type FaultRule, type ProxiedRequest } from '../../support/fault-proxy.ts';
import { startRegistry, type TestRegistry } from '../../support/registry.ts';
import { makeImage, noise, tempDir, tempStore, type TestImage } from './helpers.ts';

let reg: TestRegistry;
let proxy: FaultProxy;
let config: RegistryConfig;
let image: TestImage;
let cleanupSource: () => Promise<void>;
const OPTS = { retries: 2, retryDelayMs: 5 };

before(async () => {
  reg = await startRegistry();
  proxy = await startFaultProxy(reg.url);
  const d = await tempDir();
  config = await resolveRegistryConfig({}, { ...process.env, DOCKER_CONFIG: d.path, JETTISON_CONFIG: join(d.path, 'none.json') });
  const src = await tempStore();
  cleanupSource = async () => {
    await src.cleanup();
    await d.cleanup();
  };
  // A big incompressible layer (so a truncated body is really cut) and a small one.
  image = await makeImage(src.store, 'local/faulty:1', [{ 'big.bin': noise(600_000, 'big') }, { 'small.txt': 'small\n' }]);
  await pushImage(`${reg.host}/faults/img:1`, { store: src.store, source: 'local/faulty:1', config, ...OPTS });
});
after(async () => {
  await proxy?.stop();
  await reg?.stop();
  await cleanupSource?.();
});

const big = (): string => image.layers[0].digest;

interface PullCase {
  name: string;
  faults: () => FaultRule[];
  /** Pull by digest instead of by tag. */
  byDigest?: boolean;
  expect: 'ok' | 'mismatch' | 'status-500';
  check?: (requests: ProxiedRequest[]) => void;
}

const pullCases: PullCase[] = [
  {
    name: 'a 500 on the manifest is retried',
    faults: () => [{ method: 'GET', path: '/manifests/', fault: 'status', status: 500 }],
    expect: 'ok',
    check: (r) => assert.equal(r.filter((x) => x.path.includes('/manifests/')).length, 2),
  },
  {
    name: 'a 503 then a dropped connection on a blob are retried',
    faults: () => [
      { method: 'GET', path: `/blobs/${big()}`, fault: 'status', status: 503 },
      { method: 'GET', path: `/blobs/${big()}`, fault: 'reset' },
    ],
    expect: 'ok',
    check: (r) => assert.equal(r.filter((x) => x.path.endsWith(big())).length, 3),
  },
  {
    name: 'a blob cut off half-way resumes with a Range request',
    faults: () => [{ method: 'GET', path: `/blobs/${big()}`, fault: 'truncate' }],
    expect: 'ok',
    check: (r) => {
      const gets = r.filter((x) => x.path.endsWith(big()));
      assert.equal(gets.length, 2);
      assert.match(String(gets[1].headers.range), /^bytes=[1-9]\d*-$/);
    },
  },
  {
    name: 'a corrupted blob is rejected and not stored',
    faults: () => [{ method: 'GET', path: `/blobs/${big()}`, fault: 'corrupt', times: Infinity }],
    expect: 'mismatch',
  },
  {
    name: 'a corrupted manifest fetched by tag fails the Docker-Content-Digest check',
    faults: () => [{ method: 'GET', path: '/manifests/1', fault: 'corrupt', times: Infinity }],
    expect: 'mismatch',
  },
  {
    name: 'a corrupted manifest fetched by digest fails the digest asked for',
    byDigest: true,
    faults: () => [{ method: 'GET', path: '/manifests/sha256:', fault: 'corrupt', times: Infinity }],
    expect: 'mismatch',
  },
  {
    name: 'retries are bounded: a registry that keeps failing fails the pull',
    faults: () => [{ method: 'GET', path: '/manifests/', fault: 'status', status: 500, times: Infinity }],
    expect: 'status-500',
    check: (r) => assert.equal(r.filter((x) => x.path.includes('/manifests/')).length, 1 + OPTS.retries),
  },
];

describe('pull through faults', () => {
  for (const c of pullCases) {
    test(c.name, async () => {
      proxy.clearFaults();
      for (const f of c.faults()) proxy.addFault(f);
      const start = proxy.requests.length;
      const s = await tempStore();
      const ref = c.byDigest ? `${proxy.host}/faults/img@${image.manifest.digest}` : `${proxy.host}/faults/img:1`;
      try {
        const run = pullImage(ref, { store: s.store, config, ...OPTS });
        if (c.expect === 'ok') {
          const r = await run;
          assert.equal(r.manifest.digest, image.manifest.digest);
          for (const l of image.layers) assert.ok(await s.store.has(l.digest));
        } else {
          await assert.rejects(run, (err: unknown) => {
            if (c.expect === 'mismatch') assert.ok(err instanceof DigestMismatchError, String(err));
            else {
              assert.ok(err instanceof RegistryError, String(err));
              assert.equal(err.status, 500);
            }
            return true;
          });
          assert.deepEqual(await s.store.listRefs(), [], 'no ref is written');
          if (c.faults()[0].path?.toString().includes('/blobs/')) assert.equal(await s.store.has(big()), false, 'the bad blob is not stored');
          assert.equal(await s.store.has(image.manifest.digest), false, 'the manifest is not stored');
        }
        c.check?.(proxy.requests.slice(start));
      } finally {
        proxy.clearFaults();
        await s.cleanup();
      }
    });
  }
});

interface PushCase {
  name: string;
  chunkSize?: number;
  faults: () => FaultRule[];
  check: (requests: ProxiedRequest[]) => void;
}

const pushCases: PushCase[] = [
  {
    name: 'a failed upload PUT restarts the upload',
    faults: () => [{ method: 'PUT', path: `digest=${encodeURIComponent(big())}`, fault: 'status', status: 500 }],
    check: (r) => {
      assert.equal(r.filter((x) => x.method === 'PUT' && x.path.includes(encodeURIComponent(big()))).length, 2);
      assert.equal(r.filter((x) => x.method === 'POST').length, 4, 'one more POST than blobs');
    },
  },
  {
    name: 'chunked upload: PATCH chunks then a PUT',
    chunkSize: 256 * 1024,
    faults: () => [],
    check: (r) => {
      const patches = r.filter((x) => x.method === 'PATCH');
      assert.equal(patches.length, Math.ceil(image.layers[0].size / (256 * 1024)));
      assert.deepEqual(
        patches.map((p) => p.headers['content-range']),
        patches.map((_, i) => `${i * 256 * 1024}-${Math.min(image.layers[0].size, (i + 1) * 256 * 1024) - 1}`),
      );
    },
  },
  {
    name: 'chunked upload: a dropped PATCH restarts the upload',
    chunkSize: 256 * 1024,
    faults: () => [{ method: 'PATCH', fault: 'reset' }],
    check: (r) => assert.ok(r.filter((x) => x.method === 'PATCH').length > Math.ceil(image.layers[0].size / (256 * 1024))),
  },
  {
    name: 'a 502 on the manifest PUT is retried',
    faults: () => [{ method: 'PUT', path: '/manifests/', fault: 'status', status: 502 }],
    check: (r) => assert.equal(r.filter((x) => x.method === 'PUT' && x.path.includes('/manifests/')).length, 2),
  },
];

describe('push through faults', () => {
  for (const [i, c] of pushCases.entries()) {
    test(c.name, async () => {
      proxy.clearFaults();
      for (const f of c.faults()) proxy.addFault(f);
      // A fresh store each time, so no blob is known to be elsewhere on this registry (no mounts).
      const src = await tempStore();
      const again = await makeImage(src.store, 'local/faulty:1', [{ 'big.bin': noise(600_000, 'big') }, { 'small.txt': 'small\n' }]);
      assert.equal(again.manifest.digest, image.manifest.digest, 'images are reproducible');
      const start = proxy.requests.length;
      try {
        const repo = `${proxy.host}/pushfaults/case${i}:1`;
        const r = await pushImage(repo, { store: src.store, source: 'local/faulty:1', config, chunkSize: c.chunkSize, ...OPTS });
        assert.equal(r.digest, image.manifest.digest);
        // What landed is whole: a fresh pull (no faults) verifies every digest.
        proxy.clearFaults();
        const s = await tempStore();
        try {
          const pulled = await pullImage(repo, { store: s.store, config, ...OPTS });
          assert.equal(pulled.manifest.digest, image.manifest.digest);
        } finally {
          await s.cleanup();
        }
        c.check(proxy.requests.slice(start));
      } finally {
        proxy.clearFaults();
        await src.cleanup();
      }
    });
  }
});
