/** Package manager commands per manager (CEKit's defaults; manager_flags replaces them). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { managerFlags, packageCommands, PACKAGE_MANAGERS } from '../../../../src/frontend/cekit/packages.ts';

const pkgs = { install: ['a', 'b=1.2'], remove: ['old'], reinstall: ['r'] };

const cases: { manager: string; flags?: string | null; clean?: boolean; expected: string[] }[] = [
  {
    manager: 'yum',
    expected: [
      'yum --setopt=tsflags=nodocs remove -y old',
      'yum --setopt=tsflags=nodocs install -y a b=1.2',
      'rpm -q a b',
      'yum --setopt=tsflags=nodocs reinstall -y r',
      'rpm -q r',
    ],
  },
  {
    manager: 'dnf',
    clean: true,
    expected: [
      'dnf --setopt=tsflags=nodocs remove -y old',
      'dnf --setopt=tsflags=nodocs install -y a b=1.2',
      'rpm -q a b',
      'dnf --setopt=tsflags=nodocs reinstall -y r',
      'rpm -q r',
      'dnf clean all && rm -rf "/var/cache/yum" "/var/lib/dnf" "/var/cache/dnf"',
    ],
  },
  {
    manager: 'microdnf',
    expected: [
      'microdnf --setopt=tsflags=nodocs --setopt=install_weak_deps=0 remove -y old',
      'microdnf --setopt=tsflags=nodocs --setopt=install_weak_deps=0 install -y a b=1.2',
      'rpm -q a b',
      'microdnf --setopt=tsflags=nodocs --setopt=install_weak_deps=0 reinstall -y r',
      'rpm -q r',
    ],
  },
  {
    manager: 'microdnf',
    flags: null,
    expected: ['microdnf remove -y old', 'microdnf install -y a b=1.2', 'rpm -q a b', 'microdnf reinstall -y r', 'rpm -q r'],
  },
  {
    manager: 'microdnf',
    flags: '--setopt=tsflags=nodocs',
    expected: [
      'microdnf --setopt=tsflags=nodocs remove -y old',
      'microdnf --setopt=tsflags=nodocs install -y a b=1.2',
      'rpm -q a b',
      'microdnf --setopt=tsflags=nodocs reinstall -y r',
      'rpm -q r',
    ],
  },
  {
    manager: 'apk',
    clean: true,
    expected: ['apk del old', 'apk add a b=1.2', 'apk info -e a b', 'apk fix r', 'apk info -e r', 'rm -rf /var/cache/apk/*'],
  },
  {
    manager: 'apt-get',
    expected: [
      'apt-get --no-install-recommends remove -y old',
      'apt-get update',
      'apt-get --no-install-recommends install -y a b=1.2',
      'dpkg-query --show a b',
      'apt-get --no-install-recommends install -y --reinstall r',
      'dpkg-query --show r',
    ],
  },
  {
    manager: 'apt-get',
    flags: '-q',
    clean: true,
    expected: [
      'apt-get -q remove -y old',
      'apt-get update',
      'apt-get -q install -y a b=1.2',
      'dpkg-query --show a b',
      'apt-get -q install -y --reinstall r',
      'dpkg-query --show r',
      'apt-get clean && rm -rf /var/lib/apt/lists/*',
    ],
  },
];

for (const c of cases) {
  test(`${c.manager} flags=${JSON.stringify(c.flags)} clean=${Boolean(c.clean)}`, () => {
    const pm = PACKAGE_MANAGERS[c.manager]!;
    assert.deepEqual(packageCommands(pm, managerFlags(pm, c.flags), pkgs, Boolean(c.clean)), c.expected);
  });
}

test('apt-get update only when something is installed', () => {
  const pm = PACKAGE_MANAGERS['apt-get']!;
  assert.deepEqual(packageCommands(pm, managerFlags(pm, undefined), { install: [], remove: ['x'], reinstall: [] }, false), [
    'apt-get --no-install-recommends remove -y x',
  ]);
});
