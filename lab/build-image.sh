#!/usr/bin/env bash
# Builds the VM lab's guest image (Debian bookworm, minbase) and prints three paths, one a line:
# the kernel, the initramfs and the root disk.
# The image is cached outside the repository: the root disk and kernel keyed on this script and
# the versions of the packages it installs, the initramfs (which carries the guest's init scripts,
# lab/guest/*) on those scripts too, so that changing an init script costs a second, not a
# debootstrap. A cached build costs seconds; a change to any of them rebuilds what depends on it.
# Needs root, debootstrap and apt (the package versions and the kernel come from the host's apt,
# which must point at a bookworm mirror: `apt-get update` first).
set -euo pipefail

lab_dir=$(cd "$(dirname "$0")" && pwd)
cache_root=${OSTIA_LAB_CACHE:-/var/cache/ostia-lab}
suite=bookworm
kernel_meta=linux-image-amd64
# What the guest runs: RDMA (rdma-core, Soft-RoCE tools), Linux's iSCSI target and initiator,
# and what the init scripts and the tests call. busybox-static also becomes the initramfs.
packages=(rdma-core ibverbs-providers ibverbs-utils rdmacm-utils tgt open-iscsi kmod iproute2
  e2fsprogs util-linux procps busybox-static)
# Kernel modules the guest may load; modules.dep adds their dependencies.
# rdma_rxe asks the crypto API for "crc32" by name (modules.dep cannot know): crc32_generic.
guest_modules=(rdma_rxe ib_uverbs rdma_ucm ib_iser ib_isert iscsi_tcp 9p 9pnet_virtio
  virtio_pci virtio_blk virtio_rng dummy sd_mod ext4 crc32_generic crc32-pclmul crc32c_generic
  crc32c-intel loop)
# The subset the initramfs loads to mount the root disk.
initramfs_modules=(virtio_pci virtio_blk ext4 crc32c_generic)

