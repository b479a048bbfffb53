#!/usr/bin/env bash
# mkimage.sh OUT.img HV.EFI HV.CFG [NEXT.EFI [NEXT-PATH]]
#
# Builds a GPT disk image with one EFI system partition (FAT32) holding
#   \EFI\BOOT\BOOTX64.EFI  = HV.EFI  (the removable-media boot path)
#   \EFI\BOOT\hv.cfg       = HV.CFG
#   NEXT-PATH              = NEXT.EFI (default \EFI\microhv\next.efi)
# The image is a whole number of 16x63x512-byte cylinders so that Bochs
# sees all of it (and the backup GPT); it can be written to a USB stick
# with dd (docs/usb.md).
set -euo pipefail

out=$1 hv=$2 cfg=$3 next=${4:-} next_path=${5:-'\EFI\microhv\next.efi'}
cyl=516096
cylinders=130 # 64 MiB: room for a Linux kernel and initramfs later
tmp="$out.tmp"

rm -f "$tmp"
truncate -s $((cyl * cylinders)) "$tmp"
sgdisk -n 1:2048:0 -t 1:EF00 -c 1:"microhv ESP" "$tmp" >/dev/null
# The partition ends where sgdisk put it: read it back rather than guess.
last=$(sgdisk -i 1 "$tmp" | awk '/Last sector/ {print $3}')
kib=$(((last - 2048 + 1) / 2))
mkfs.vfat -F 32 --offset=2048 -h 2048 -s 1 -n MICROHV "$tmp" "$kib" >/dev/null 2>&1 || { echo "mkimage: mkfs.vfat failed" >&2; exit 1; }

img="$tmp@@$((2048 * 512))"
mmd -i "$img" ::/EFI ::/EFI/BOOT
mcopy -i "$img" "$hv" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$img" "$cfg" ::/EFI/BOOT/hv.cfg
if [ -n "$next" ]; then
	dos_path=$(printf '%s' "$next_path" | tr '\\' '/')
	dir=$(dirname "$dos_path")
	# Create each missing directory on the way to the next stage.
	partial=""
	IFS=/ read -ra parts <<<"${dir#/}"
	for p in "${parts[@]}"; do
		partial="$partial/$p"
		mmd -i "$img" "::$partial" 2>/dev/null || true
	done
	mcopy -i "$img" "$next" "::$dos_path"
fi
mv "$tmp" "$out"
