#!/usr/bin/env bash
# kvm_fetch.sh DIR LINUX_DIR - Debian's headers for the kernel of the Linux
# images, to build the bench's test module (tests/bench/microhv_hc.c).
#
# LINUX_DIR/versions.txt (tests/linux/fetch.sh) names the kernel package,
# linux-image-ABI VERSION; this downloads, with `apt-get download` only,
# linux-headers-ABI at the same VERSION and the two packages it depends on
# with that version (linux-headers-*-common, linux-kbuild-*), unpacks them
# with `dpkg-deb -x` under DIR/root and points the headers' Makefile (an
# `include /usr/src/...-common/Makefile`) at the unpacked copy.  Leaves:
#   DIR/kdir          the path to build modules against (make -C "$(cat kdir)")
#   DIR/versions.txt  which packages, as in LINUX_DIR/versions.txt
# Idempotent: with DIR/versions.txt current, nothing is downloaded and no
# file is touched (so make rebuilds nothing).  `apt-get update` only if a
# download fails.  The compiler is the one the kernel was built with
# (gcc-12 for Debian 12's kernel; tools/setup.sh installs gcc).
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: kvm_fetch.sh DIR LINUX_DIR" >&2; exit 2; }
mkdir -p "$1/debs"
dir=$(cd "$1" && pwd)
ldir=$2
export DEBIAN_FRONTEND=noninteractive LC_ALL=C

read -r _ kpkg kver < <(grep '^kernel ' "$ldir/versions.txt") ||
	{ echo "kvm_fetch: error: no kernel line in $ldir/versions.txt (run tests/linux/fetch.sh)" >&2; exit 1; }
abi=${kpkg#linux-image-}
hpkg=linux-headers-$abi
want="headers $hpkg $kver"
kdir="$dir/root/usr/src/$hpkg"
if [ -f "$dir/versions.txt" ] && [ "$(head -n1 "$dir/versions.txt")" = "$want" ] &&
	[ -f "$dir/kdir" ] && [ "$(cat "$dir/kdir")" = "$kdir" ] && [ -f "$kdir/Makefile" ]; then
	exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
	sudo="sudo -n"
fi
apt_opts=()
[ "$(id -u)" -eq 0 ] && apt_opts=(-o APT::Sandbox::User=root)
updated=""
download() { # PKG VERSION: the .deb into $dir/debs, its path on stdout
	local pkg=$1 ver=$2 deb
	deb=$(ls -1 "$dir/debs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -n "$deb" ] && [ "$(dpkg-deb -f "$deb" Version 2>/dev/null)" = "$ver" ]; then
		echo "$deb"
		return 0
	fi
	rm -f "$dir/debs/${pkg}_"*.deb
	echo "kvm_fetch: apt-get download $pkg=$ver" >&2
	if ! (cd "$dir/debs" && apt-get download -qq "${apt_opts[@]}" "$pkg=$ver" >&2); then
		if [ -z "$updated" ]; then
			$sudo apt-get update -qq >&2 || true
			updated=1
		fi
		(cd "$dir/debs" && apt-get download -qq "${apt_opts[@]}" "$pkg=$ver" >&2) ||
			{ echo "kvm_fetch: error: apt-get download $pkg=$ver failed" >&2; return 1; }
	fi
	ls -1 "$dir/debs/${pkg}_"*.deb | head -n1
}

debs=$(download "$hpkg" "$kver")
# The packages the headers need at the same version (the -common headers and
# the kbuild scripts); the compiler package is not needed, gcc-NN is.
for dep in $(dpkg-deb -f "$debs" Depends | tr ',' '\n' |
	sed -n -E 's/^ *(linux-(headers-[^ ]+-common|kbuild-[^ ]+)) .*$/\1/p'); do
	debs="$debs $(download "$dep" "$kver")"
done
[ "$(wc -w <<<"$debs")" -ge 3 ] ||
	{ echo "kvm_fetch: error: $hpkg does not depend on -common headers and kbuild at $kver" >&2; exit 1; }

rm -rf "$dir/root"
mkdir -p "$dir/root"
for d in $debs; do
	dpkg-deb -x "$d" "$dir/root"
done
[ -f "$kdir/Makefile" ] || { echo "kvm_fetch: error: no $kdir/Makefile in $hpkg" >&2; exit 1; }
sed -i -E "s|^include /usr/src/|include $dir/root/usr/src/|" "$kdir/Makefile"
cc=$(sed -n -E 's/^CONFIG_CC_VERSION_TEXT="([^ ]+) .*/\1/p' "$kdir/.config")
command -v "${cc:-gcc}" >/dev/null ||
	echo "kvm_fetch: warning: the kernel was built with ${cc:-?}, which is not installed" >&2
echo "$kdir" >"$dir/kdir"
{
	echo "$want"
	for d in $debs; do echo "deb $(basename "$d")"; done
} >"$dir/versions.txt"
echo "kvm_fetch: $hpkg $kver in $dir/root" >&2
