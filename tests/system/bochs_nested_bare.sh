#!/usr/bin/env bash
# bochs_nested_bare.sh - the nested test hypervisor on bare Bochs: the reference.
#
# Boots tests/payload/nested_test.c's payload directly as BOOTX64.EFI (no
# microhv; the hv.cfg beside it is ignored), so it runs as the hypervisor
# on Bochs's own emulated VT-x.  Every "microhv-nested: ok/not ok" line of
# the payload is one check here; the payload's closing
# "nested-test: N passed, 0 failed" must show at least the checks it
# reaches on Bochs 2.7.  tests/system/bochs_nested.sh runs the same
# payload as L1 under microhv and expects the same answers.
. "$(dirname "$0")/lib.sh"

# 250 before VM functions, plus their 15 (tests/payload/nested_vmfunc.c: IA32_VMX_VMFUNC,
# EPTP switching there and back, five exits 59, two #UD, four VMfails 7),
# plus 2 of L2's shadow-served VMREAD storing under EPT12 (nested_shadow.c),
# plus 17 of the APIC-access page and x2APIC virtualization
# (nested_apicv.c: 3 entry checks, 3 APIC-access exits, 5 under TPR
# shadow, 1 under EPT12, 5 of x2APIC mode).
min_checks=284
img="$out/bochs-nested-bare.img"
serial="$out/bochs-nested-bare.serial.txt"
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/payload/nested_test.efi" "$top/boot/hv.cfg" ||
	{ fail "build the image"; finish bochs-nested-bare; }
"$top/tools/bochs.sh" "$img" "$serial" 1 240
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"

expect "payload started on bare hardware" '^microhv-nested: nested test hypervisor started$'
expect "no hypervisor under it" '^microhv-nested: group A - .*\(no microhv: bare hardware\)$'
payload_checks microhv-nested nested nested-test "$min_checks"
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-nested-bare
