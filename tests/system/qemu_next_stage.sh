#!/usr/bin/env bash
# qemu_next_stage.sh - a missing and an unloadable next stage.
#
# Each must give one clear error line naming the path and the reason, then
# the loader returns to the firmware.  OVMF then falls through to its UEFI
# shell, whose startup.nsh (on the image for this test only) powers off, so
# QEMU ending by itself proves the firmware got control back.
. "$(dirname "$0")/lib.sh"

run_case() { # name next-path next-file(or empty)
	local name=$1 next=$2 file=$3
	img="$out/$name.img"
	serial="$out/$name.serial.txt"
	cfg="$out/$name.cfg"
	printf 'next = %s\n' "$next" >"$cfg"
	rm -f "$serial"
	status=none
	log=/dev/null
	local next_args=()
	[ -n "$file" ] && next_args=("$file" "$next")
	"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "${next_args[@]}" ||
		{ fail "$name: build the image"; return; }
	printf 'reset -s\r\n' >"$out/startup.nsh"
	mcopy -i "$img@@1048576" "$out/startup.nsh" ::/startup.nsh
	MICROHV_QEMU_ACCEL=tcg "$top/tools/qemu.sh" "$img" "$serial" 90
	status=$?
	[ -f "$serial" ] || : >"$serial"
	clean_log "$serial"
}

run_case qemu-missing-next '\EFI\nowhere\missing.efi' ""
expect "missing: error names the path and EFI_NOT_FOUND" '^\[boot\] error: next stage \\EFI\\nowhere\\missing\.efi not found on the boot volume \(EFI_NOT_FOUND\); set next= in hv\.cfg$'
expect "missing: loader returns to the firmware" '^\[boot\] error: returning to the firmware \(EFI_NOT_FOUND\)$'
expect_status "missing: firmware got control back and powered off" "$status" 0

# A text file is no PE/COFF image: LoadImage refuses it.
run_case qemu-bad-next '\EFI\microhv\next.efi' "$top/boot/hv.cfg"
expect "unloadable: error names the path and the status" '^\[boot\] error: next stage \\EFI\\microhv\\next\.efi could not be loaded: EFI_(LOAD_ERROR|UNSUPPORTED)$'
expect "unloadable: loader returns to the firmware" '^\[boot\] error: returning to the firmware \(EFI_(LOAD_ERROR|UNSUPPORTED)\)$'
expect_status "unloadable: firmware got control back and powered off" "$status" 0
finish qemu-next-stage
