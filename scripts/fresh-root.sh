#!/usr/bin/env bash
# Proves the README on a clean machine: makes a new minimal Debian 12 root with
# debootstrap, clones this repository's HEAD into it, and runs the README's two
# set-up commands there, read from README.md itself (the lines of its first
# ```sh block that are not comments), so the README cannot drift from what is
# tested. The root is new every time and is unmounted and removed at the end,
# on failure too.
#
# Two things the root is given, both stated here:
#   - the clone sits at the same absolute path as this repository, and when
#     CCACHE_DIR is set (CI sets it) that compiler cache is mounted in: the
#     Release build of the same commit at the same path then reuses CI's test
#     stage's objects. ccache cannot hide a missing package: a header that is
#     not installed misses the cache and fails the compile, and linking always
#     runs.
#   - no package index for pip (PIP_NO_INDEX=1): the root is a user machine
#     without PyPI, so install-deps warns and the TensorFlow tests are reported
#     as skipped by name. CI's test stage runs them with TensorFlow.
#
# Needs root and debootstrap (scripts/install-deps.sh installs it). The Debian
# mirror is the host's own (its apt sources), so the root sees what a user's
# machine would. Log: stdout; exit status: that of the first failing step.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
[ "$(id -u)" -eq 0 ] || { echo "fresh-root.sh: needs root (debootstrap, chroot, mount)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "fresh-root.sh: debootstrap is not installed (scripts/install-deps.sh)" >&2; exit 2; }

# The README's set-up commands, verbatim.
mapfile -t commands < <(awk '/^```sh$/ && !seen {inside=1; seen=1; next} inside && /^```/ {inside=0} inside && !/^#/ && NF' "$repo/README.md")
if [ "${#commands[@]}" -ne 2 ]; then
  echo "fresh-root.sh: expected 2 commands in README.md's first sh block, found ${#commands[@]}" >&2
  exit 1
fi

# The host's Debian mirror: the first URI of its deb822 sources, else of sources.list.
mirror="$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $0 ~ /bookworm/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
[ -n "$mirror" ] || { echo "fresh-root.sh: no Debian mirror in the host's apt sources" >&2; exit 1; }

root="$(mktemp -d /var/tmp/pipeline-fresh-root.XXXXXX)"
# mktemp makes it 0700; a real root is 0755, and with 0700 no unprivileged
# process in the root can load a shared library (tests that drop to nobody).
chmod 755 "$root"
mounts=(proc sys dev dev/pts dev/shm)
cleanup() {
  local status=$?
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    mountpoint -q "$root/${mounts[i]}" && umount -l "$root/${mounts[i]}"
  done
  # Remove the root only when nothing is mounted under it any more, and never
  # cross into another file system.
  if ! grep -q " $root/" /proc/mounts; then
    rm -rf --one-file-system "$root"
  else
    echo "fresh-root.sh: $root still has mounts; left in place" >&2
  fi
  exit "$status"
}
trap cleanup EXIT

start=$(date +%s)
echo "== debootstrap --variant=minbase bookworm $root ($mirror)"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
  tail -n 30 "$root.debootstrap.log"; rm -f "$root.debootstrap.log"; exit 1; }
rm -f "$root.debootstrap.log"
echo "   $(du -sm --one-file-system "$root" | cut -f1) MB, $(($(date +%s) - start)) s"

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount --bind /dev/shm "$root/dev/shm"
cp /etc/resolv.conf "$root/etc/resolv.conf"
rm -f "$root/etc/apt/sources.list"
cp -a /etc/apt/sources.list.d/. "$root/etc/apt/sources.list.d/"
[ -f /etc/apt/sources.list ] && cp /etc/apt/sources.list "$root/etc/apt/sources.list"
cp -a /etc/apt/apt.conf.d/. "$root/etc/apt/apt.conf.d/"

echo "== git clone $(git -C "$repo" rev-parse --short HEAD) into the root at $repo"
mkdir -p "$root$(dirname "$repo")"
git clone -q --no-hardlinks "$repo" "$root$repo"
cache_env=()
if [ -n "${CCACHE_DIR:-}" ] && [ -d "$CCACHE_DIR" ]; then
  mkdir -p "$root$CCACHE_DIR"
  mount --bind "$CCACHE_DIR" "$root$CCACHE_DIR"
  mounts+=("${CCACHE_DIR#/}")
  cache_env=(CCACHE_DIR="$CCACHE_DIR")
  echo "   compiler cache: $CCACHE_DIR"
fi

step=0
for cmd in "${commands[@]}"; do
  step=$((step + 1))
  echo "== README command $step: $cmd"
  t0=$(date +%s)
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 PIP_NO_INDEX=1 "${cache_env[@]}" \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash -c "cd '$repo' && $cmd"
  echo "== README command $step passed in $(($(date +%s) - t0)) s"
done
echo "== fresh root: both README commands passed in $(($(date +%s) - start)) s"
