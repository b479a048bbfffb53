#!/usr/bin/env bash
# fetch.sh [DIR] - the Debian kernel and busybox for the Linux next stage.
#
# Downloads, with `apt-get download` only (Debian mirrors; nothing else):
#   - the kernel package that linux-image-amd64 depends on (resolved with
#     apt-cache), whose /boot/vmlinuz-* is a bzImage with the EFI stub;
#   - busybox-static.
# Both .debs are unpacked with `dpkg-deb -x` under DIR (default build/linux)
# and the results are left at stable names:
#   DIR/vmlinuz.efi   the kernel (an EFI application, the next stage)
#   DIR/busybox       the static busybox for the initramfs
#   DIR/modules/{irqbypass,kvm,kvm-intel}.ko  the kernel's own KVM modules
#                     (for the microhv-kvm initramfs), and its NVMe driver
#                     with what it needs, {crc64,crc64-rocksoft,
#                     crct10dif_common,crc-t10dif,t10-pi,nvme-core,nvme}.ko
#                     (for the microhv-iommu initramfs; a .ko.xz, .ko.zst or
#                     .ko.gz in the package is decompressed with xz, zstd or
#                     gzip, which tools/setup.sh installs)
#   DIR/versions.txt  which packages they came from
# Idempotent: with both files present and matching the resolved versions,
# nothing is downloaded.  `apt-get update` runs only if a download fails
# (fresh machine or stale package lists).  Works as root or with sudo for the
# update; needs no tty (CI=true).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
dir=${1:-$top/build/linux}
mkdir -p "$dir/debs"
dir=$(cd "$dir" && pwd)
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
	sudo="sudo -n"
fi

apt_opts=()
[ "$(id -u)" -eq 0 ] && apt_opts=(-o APT::Sandbox::User=root)

updated=""
apt_update() {
	[ -n "$updated" ] && return 0
	echo "fetch: apt-get update" >&2
	$sudo apt-get update -qq || { echo "fetch: error: apt-get update failed" >&2; return 1; }
	updated=1
}

# The kernel package linux-image-amd64 depends on (linux-image-X.Y.Z-N-amd64,
# possibly an "| ...-unsigned" alternative: take the first real package).
resolve_kernel() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n -E 's/^ *\|?Depends: (linux-image-[^ <>]+)$/\1/p' | head -n1
}

kpkg=$(resolve_kernel || true)
if [ -z "$kpkg" ]; then
	apt_update
	kpkg=$(resolve_kernel || true)
