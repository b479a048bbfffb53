#!/usr/bin/env bash
# mkinitrd.sh OUT.img BUSYBOX INIT [PROGRAM...]
#
# Builds the microhv-linux initramfs: a gzip'd newc cpio archive with
#   /init                 = INIT (tests/linux/init, a busybox sh script)
#   /bin/busybox          = BUSYBOX (Debian's busybox-static)
#   a symlink to busybox for each of its applets, at the path busybox
#   itself lists (busybox --list-full: /bin/sh, /sbin/poweroff, ...)
#   /bin/NAME             = each PROGRAM (static, e.g. cpuid_sig)
#   /dev/console, /proc, /sys, /tmp, /root
# Written by tests/linux/mkcpio.py (python3), so neither the cpio tool nor
# root privileges are needed.  The archive is reproducible (mtime 0, root
# owner, sorted applets).
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: mkinitrd.sh OUT.img BUSYBOX INIT [PROGRAM...]" >&2; exit 2; }
out=$1 busybox=$2 init=$3
shift 3
here=$(cd "$(dirname "$0")" && pwd)
spec=$(mktemp "${TMPDIR:-/tmp}/microhv-initrd.XXXXXX")
trap 'rm -f "$spec"' EXIT

abs() { echo "$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; }

{
	for d in bin sbin usr usr/bin usr/sbin dev proc sys tmp root; do
		echo "dir /$d 0755"
	done
	echo "nod /dev/console 0600 c 5 1"
	echo "nod /dev/null 0666 c 1 3"
	echo "file /init 0755 $(abs "$init")"
	echo "file /bin/busybox 0755 $(abs "$busybox")"
	# Each applet as a symlink to /bin/busybox where busybox wants it.
	"$busybox" --list-full | grep / | LC_ALL=C sort | while read -r path; do
		[ "$path" = bin/busybox ] && continue
		echo "slink /$path /bin/busybox"
	done
	for p in "$@"; do
		echo "file /bin/$(basename "$p") 0755 $(abs "$p")"
	done
} >"$spec"

python3 "$here/mkcpio.py" "$out" "$spec"
