/** USER resolution against passwd/group contents: BuildKit's (runc's) rules, as a table. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveUserFrom } from '../../../src/worker/runtime/user.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/sh
# a comment
www:x:1000:1000::/home/www:/bin/sh
app:x:2000:3000::/app:/bin/sh
broken line
nobody:x:65534:65534::/nonexistent:/bin/false
`;
const GROUP = `root:x:0:
staff:x:50:www,app
users:x:100:www
www:x:1000:
appgrp:x:3000:
`;

type Case = [spec: string, passwd: string | null, group: string | null, expected: [number, number, number[]] | RegExp];
const cases: Record<string, Case> = {
  'empty is root': ['', PASSWD, GROUP, [0, 0, []]],
  'uid:gid fast path, no lookup': ['1000:1000', null, null, [1000, 1000, []]],
  'root:root fast path': ['root:root', null, null, [0, 0, []]],
  'name with supplementary groups': ['www', PASSWD, GROUP, [1000, 1000, [50, 100]]],
  'name whose primary group is elsewhere': ['app', PASSWD, GROUP, [2000, 3000, [50]]],
  'uid found in passwd takes its gid and groups': ['1000', PASSWD, GROUP, [1000, 1000, [50, 100]]],
  'uid not in passwd: gid 0': ['4242', PASSWD, GROUP, [4242, 0, []]],
  'uid with no passwd file': ['4242', null, null, [4242, 0, []]],
  'name:group by names, no supplementary groups': ['www:staff', PASSWD, GROUP, [1000, 50, []]],
  'name:gid not in group file': ['www:777', PASSWD, GROUP, [1000, 777, []]],
  'uid:group name': ['4242:staff', PASSWD, GROUP, [4242, 50, []]],
  'unknown user': ['ghost', PASSWD, GROUP, /^unable to find user ghost: no matching entries in passwd file$/],
  'unknown user, no passwd file': ['ghost', null, null, /^unable to find user ghost: no matching entries in passwd file$/],
  'unknown group': ['www:ghosts', PASSWD, GROUP, /^unable to find group ghosts: no matching entries in group file$/],
  'root by name': ['root', PASSWD, GROUP, [0, 0, []]],
  'nobody': ['nobody', PASSWD, GROUP, [65534, 65534, []]],
};

for (const [name, [spec, passwd, group, expected]] of Object.entries(cases)) {
  test(`USER ${JSON.stringify(spec)}: ${name}`, () => {
    if (expected instanceof RegExp) {
      assert.throws(() => resolveUserFrom(spec, passwd, group), (err: Error) => expected.test(err.message));
    } else {
      const [uid, gid, additionalGids] = expected;
      assert.deepEqual(resolveUserFrom(spec, passwd, group), { uid, gid, additionalGids });
    }
  });
}