log() { printf '[lab-image] %s\n' "$*" >&2; }
die() { printf '[lab-image] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (apt-get install debootstrap)"

# The mirror the host's apt uses, so that the lab never names a mirror of its own.
mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # deb822 stanzas: the first one whose Suites include the plain suite.
    awk -v suite="$suite" '
      /^[[:space:]]*$/ { if (uri != "" && ok) { print uri; exit } uri = ""; ok = 0; next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
      END { if (uri != "" && ok) print uri }' "$f" | head -n1
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk -v suite="$suite" '$1 == "deb" && $0 !~ /\[/ && $3 == suite { print $2; exit }' "$f"
  done
}
mirror_url=${OSTIA_LAB_MIRROR:-$(mirror | head -n1)}
[ -n "$mirror_url" ] || die "no '$suite' mirror found in /etc/apt/sources.list.d/*.sources or sources.list"

# The candidate versions of the packages and of the kernel metapackage, and the kernel package
# it points at (e.g. linux-image-6.1.0-57-amd64), in one apt-cache call: each costs seconds.
info=$(apt-cache show --no-all-versions "${packages[@]}" "$kernel_meta" 2>/dev/null) ||
  die "apt knows not every one of ${packages[*]} $kernel_meta: run apt-get update (with a $suite mirror)"
versions=$(awk '/^Package:/ { p = $2 } /^Version:/ { print p "=" $2 }' <<<"$info")
kernel_pkg=$(awk -v meta="$kernel_meta" '/^Package:/ { p = $2 }
  p == meta && /^Depends:/ { for (i = 2; i <= NF; i++) if ($i ~ /^linux-image-[0-9]/) { sub(/,$/, "", $i); print $i; exit } }' <<<"$info")
[ -n "$kernel_pkg" ] || die "cannot tell which kernel $kernel_meta depends on"
[ "$(wc -l <<<"$versions")" -eq $(( ${#packages[@]} + 1 )) ] ||
  die "apt has no candidate for some of ${packages[*]} $kernel_meta: run apt-get update"
key=$( { cat "$lab_dir/build-image.sh"; echo "$versions"; } | sha256sum | cut -c1-16)
image=$cache_root/$key
init_key=$(cat "$lab_dir"/guest/* | sha256sum | cut -c1-16)

# The initramfs: busybox, the modules to reach the root disk, and the guest's init scripts.
initramfs() {
  local out=$image/initrd-$init_key.img
  if [ ! -f "$out" ]; then
    local ird
    ird=$(mktemp -d "$cache_root/initrd.XXXXXX")
    cp -a "$image/initramfs/." "$ird/"
    mkdir -p "$ird"/{dev,proc,sys,newroot}
    install -m 0755 "$lab_dir/guest/initramfs-init" "$ird/init"
    install -m 0755 "$lab_dir/guest/init" "$ird/ostia-lab-init"
    (cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
    rm -rf "$ird"
    mv "$out.tmp" "$out"
  fi
  printf '%s\n' "$image/vmlinuz" "$out" "$image/root.img"
}

mkdir -p "$cache_root"
exec 9>"$cache_root/.lock"
flock -w 1800 9 || die "timed out waiting for another image build ($cache_root/.lock)"
if [ -f "$image/manifest" ]; then
  log "cached image $image"
  touch "$image/manifest"
  initramfs
  exit 0
fi

started=$(date +%s)
work=$(mktemp -d "$cache_root/build.XXXXXX")
cleanup() {
  # debootstrap leaves proc and sys mounted in the target when it fails.
  for m in proc sys dev/pts dev; do umount -l "$work/root/$m" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
root=$work/root
debs=$cache_root/debs
mkdir -p "$debs"

# debootstrap is most of a cold build: its tree is kept as a tar keyed on what it installs, so
# that changing the rest of this script (the modules kept, say) costs a minute, not ten.
base=$cache_root/base-$( { echo "$suite"; echo "${packages[*]}"; echo "$versions"; } | sha256sum | cut -c1-16).tar
if [ -f "$base" ]; then
  log "debootstrap tree from $base"
  mkdir -p "$root"
  tar -C "$root" -xf "$base"
  touch "$base"
else
  log "debootstrap $suite from the host's mirror (packages cached in $debs)"
  include=$(IFS=,; echo "${packages[*]}")
  debootstrap --variant=minbase --include="$include" --cache-dir="$debs" \
    "$suite" "$root" "$mirror_url" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  tar -C "$root" -cf "$base.tmp" . && mv "$base.tmp" "$base"
fi

log "kernel $kernel_pkg"
(cd "$debs" && apt-get download -q "$kernel_pkg" >/dev/null 2>&1) || die "apt-get download $kernel_pkg failed"
kernel_deb=$(ls -t "$debs/${kernel_pkg}"_*.deb | head -n1)
kroot=$root/tmp/kernel
mkdir -p "$kroot"
dpkg-deb -x "$kernel_deb" "$kroot"
kver=${kernel_pkg#linux-image-}
chroot "$root" depmod -b /tmp/kernel "$kver"
moddir=/lib/modules/$kver

# Prints the module paths (relative to $moddir) needed for the given names, dependencies
# first, each once: the order insmod needs.
closure() {
  awk -v want="$*" '
    function base(p) { sub(/.*\//, "", p); sub(/\.ko.*$/, "", p); gsub(/-/, "_", p); return p }
    function visit(m,   n, i, d) {
      if (m in seen) return; seen[m] = 1
      n = split(deps[m], d, " ")
      for (i = n; i >= 1; i--) visit(d[i])
      print m
    }
    { m = $1; sub(/:$/, "", m); path[base(m)] = m; deps[m] = ""
      for (i = 2; i <= NF; i++) deps[m] = deps[m] " " $i }
    END {
      n = split(want, w, " ")
      for (i = 1; i <= n; i++) {
        b = w[i]; gsub(/-/, "_", b)
        if (!(b in path)) { print "missing module " w[i] > "/dev/stderr"; exit 1 }
        visit(path[b])
      }
    }' "$kroot$moddir/modules.dep"
}
closure "${guest_modules[@]}" >"$work/guest.modules" || die "a guest module is missing from $kernel_pkg"
closure "${initramfs_modules[@]}" >"$work/initramfs.modules" || die "an initramfs module is missing"
log "$(wc -l <"$work/guest.modules") kernel modules kept"

# The root file system: only the kept modules, the lab's init, no docs or package caches.
rm -rf "$root$moddir"
mkdir -p "$root$moddir"
cp "$kroot$moddir"/modules.builtin* "$kroot$moddir/modules.order" "$root$moddir/"
while read -r m; do
  mkdir -p "$root$moddir/$(dirname "$m")"
  cp "$kroot$moddir/$m" "$root$moddir/$m"
done <"$work/guest.modules"
chroot "$root" depmod "$kver"
cp "$kroot/boot/vmlinuz-$kver" "$work/vmlinuz"
echo lab >"$root/etc/hostname"
echo "InitiatorName=iqn.2026-12.io.ostia:lab-guest" >"$root/etc/iscsi/initiatorname.iscsi"
mkdir -p "$root/lab" "$root/opt/jdk"
rm -rf "$kroot" "$root"/usr/share/{doc,man,info,locale} "$root"/var/cache/apt/* "$root"/var/lib/apt/lists/*

# What every initramfs holds: busybox and the modules that reach the root disk, in load order.
ird=$work/initramfs
mkdir -p "$ird"/{bin,modules}
cp "$root/bin/busybox" "$ird/bin/busybox"
while read -r m; do
  cp "$root$moddir/$m" "$ird/modules/"
  basename "$m" >>"$ird/modules/order"
done <"$work/initramfs.modules"

# Root disk: the tree plus room for the tests' files; runs never write to it (snapshot=on).
size_mb=$(( $(du -sm "$root" | cut -f1) + 384 ))
mkfs.ext4 -q -L ostia-lab -d "$root" "$work/root.img" "${size_mb}M" >/dev/null

{
  echo "key=$key"
  echo "kernel=$kver"
  echo "built=$(date -u +%FT%TZ) in $(( $(date +%s) - started )) s"
  echo "$versions"
} >"$work/manifest.tmp"
mkdir -p "$image"
mv "$work/vmlinuz" "$work/initramfs" "$work/root.img" "$image/"
mv "$work/manifest.tmp" "$image/manifest"
# Images no run has used for two days go (each use touches its manifest). Not sooner: runs of
# other checkouts, with other scripts, share this cache.
find "$cache_root" -mindepth 2 -maxdepth 2 -name manifest -mtime +2 -printf '%h\0' | xargs -0r rm -rf
find "$cache_root" -maxdepth 1 -name 'base-*.tar' -mtime +2 -delete
log "built $image in $(( $(date +%s) - started )) s"
initramfs
