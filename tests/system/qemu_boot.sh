#!/usr/bin/env bash
# qemu_boot.sh - the UEFI path on a CPU without VMX (QEMU TCG + OVMF).
#
# The hv.cfg here has bad lines on purpose: each must be reported with its
# line number and text, the defaults kept, and the boot must go on.  Without
# VT-x the loader must say so plainly, still run the core's table self-test,
# and still chain-load the next stage, which powers QEMU off.
. "$(dirname "$0")/lib.sh"

img="$out/qemu-boot.img"
serial="$out/qemu-boot.serial.txt"
cfg="$out/qemu-boot.cfg"
long=$(printf 'x%.0s' $(seq 1 300))
cat >"$cfg" <<CFG
# test config with deliberate mistakes
loglevel = debug
colour = blue
baud = 12345
next = \\EFI\\microhv\\next.efi
$long
nested = maybe
serial
CFG
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/marker.efi" ||
	{ fail "build the image"; finish qemu-boot; }
MICROHV_QEMU_ACCEL=tcg "$top/tools/qemu.sh" "$img" "$serial" 60
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"

expect "banner with version" '^\[boot\] microhv [0-9]+\.[0-9]+\.[0-9]+ \(.*\) - nested VT-x hypervisor'
expect "unknown key named with line and text" '^\[boot\] warn: \\EFI\\BOOT\\hv\.cfg:3: unknown key: "colour = blue"; ignored, the default stays$'
expect "bad baud named with line and text" '^\[boot\] warn: \\EFI\\BOOT\\hv\.cfg:4: expected a baud rate that divides 115200 .*: "baud = 12345"; ignored'
expect "overlong line named, quoted text cut" '^\[boot\] warn: \\EFI\\BOOT\\hv\.cfg:6: line longer than 255 characters: "x{60}"; ignored'
expect "bad boolean named" '^\[boot\] warn: \\EFI\\BOOT\\hv\.cfg:7: expected on or off: "nested = maybe"; ignored'
expect "line without = named" '^\[boot\] warn: \\EFI\\BOOT\\hv\.cfg:8: expected key=value: "serial"; ignored'
expect "good lines applied, defaults kept for bad ones" '^\[boot\] info: config: serial=0x3f8 baud=115200 loglevel=debug nested=on next=\\EFI\\microhv\\next\.efi$'
expect "loglevel=debug took effect (memory ranges listed)" '^\[boot\] debug:   [0-9a-f]{16}-[0-9a-f]{16} usable$'
expect "clear no-VT-x line" '^\[boot\] warn: VT-x not available: CPUID\.1:ECX\.VMX\[bit 5\] is 0'
expect "ACPI RSDP found" '^\[boot\] info: ACPI RSDP at 0x[0-9a-f]+ \(revision 2\)$'
expect "two CPUs from MP services" '^\[boot\] info: CPUs: 2 \(2 enabled\)$'
expect "core tables self-test passes without VT-x" '^\[core\] info: self-test: firmware GDT, IDT and CR3 restored$'
expect "no launch without VT-x, said plainly" '^\[core\] warn: VT-x not available: L1 runs without a hypervisor$'
expect "the loader says the next stage runs unvirtualized" '^\[boot\] warn: late launch skipped \(see the core.s messages\): the next stage runs without the hypervisor$'
expect "core returned to the loader" '^\[boot\] info: core returned OK$'
expect "next stage chain-loaded" '^\[boot\] info: chain-loading next stage \\EFI\\microhv\\next\.efi$'
expect "payload marker" '^microhv-payload: marker: next stage started by the loader$'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_status "QEMU powered off by the payload, not killed" "$status" 0
finish qemu-boot
