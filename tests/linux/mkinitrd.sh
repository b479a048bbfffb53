#!/usr/bin/env bash
# mkinitrd.sh OUT.img BUSYBOX INIT [PROGRAM | /PATH=HOST...]
#
# Builds the microhv-linux initramfs: a gzip'd newc cpio archive with
#   /init                 = INIT (tests/linux/init, a busybox sh script)
#   /bin/busybox          = BUSYBOX (Debian's busybox-static)
#   a symlink to busybox for each of its applets, at the path busybox
#   itself lists (busybox --list-full: /bin/sh, /sbin/poweroff, ...)
#   /bin/NAME             = each PROGRAM (static, e.g. cpuid_sig)
#   /PATH                 = HOST for each PROGRAM written /PATH=HOST (e.g.
#                           /lib/modules/kvm/kvm.ko=build/linux/modules/kvm.ko),
#                           with its missing parent directories
#   /dev/console, /proc, /sys, /tmp, /root
# Written by tests/linux/mkcpio.py (python3), so neither the cpio tool nor
# root privileges are needed.  The archive is reproducible (mtime 0, root
# owner, sorted applets).
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: mkinitrd.sh OUT.img BUSYBOX INIT [PROGRAM | /PATH=HOST...]" >&2; exit 2; }
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
	declare -A made=([/bin]=1 [/sbin]=1 [/usr]=1 [/usr/bin]=1 [/usr/sbin]=1 [/dev]=1
		[/proc]=1 [/sys]=1 [/tmp]=1 [/root]=1)
	for p in "$@"; do
		case "$p" in
		/*=*)
			dest=${p%%=*}
			src=${p#*=}
			# Parent directories first, each once.
			d="" rest=${dest#/}
			while [ "${rest#*/}" != "$rest" ]; do
				d="$d/${rest%%/*}"
				rest=${rest#*/}
				[ -n "${made[$d]:-}" ] || { echo "dir $d 0755"; made[$d]=1; }
			done
			echo "file $dest 0644 $(abs "$src")"
			;;
		*) echo "file /bin/$(basename "$p") 0755 $(abs "$p")" ;;
		esac
	done
} >"$spec"

python3 "$here/mkcpio.py" "$out" "$spec"