fi
[ -n "$kpkg" ] || { echo "fetch: error: cannot resolve the package linux-image-amd64 depends on" >&2; exit 1; }
kver=$(apt-cache show --no-all-versions "$kpkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
bver=$(apt-cache show --no-all-versions busybox-static 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
want="kernel $kpkg $kver
busybox busybox-static $bver"

kmods="irqbypass kvm kvm-intel crc64 crc64-rocksoft crct10dif_common crc-t10dif t10-pi nvme-core nvme"
have_mods=1
for m in $kmods; do
	[ -s "$dir/modules/$m.ko" ] || have_mods=""
done

if [ -s "$dir/vmlinuz.efi" ] && [ -s "$dir/busybox" ] && [ -n "$have_mods" ] && [ -f "$dir/versions.txt" ] &&
	[ "$(cat "$dir/versions.txt")" = "$want" ]; then
	echo "fetch: up to date in $dir ($kpkg $kver, busybox-static $bver)" >&2
	exit 0
fi

# download PACKAGE: the .deb into $dir/debs, printing its path.
download() {
	local pkg=$1 deb
	deb=$(ls -1 "$dir/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
	# Keep only the version apt would fetch now.
	local ver
	ver=$(apt-cache show --no-all-versions "$pkg" 2>/dev/null | sed -n 's/^Version: //p' | head -n1)
	if [ -n "$deb" ] && [ -n "$ver" ] && [ "$(dpkg-deb -f "$deb" Version 2>/dev/null)" = "$ver" ]; then
		echo "$deb"
		return 0
	fi
	rm -f "$dir/debs/${pkg}_"*.deb
	echo "fetch: apt-get download $pkg" >&2
	# As root, apt drops to the _apt user, which cannot write into build/;
	# it then warns and downloads as root anyway: say so up front instead.
	(cd "$dir/debs" && apt-get download -qq "${apt_opts[@]}" "$pkg" >&2) ||
		{ apt_update && (cd "$dir/debs" && apt-get download -qq "${apt_opts[@]}" "$pkg" >&2); } ||
		{ echo "fetch: error: apt-get download $pkg failed" >&2; return 1; }
	deb=$(ls -1 "$dir/debs/${pkg}_"*.deb | head -n1)
	echo "$deb"
}

kdeb=$(download "$kpkg")
bdeb=$(download busybox-static)
# Drop .debs of packages no longer wanted (an older kernel ABI, say).
for f in "$dir/debs/"*.deb; do
	[ "$f" = "$kdeb" ] || [ "$f" = "$bdeb" ] || rm -f "$f"
done

rm -rf "$dir/root"
mkdir -p "$dir/root"
dpkg-deb -x "$kdeb" "$dir/root"
dpkg-deb -x "$bdeb" "$dir/root"
vmlinuz=$(ls -1 "$dir/root/boot/"vmlinuz-* | head -n1)
[ -s "$vmlinuz" ] || { echo "fetch: error: no /boot/vmlinuz-* in $kdeb" >&2; exit 1; }
[ -x "$dir/root/bin/busybox" ] || { echo "fetch: error: no /bin/busybox in $bdeb" >&2; exit 1; }
# An EFI-stub kernel starts with "MZ" (a PE/COFF image).
[ "$(head -c 2 "$vmlinuz")" = MZ ] || { echo "fetch: error: $vmlinuz has no EFI stub (no MZ header)" >&2; exit 1; }
cp "$vmlinuz" "$dir/vmlinuz.efi.tmp" && mv "$dir/vmlinuz.efi.tmp" "$dir/vmlinuz.efi"
cp "$dir/root/bin/busybox" "$dir/busybox.tmp" && mv "$dir/busybox.tmp" "$dir/busybox"
# The modules, found by name under /lib/modules/<version>/kernel (arch/x86/kvm/,
# virt/lib/, drivers/nvme/host/, block/, lib/, crypto/), uncompressed if the
# package compressed them.
mkdir -p "$dir/modules"
for m in $kmods; do
	ko=$(find "$dir/root/lib/modules" -path '*/kernel/*' \( -name "$m.ko" -o -name "$m.ko.xz" \
		-o -name "$m.ko.zst" -o -name "$m.ko.gz" \) | head -n1)
	[ -n "$ko" ] || { echo "fetch: error: no $m.ko in $kdeb" >&2; exit 1; }
	case "$ko" in
	*.xz) tool="xz -dc" ;;
	*.zst) tool="zstd -dcq" ;;
	*.gz) tool="gzip -dc" ;;
	*) tool="cat" ;;
	esac
	command -v "${tool%% *}" >/dev/null ||
		{ echo "fetch: error: ${tool%% *} is needed to decompress $ko (tools/setup.sh installs it)" >&2; exit 1; }
	$tool "$ko" >"$dir/modules/$m.ko.tmp" || { echo "fetch: error: cannot decompress $ko" >&2; exit 1; }
	# An ELF relocatable object, or the initramfs would carry garbage.
	[ "$(head -c 4 "$dir/modules/$m.ko.tmp" | od -An -c | tr -d ' ')" = '177ELF' ] ||
		{ echo "fetch: error: $ko is not an ELF module" >&2; exit 1; }
	mv "$dir/modules/$m.ko.tmp" "$dir/modules/$m.ko"
done
# The kernel package is ~70 MB unpacked (modules): only vmlinuz and the
# modules above are needed.
rm -rf "$dir/root"
# Recompute the versions from the .debs really used.
kver=$(dpkg-deb -f "$kdeb" Version)
bver=$(dpkg-deb -f "$bdeb" Version)
printf 'kernel %s %s\nbusybox busybox-static %s\n' "$kpkg" "$kver" "$bver" >"$dir/versions.txt"
echo "fetch: $dir/vmlinuz.efi ($kpkg $kver), $dir/busybox (busybox-static $bver)" >&2
