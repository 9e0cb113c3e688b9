#!/usr/bin/env bash
# Installs what jettison and its tests need on a fresh Debian 12 machine: Debian packages (as root),
# then the npm packages (which bring Node 24 and build dist/).
set -euo pipefail
cd "$(dirname "$0")/.."
# xz-utils and bzip2: ADD of .tar.xz/.tar.bz2 runs them (minimal installs lack them).
packages=(runc docker-registry busybox-static mmdebstrap skopeo umoci apache2-utils uidmap zstd xz-utils bzip2 git ca-certificates attr crun podman)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # With recommends: mmdebstrap and podman need several of theirs (gpg, arch-test, conmon's helpers…). The
  # development machine lacks five of them (podman's catatonit, dumb-init, fuse-overlayfs, slirp4netns and
  # git's ssh-client), none of which a root podman without mount_program uses.
  apt-get install -y -qq "${missing[@]}"
fi
# The reference registry is started by the tests themselves; Debian's service is not needed.
systemctl disable --now docker-registry >/dev/null 2>&1 || true
npm ci --no-fund --no-audit
