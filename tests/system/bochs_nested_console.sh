#!/usr/bin/env bash
# bochs_nested_console.sh - the nested test hypervisor as L1 under microhv
# with L0's console on COM2 and VMCS shadowing for L1 off (hv.cfg plus
# "console = com2" and "shadow_vmcs = off").
#
# With shadowing off every VMREAD and VMWRITE of L1's exits to L0's
# emulation, as on a CPU without VMCS shadowing: the same payload passes
# both ways (bochs_nested.sh runs it with shadowing on).
#
# The same payload as tests/system/bochs_nested.sh, but L0's console now
# ticks on the BSP with the VMX-preemption timer, in vmcs01 and in every
# vmcs02, and owns COM2's ports, which L0 merges into vmcs02's I/O bitmaps.
# So L2 runs with L0's tick beside L1's own timer: the payload's count of
# 12000000 (beyond L0's tick of 2^22 TSC cycles) lets L0's tick expire
# twice while L2 runs, L0 polls its console and resumes L2, and L1 sees
# only its own expiry, no sooner than its count (nested/timer.h).  Every
# check of the payload must pass as in bochs_nested.sh, with the same
# floor; neither the loader nor the core may log an error, and nothing of
# the payload's may reach L0's UART.
. "$(dirname "$0")/lib.sh"

# As bochs_nested.sh: the bare run's checks (with the 15 of VM functions,
# the 2 of L2's VMREAD under EPT12 and the 17 of APIC virtualization) plus
# those only under microhv (19 of nested_apicv.c among them).
min_checks=292
img="$out/bochs-nested-console.img"
serial="$out/bochs-nested-console.serial.txt"
cfg="$out/bochs-nested-console.cfg"
com2="$out/bochs-nested-console.com2.txt"
{ cat "$top/boot/hv.cfg"; echo "console = com2"; echo "shadow_vmcs = off"; } >"$cfg"
rm -f "$serial" "$com2"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/nested_test.efi" ||
	{ fail "build the image"; finish bochs-nested-console; }
BOCHS_COM2="mode=file, dev=$com2" "$top/tools/bochs.sh" "$img" "$serial" 1 300
status=$?
[ -f "$serial" ] || : >"$serial"
[ -f "$com2" ] || : >"$com2"
clean_log "$serial"

expect "the CPU runs as L1" '^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
expect "L0's console owns 0x2f8 (its timer ticks on the BSP)" '^\[core\] info: console: L0 console on I/O port 0x2f8'
expect "VMCS shadowing for L1 off, as hv.cfg says" '^\[core\] info: nested VMX: VMCS shadowing for L1 off \(hv.cfg shadow_vmcs = off\)'
expect "payload started" '^microhv-nested: nested test hypervisor started$'
expect "payload sees microhv under it" '^microhv-nested: group A - .*\(under microhv\)$'
expect "L1's long count outlasts L0's tick and exits no sooner than its count" \
	'^microhv-nested: ok - a count of 12000000 exits \(52\) no sooner than its TSC cycles'
payload_checks microhv-nested nested nested-test "$min_checks"
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_no "the CPU refused no vmcs02 that L0's checks passed" '^\[core\] (warn|error): nested: CPU [0-9]+: the CPU refused vmcs02'
if grep -a -q 'microhv-nested' "$com2"; then
	fail "nothing of the payload's reached L0's console (found: $(grep -a -m1 microhv-nested "$com2"))"
else
	pass "nothing of the payload's reached L0's console"
fi
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-nested-console
