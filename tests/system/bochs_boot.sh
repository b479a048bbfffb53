#!/usr/bin/env bash
# bochs_boot.sh - the whole boot path on an emulated VT-x CPU.
#
# Builds a USB image with the marker payload as the next stage, boots it in
# Bochs (corei7_skylake_x) on OVMF, and checks the serial log: banner, VT-x
# enabled and its capability summary equal to what Bochs 2.7 emulates (the
# raw MSRs are in ../shared/guide/bochs.md), the core placed where the loader
# said, its tables switched in and back, the chain-load, the payload's marker
# and a power-off that ended Bochs by itself.
. "$(dirname "$0")/lib.sh"

img="$out/bochs-boot.img"
serial="$out/bochs-boot.serial.txt"
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$top/boot/hv.cfg" \
	"$top/build/payload/marker.efi" || { fail "build the image"; finish bochs-boot; }
"$top/tools/bochs.sh" "$img" "$serial" 1 120
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"

expect "banner with version" '^\[boot\] microhv [0-9]+\.[0-9]+\.[0-9]+ \(.*\) - nested VT-x hypervisor'
expect "hv.cfg found beside the loader" '^\[boot\] info: config: \\EFI\\BOOT\\hv\.cfg$'
expect "IA32_FEATURE_CONTROL enabled and locked" 'IA32_FEATURE_CONTROL was unlocked \(0x0\): enabled VMX outside SMX and locked it \(now 0x5\)'
expect "VT-x available" '^\[boot\] info: VT-x available$'
expect "VMX basic: revision, VMCS size, memory type" 'VMX: revision id 0x2b, VMCS size 4096 bytes, VMCS memory type WB, TRUE controls yes$'
expect "VMX features as Bochs emulates them" 'VMX: EPT yes, VPID yes, unrestricted guest yes, VMCS shadowing yes$'
expect "VMX features (2)" 'VMX: preemption timer yes, posted interrupts no, PML yes, VMFUNC yes$'
expect "EPT capabilities" 'VMX: EPT caps: execute-only yes, 4-level yes, 5-level no, UC yes, WB yes, 2M yes, 1G yes, A/D yes, INVEPT single yes all yes$'
expect "VPID capabilities" 'VMX: VPID caps: INVVPID yes, address yes, single yes, all yes, single-keep-globals yes$'
expect "raw IA32_VMX_BASIC/PINBASED/PROCBASED" 'BASIC=0x00d810000000002b PIN=0x0000007f00000016 PROC=0xf7f9fffe0401e172$'
expect "raw PROCBASED2/EPT_VPID_CAP/VMFUNC" 'PROC2=0x02177fff00000000 EPT_VPID_CAP=0x00000f0106334141 VMFUNC=0x1$'
expect "raw TRUE_* controls" 'TRUE_PIN=0x0000007f00000016 TRUE_PROC=0xf7f9fffe04006172 TRUE_EXIT=0x007fffff00036dfb TRUE_ENTRY=0x0000ffff000011fb$'
expect "one CPU from MP services" '^\[boot\] info: CPUs: 1 \(1 enabled\)$'
expect "memory map collected" '^\[boot\] info: memory map: [0-9]+ ranges, [0-9]+ MiB usable'

loaded=$(capture '^\[boot\] info: core loaded at (0x[0-9a-f]+) .*')
running=$(capture '^\[core\] info: core running at (0x[0-9a-f]+) .*')
if [ -n "$loaded" ] && [ "$loaded" = "$running" ]; then
	pass "core runs at the address the loader printed ($loaded)"
else
	fail "core runs at the address the loader printed (loader '$loaded', core '$running')"
fi
expect "gdb hint with that address" "gdb: add-symbol-file build/core.elf -o ${loaded:-none}\$"
expect "identity page tables built" '^\[core\] info: identity page tables up to 0x[0-9a-f]+ with 1G pages'
expect "core GDT switched in (CS 0x8, SS 0x10)" '^\[core\] info: self-test: core GDT in effect at 0x[0-9a-f]+, CS 0x8 SS 0x10$'
expect "INT3 reached the core's #BP handler" '^\[core\] info: exception #BP \(vector 3\) error code 0x0 rip 0x[0-9a-f]+$'
expect "core IDT switched in" '^\[core\] info: self-test: core IDT in effect at 0x[0-9a-f]+, INT3 handled \(vector 3\)$'
expect "core page tables switched in" '^\[core\] info: self-test: core page tables in effect, CR3 0x[0-9a-f]+, identity read OK$'
expect "firmware tables switched back" '^\[core\] info: self-test: firmware GDT, IDT and CR3 restored$'
expect "core returned to the loader" '^\[boot\] info: core returned OK$'
expect "no VT-d in Bochs: L0 says plainly it is not protected from DMA" '^\[core\] warn: no DMAR table: L0 is not protected from DMA by devices$'
expect "the BSP's vmcs01 built and VMLAUNCH issued" '^\[core\] info: CPU 0 \(APIC ID 0\): vmcs01 at 0x[0-9a-f]+ ready, VMLAUNCH$'
expect "the firmware goes on as L1" '^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
expect "L1 sees the hypervisor's CPUID leaf" '^\[boot\] info: L1 check: CPUID 0x40000000 max leaf 0x40000001 signature "microhv"'
expect "chain-load of the configured next stage" '^\[boot\] info: chain-loading next stage \\EFI\\microhv\\next\.efi$'
expect "payload marker" '^microhv-payload: marker: next stage started by the loader$'
expect "the payload called its power-off" '^microhv-payload: powering off'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-boot
