/**
 * Platforms ("linux/amd64", "linux/arm/v7"): parsing, normalising (aarch64 → arm64, arm → arm/v7…),
 * the host's platform, and choosing a manifest from an index the way containerd does (exact
 * os/architecture, variant compatible, best variant first).
 */
import { JettisonError } from '../errors.ts';
import type { Descriptor, Index, Platform } from './types.ts';

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: 'amd64' },
  'x86-64': { architecture: 'amd64' },
  aarch64: { architecture: 'arm64' },
  armhf: { architecture: 'arm', variant: 'v7' },
  armel: { architecture: 'arm', variant: 'v6' },
  i386: { architecture: '386' },
  i686: { architecture: '386' },
};

/** Normalises architecture and variant the way containerd's platforms.Normalize does. */
export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase();
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase();
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant ??= alias.variant;
  }
  if (architecture === 'arm64') {
    if (variant === '8' || variant === 'v8') variant = undefined;
  } else if (architecture === 'arm') {
    if (variant === undefined || variant === '7') variant = 'v7';
    else if (/^[5-8]$/.test(variant)) variant = `v${variant}`;
  } else if (architecture === 'amd64') {
    if (variant === 'v1') variant = undefined;
  }
  const out: Platform = { os, architecture };
  if (variant) out.variant = variant;
  if (p['os.version']) out['os.version'] = p['os.version'];
  if (p['os.features']) out['os.features'] = p['os.features'];
  return out;
}

/** "linux/arm64", "linux/arm/v7", "arm64" (os defaults to linux). */
export function parsePlatform(s: string): Platform {
  const parts = s.trim().split('/');
  if (parts.some((x) => x === '') || parts.length > 3) {
    throw new JettisonError('INVALID_PLATFORM', `"${s}": unknown operating system or architecture: invalid argument`);
  }
  let p: Platform;
  if (parts.length === 1) p = { os: 'linux', architecture: parts[0] };
  else p = { os: parts[0], architecture: parts[1], ...(parts[2] ? { variant: parts[2] } : {}) };
  return normalizePlatform(p);
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** The platform images are built for and read as by default: linux and this machine's CPU. */
export function hostPlatform(): Platform {
  const architecture = NODE_ARCH[process.arch] ?? process.arch;
  const p: Platform = { os: 'linux', architecture };
  if (architecture === 'arm') {
    const v = (process.config.variables as Record<string, unknown>).arm_version;
    p.variant = `v${typeof v === 'string' || typeof v === 'number' ? v : '7'}`;
  }
  return normalizePlatform(p);
}

/** Variants an arm CPU of `variant` can run, best first (v8 runs v8, v7, v6, v5). */
function compatibleVariants(architecture: string, variant: string | undefined): (string | undefined)[] {
  if (architecture === 'arm') {
    const n = Number((variant ?? 'v7').slice(1));
    const out: string[] = [];
    for (let i = n; i >= 5; i--) out.push(`v${i}`);
    return out;
  }
  if (architecture === 'arm64') return [undefined, 'v8'];
  return [variant, ...(variant ? [undefined] : [])];
}

/** 0 when `have` does not run on `want`, else a rank: higher is a better match. */
export function platformScore(want: Platform, have: Platform | undefined): number {
  if (!have) return 0;
  const w = normalizePlatform(want);
  const h = normalizePlatform(have);
  if (w.os !== h.os || w.architecture !== h.architecture) return 0;
  const variants = compatibleVariants(w.architecture, w.variant);
  const i = variants.indexOf(h.variant);
  return i === -1 ? 0 : variants.length - i;
}

export function platformMatches(want: Platform, have: Platform | undefined): boolean {
  return platformScore(want, have) > 0;
}

/**
 * The manifest descriptor of `index` for `platform` (default: the host). Attestation manifests
 * (platform unknown/unknown) never match. Throws NOT_FOUND with containerd's message otherwise.
 */
export function selectManifest(index: Index, platform: Platform = hostPlatform(), indexDigest = 'index'): Descriptor {
  let best: Descriptor | undefined;
  let bestScore = 0;
  for (const d of index.manifests ?? []) {
    const score = platformScore(platform, d.platform);
    if (score > bestScore) {
      best = d;
      bestScore = score;
    }
  }
  if (!best) {
    throw new JettisonError('NOT_FOUND', `no match for platform in manifest ${indexDigest}: not found (wanted ${formatPlatform(normalizePlatform(platform))})`);
  }
  return best;
}
