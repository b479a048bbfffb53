#!/usr/bin/env bash
# bochs_nested_smp.sh - INIT and SIPI between two CPUs whose L2 is inactive.
#
# tests/payload/nested_smp.c on 2 CPUs, twice: on bare Bochs (the
# reference: Bochs's own VT-x) and as L1 under microhv.  The BSP starts the
# AP (MP services), the AP enters an L2 in wait-for-SIPI (then in
# shutdown, then in wait-for-SIPI again), the BSP sends SIPI, INIT, INIT
# then SIPI through its xAPIC ICR, and the AP records the exits: SIPI exit
# 4 with the vector, INIT exit 3 from shutdown, the INIT that
# wait-for-SIPI blocks held to the next entry (SDM Vol. 3C 26.2, 27.7.2).
# Each "microhv-smp: ok/not ok" line is one check; the closing
# "nested-smp: N passed, 0 failed" must have them all.  Where Bochs 2.7's
# own VT-x departs from the SDM the payload takes Bochs's value with a
# note line (docs/nested.md "Bochs"): activity state 0 saved by its SIPI
# and INIT exits (SDM 28.1, 28.3.4), blocking by SMI saved by its SIPI
# exit (28.3.4), and the AP reset at its VMXOFF by the INIT Bochs keeps
# pending across its INIT exit (docs/l0.md).
. "$(dirname "$0")/lib.sh"

min_checks=11

# The reference first: bare Bochs, the payload as BOOTX64.EFI.
img="$out/bochs-nested-smp-bare.img"
serial="$out/bochs-nested-smp-bare.serial.txt"
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/payload/nested_smp.efi" "$top/boot/hv.cfg" ||
	{ fail "build the bare image"; finish bochs-nested-smp; }
"$top/tools/bochs.sh" "$img" "$serial" 2 240
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"
expect "bare: payload started" '^microhv-smp: nested SMP test started$'
expect "bare: no hypervisor under it" '^microhv-smp: group S - .*\(no microhv: bare hardware\)$'
payload_checks microhv-smp bare nested-smp "$min_checks"
expect_bochs_power_off "bare: Bochs powered off by the payload" "$status" "$serial"

# Under microhv, both CPUs L1.
img="$out/bochs-nested-smp.img"
serial="$out/bochs-nested-smp.serial.txt"
cfg="$out/bochs-nested-smp.cfg"
cp "$top/boot/hv.cfg" "$cfg"
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/nested_smp.efi" ||
	{ fail "build the image"; finish bochs-nested-smp; }
"$top/tools/bochs.sh" "$img" "$serial" 2 300
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"
expect "both CPUs run as L1" '^\[boot\] info: late launch: 2 of 2 CPUs run as L1 under microhv$'
expect "payload sees microhv under it" '^microhv-smp: group S - .*\(under microhv\)$'
payload_checks microhv-smp microhv nested-smp "$min_checks"
expect "L0 held the AP as L2 in wait-for-SIPI" '^\[core\] info: nested: CPU 1: L2 entered in wait-for-SIPI'
expect "L0 made the SIPI L1's exit" '^\[core\] info: nested: CPU 1: SIPI vector 0x9a for L2 in wait-for-SIPI: SIPI exit to L1$'
expect "L0 held the INIT wait-for-SIPI blocks" '^\[core\] info: nested: CPU 1: INIT \(emulated by L0\) held: L2 is in wait-for-SIPI'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-nested-smp
