/**
 * trustedCacheDir (src/cli/compile-cache.ts): compiled code is only cached in, and loaded from, a
 * directory no other user can write to. A table of real directories with their owners and modes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trustedCacheDir } from '../../../src/cli/compile-cache.ts';

const isRoot = process.geteuid?.() === 0;

test('compile cache: trusted only where no one else can write', (t) => {
  const base = mkdtempSync(join(tmpdir(), 'jettison-trust-'));
  t.after(() => rmSync(base, { recursive: true, force: true }));
  const dir = (name: string, mode: number, owner?: number): string => {
    const p = join(base, name);
    mkdirSync(p, { recursive: true });
    chmodSync(p, mode);
    if (owner !== undefined) chownSync(p, owner, owner);
    return p;
  };
  const cases: { name: string; path: () => string; want: boolean; needsRoot?: boolean }[] = [
    { name: 'own directory, 0700', path: () => dir('own', 0o700), want: true },
    { name: 'own directory, 0755', path: () => dir('own755', 0o755), want: true },
    { name: 'not made yet, under an own directory', path: () => join(dir('parent', 0o700), 'a', 'b'), want: true },
    { name: 'world-writable directory', path: () => dir('open', 0o777), want: false },
    { name: 'group-writable directory', path: () => dir('group', 0o770), want: false },
    { name: 'under a world-writable, non-sticky directory', path: () => join(dir('opendir', 0o777), 'cache'), want: false },
    { name: 'under a sticky world-writable directory (like /tmp), in an own subdirectory', path: () => { dir('sticky', 0o1777); return dir('sticky/mine', 0o700); }, want: true },
    { name: 'directly in a sticky world-writable directory', path: () => dir('sticky2', 0o1777), want: false },
    { name: "another user's directory", path: () => dir('theirs', 0o700, 1234), want: false, needsRoot: true },
    { name: "under another user's directory", path: () => join(dir('theirs2', 0o755, 1234), 'c'), want: false, needsRoot: true },
    {
      name: 'a symbolic link to a world-writable directory',
      path: () => {
        const target = dir('linked-open', 0o777);
        const link = join(dir('links', 0o700), 'cache');
        symlinkSync(target, link);
        return link;
      },
      want: false,
    },
  ];
  for (const c of cases) {
    if (c.needsRoot && !isRoot) continue;
    assert.equal(trustedCacheDir(c.path()), c.want, c.name);
  }
});
