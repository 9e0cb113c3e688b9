/**
 * Package manager commands as CEKit's template renders them: per manager, the default flags
 * (`manager_flags` replaces them), the install/remove/reinstall verbs, the query that verifies the
 * installed packages, the cache cleanup, and whether package repositories can be injected.
 */

export interface PackageManager {
  name: string;
  defaultFlags: string;
  install: string;
  remove: string;
  reinstall: string;
  /** Run once before installing (apt-get needs its package lists). */
  prepare?: string;
  /** Verifies that packages are installed (CEKit: `rpm -q`, `apk info -e`). */
  query: string;
  /** Clears the manager's caches. */
  clean: string;
  /** Can .repo files and repository RPMs be used (yum-style repositories)? */
  repositories: boolean;
}

const RPM_CACHE = 'rm -rf "/var/cache/yum" "/var/lib/dnf" "/var/cache/dnf"';

export const PACKAGE_MANAGERS: Record<string, PackageManager> = {
  yum: {
    name: 'yum',
    defaultFlags: '--setopt=tsflags=nodocs',
    install: 'install -y',
    remove: 'remove -y',
    reinstall: 'reinstall -y',
    query: 'rpm -q',
    clean: `yum clean all && ${RPM_CACHE}`,
    repositories: true,
  },
  dnf: {
    name: 'dnf',
    defaultFlags: '--setopt=tsflags=nodocs',
    install: 'install -y',
    remove: 'remove -y',
    reinstall: 'reinstall -y',
    query: 'rpm -q',
    clean: `dnf clean all && ${RPM_CACHE}`,
    repositories: true,
  },
  microdnf: {
    name: 'microdnf',
    defaultFlags: '--setopt=tsflags=nodocs --setopt=install_weak_deps=0',
    install: 'install -y',
    remove: 'remove -y',
    reinstall: 'reinstall -y',
    query: 'rpm -q',
    clean: `microdnf clean all && ${RPM_CACHE}`,
    repositories: true,
  },
  apk: {
    name: 'apk',
    defaultFlags: '',
    install: 'add',
    remove: 'del',
    reinstall: 'fix',
    query: 'apk info -e',
    clean: 'rm -rf /var/cache/apk/*',
    repositories: false,
  },
  'apt-get': {
    name: 'apt-get',
    defaultFlags: '--no-install-recommends',
    install: 'install -y',
    remove: 'remove -y',
    reinstall: 'install -y --reinstall',
    prepare: 'apt-get update',
    query: 'dpkg-query --show',
    clean: 'apt-get clean && rm -rf /var/lib/apt/lists/*',
    repositories: false,
  },
};

/** The flags to use: the defaults unless `manager_flags` is given (null or empty: none). */
export function managerFlags(pm: PackageManager, flags: string | null | undefined): string {
  if (flags === undefined) return pm.defaultFlags;
  return (flags ?? '').trim();
}

function cmd(pm: PackageManager, flags: string, verb: string, packages: string[]): string {
  return [pm.name, flags, verb, ...packages].filter((p) => p !== '').join(' ');
}

/** Package names for the verification query (`name=version` → `name`, as CEKit does). */
function queryNames(packages: string[]): string[] {
  return packages.map((p) => p.split('=')[0]!);
}

/**
 * The shell commands (joined with `&&` by the caller) that remove, install and reinstall packages and
 * verify the result. With `clean`, the caches are cleared in the same step (CEKit does this when the
 * image is not squashed).
 */
export function packageCommands(
  pm: PackageManager,
  flags: string,
  pkgs: { install: string[]; remove: string[]; reinstall: string[] },
  clean: boolean,
): string[] {
  const out: string[] = [];
  if (pkgs.remove.length) out.push(cmd(pm, flags, pm.remove, pkgs.remove));
  if (pm.prepare && (pkgs.install.length || pkgs.reinstall.length)) out.push(pm.prepare);
  if (pkgs.install.length) {
    out.push(cmd(pm, flags, pm.install, pkgs.install));
    out.push(`${pm.query} ${queryNames(pkgs.install).join(' ')}`);
  }
  if (pkgs.reinstall.length) {
    out.push(cmd(pm, flags, pm.reinstall, pkgs.reinstall));
    out.push(`${pm.query} ${queryNames(pkgs.reinstall).join(' ')}`);
  }
  if (clean) out.push(pm.clean);
  return out;
}
