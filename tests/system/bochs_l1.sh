#!/usr/bin/env bash
# bochs_l1.sh - two CPUs late-launched under L0, checked from L1.
#
# Boots Bochs with 2 CPUs and the L1 test payload (tests/payload/l1_test.c)
# as the next stage.  L0's log must show both CPUs launched and the refused
# accesses to its memory; each "microhv-l1: ok/not ok" line of the payload
# is one check here; its closing "l1-test: N passed, N failed" must show no
# failure.  The payload runs code on the AP twice through MP services,
# so the firmware restarts it twice with INIT-SIPI-SIPI: L0 must emulate
# both (docs/l0.md, "Starting APs"), as Bochs 2.7 mishandles the INIT
# VM exit.
. "$(dirname "$0")/lib.sh"

img="$out/bochs-l1.img"
serial="$out/bochs-l1.serial.txt"
cfg="$out/bochs-l1.cfg"
cp "$top/boot/hv.cfg" "$cfg"
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/l1_test.efi" ||
	{ fail "build the image"; finish bochs-l1; }
"$top/tools/bochs.sh" "$img" "$serial" 2 180
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"

expect "L0 prepared vmcs01 controls" '^\[core\] info: vmcs01 controls: pin 0x[0-9a-f]+ proc 0x[0-9a-f]+ proc2 0x[0-9a-f]+'
expect "EPT for L1 leaves L0's region out" "^\\[core\\] info: EPT for L1: identity up to 0x[0-9a-f]+ without L0's 0x[0-9a-f]+-0x[0-9a-f]+"
expect "the BSP's vmcs01 built and VMLAUNCH issued" '^\[core\] info: CPU 0 \(APIC ID 0\): vmcs01 at 0x[0-9a-f]+ ready, VMLAUNCH$'
expect "the AP's vmcs01 built and VMLAUNCH issued (through MP services)" '^\[core\] info: CPU 1 \(APIC ID 1\): vmcs01 at 0x[0-9a-f]+ ready, VMLAUNCH$'
expect "both CPUs run as L1" '^\[boot\] info: late launch: 2 of 2 CPUs run as L1 under microhv$'
expect "the loader, as L1, sees the hypervisor" '^\[boot\] info: L1 check: CPUID 0x40000000 max leaf 0x40000001 signature "microhv", CPUID.1:ECX hypervisor=1 VMX=1$'
expect "L0 logged the refused read of its memory" '^\[core\] warn: CPU 0: L1 read at GPA 0x[0-9a-f]+ \(RIP 0x[0-9a-f]+\) is L0 memory: refused, #GP\(0\) to L1'
expect "L0 logged the refused write to its memory" '^\[core\] warn: CPU 0: L1 write at GPA 0x[0-9a-f]+ \(RIP 0x[0-9a-f]+\) is L0 memory: refused, #GP\(0\) to L1'
expect "L0 write-protected the xAPIC page" '^\[core\] info: EPT: local APIC page 0xfee00000 read-only for L1 \(L0 sees its INIT and SIPI\)$'
expect "the AP's first INIT-SIPI under L0 emulated" '^\[core\] info: CPU 1: INIT and SIPI from L1 \(emulated by L0\): starts at 0x[0-9a-f]+000 in real mode \(restart 1\)$'
expect "the AP's second INIT-SIPI under L0 emulated" '^\[core\] info: CPU 1: INIT and SIPI from L1 \(emulated by L0\): starts at 0x[0-9a-f]+000 in real mode \(restart 2\)$'
expect_no "no INIT exit left pending by the emulator" 'INIT exit again before the AP executed anything'
expect "payload started" '^microhv-l1: L1 test payload started$'
expect "payload saw 2 CPUs" '^microhv-l1: 2 CPUs \(2 enabled\)$'

# Each of the payload's own checks counts here; it has 26.
payload_checks microhv-l1 L1 l1-test 26
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-l1
