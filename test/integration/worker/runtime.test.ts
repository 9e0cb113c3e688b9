/**
 * Choosing the OCI runtime: only one that actually runs a container is taken (a broken one is skipped,
 * or named with its error when asked for), and when none is installed the error says what to install.
 * A "broken" runtime here is a real executable that fails the way crun 1.8.1 does on hybrid cgroups.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { detectRuntime, findOnPath, probeRuntime } from '../../../src/worker/runtime/detect.ts';
import { createWorker } from '../../../src/worker/index.ts';
import { cleanupDir, tempDir } from './helpers.ts';

let dir: string;
const runc = findOnPath('runc')!;

before(() => {
  dir = tempDir('worker-runtime');
});
after(() => cleanupDir(dir));

/** A PATH dir holding `entries`: name → 'runc' (a link to the real runc) or 'broken'. */
function pathWith(name: string, entries: Record<string, 'runc' | 'broken'>): string {
  const bin = join(dir, name);
  mkdirSync(bin);
  for (const [n, kind] of Object.entries(entries)) {
    if (kind === 'runc') symlinkSync(runc, join(bin, n));
    else {
      writeFileSync(join(bin, n), '#!/bin/sh\necho "cannot set up cgroups: no such controller" >&2\nexit 1\n');
      chmodSync(join(bin, n), 0o755);
    }
  }
  return bin;
}

const state = () => join(dir, 'state');
const scratch = () => join(dir, 'scratch');

test('runc is used when it works', async () => {
  const rt = await detectRuntime(undefined, state(), scratch(), pathWith('p1', { runc: 'runc', crun: 'broken' }));
  assert.equal(rt.name, 'runc');
});

test('a broken runc is skipped for a crun that works', async () => {
  const rt = await detectRuntime(undefined, state(), scratch(), pathWith('p2', { runc: 'broken', crun: 'runc' }));
  assert.equal(rt.name, 'crun');
});

test('a broken crun is never chosen', async () => {
  await assert.rejects(detectRuntime(undefined, state(), scratch(), pathWith('p3', { crun: 'broken' })), (err: Error) => {
    assert.match(err.message, /no OCI runtime can run containers here/);
    assert.match(err.message, /crun: exit code 1: cannot set up cgroups/);
    assert.match(err.message, /apt-get install runc/);
    return true;
  });
});

test('asking for a broken runtime says why it cannot be used', async () => {
  await assert.rejects(detectRuntime('crun', state(), scratch(), pathWith('p4', { runc: 'runc', crun: 'broken' })), /OCI runtime .*crun cannot run containers here: exit code 1/);
});

test('no runtime installed: the error says which package to install', async () => {
  const empty = pathWith('p5', {});
  await assert.rejects(detectRuntime(undefined, state(), scratch(), empty), {
    code: 'RUNTIME_NOT_FOUND',
    message: 'no OCI runtime found on PATH (looked for runc, crun): install runc (apt-get install runc)',
  });
  await assert.rejects(detectRuntime('runc', state(), scratch(), empty), /runc not found on PATH \(install it: apt-get install runc\)/);
});

test('the real crun, when installed, is chosen only if its probe succeeds', async (t) => {
  const crun = findOnPath('crun');
  if (!crun) return t.skip('crun is not installed');
  const why = await probeRuntime({ name: 'crun', path: crun, stateRoot: join(dir, 'crun-state') }, scratch());
  if (why === undefined) assert.equal((await detectRuntime('crun', join(dir, 'crun-state'), scratch())).path, crun);
  else await assert.rejects(detectRuntime('crun', join(dir, 'crun-state'), scratch()), /cannot run containers here/);
});

test('the worker option picks the runtime by path', async () => {
  const w = await createWorker({ root: join(dir, 'store'), runtime: runc });
  assert.equal((await w.runtime()).path, runc);
  await w.close();
});
