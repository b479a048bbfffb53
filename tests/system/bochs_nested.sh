#!/usr/bin/env bash
# bochs_nested.sh - the nested test hypervisor as L1 under microhv.
#
# Boots Bochs with 1 CPU, microhv, and tests/payload/nested_test.c's
# payload as the next stage: an L1 hypervisor that runs its own L2 and
# checks every VMX result, VM-entry failure and VM exit it sees against the
# SDM, with expectations taken from the capability MSRs microhv offers.
# tests/system/bochs_nested_bare.sh runs the same payload on bare Bochs
# (the reference); here each "microhv-nested: ok/not ok" line is one check,
# the closing "nested-test: N passed, 0 failed" must reach the same floor,
# and neither the loader nor the core may log an error.
. "$(dirname "$0")/lib.sh"

# The bare run's 267 checks, plus 7 that only apply under microhv (its
# L0-range hypercall, VMPTRLD of L0's memory refused, the current VMCS
# unchanged after it, an I/O bitmap there refused, a virtual-APIC page
# there refused, L0 answering at the end; VMLAUNCH of a shadow VMCS
# VMfailInvalid, where Bochs 2.7 gives VMfailValid 7 against SDM 27.1),
# less 1: MONITOR and MWAIT are two exit checks on bare Bochs and one #UD
# check under microhv (L1's CPU has no MONITOR/MWAIT).  The 267 include
# the 15 VM-function checks (tests/payload/nested_vmfunc.c) and the 2 of
# L2's shadow-served VMREAD under EPT12 (nested_shadow.c); plus 19 of the
# APIC-access page and x2APIC virtualization (nested_apicv.c: the bare
# run's 17 and L0's refusal of an APIC-access page in its memory and at
# L1's xAPIC page).
min_checks=292
img="$out/bochs-nested.img"
serial="$out/bochs-nested.serial.txt"
cfg="$out/bochs-nested.cfg"
cp "$top/boot/hv.cfg" "$cfg"
rm -f "$serial"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/nested_test.efi" ||
	{ fail "build the image"; finish bochs-nested; }
"$top/tools/bochs.sh" "$img" "$serial" 1 300
status=$?
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"

expect "the CPU runs as L1" '^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
# Bochs 2.7 has VMCS shadowing and MISC[29]: L1's VMREADs of the exit
# information and its hot guest-state VMREADs/VMWRITEs run in L1 (the
# payload's checks go through the shadow VMCS; bochs_nested_console.sh
# runs them with shadowing off).
expect "VMCS shadowing for L1 on, read-only fields too" '^\[core\] info: nested VMX: VMCS shadowing for L1 on: 19 fields, 10 of them read-only$'
expect "payload started" '^microhv-nested: nested test hypervisor started$'
expect "payload sees microhv under it" '^microhv-nested: group A - .*\(under microhv\)$'
payload_checks microhv-nested nested nested-test "$min_checks"
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
# Each VM-entry failure the payload provokes is refused by L0's own check,
# named in L0's info line with its SDM section, not by the CPU's check of a
# vmcs02 L0 let the bad value into (L0's "the CPU refused vmcs02" line):
# the payload sees reason 33 either way.
entry_failed='^\[core\] info: nested: CPU 0: VM entry to L2 failed, exit reason'
expect "L0 refuses guest CR0.PE = 0 itself (27.3.1.1)" "$entry_failed"' 33 \(.*\) qualification 0: GUEST_CR0: a bit fixed to 1 in VMX operation \(IA32_VMX_CR0_FIXED0\) is 0 \(SDM 27\.3\.1\.1\)$'
expect "L0 refuses guest RFLAGS bit 1 = 0 itself (27.3.1.4)" "$entry_failed"' 33 \(.*\) qualification 0: GUEST_RFLAGS bit 1 must be 1 \(SDM 27\.3\.1\.4\)$'
expect "L0 refuses an external interrupt injected with RFLAGS.IF = 0 itself (27.3.1.4)" "$entry_failed"' 33 \(.*\) qualification 0: GUEST_RFLAGS\.IF must be 1 when injecting an external interrupt \(SDM 27\.3\.1\.4\)$'
expect "L0 refuses a VMCS link pointer to a page without the VMCS revision itself (27.3.1.5)" "$entry_failed"' 33 \(.*\) qualification 4: the VMCS at VMCS_LINK_POINTER must have the VMCS revision in bits 30:0 \(SDM 27\.3\.1\.5\)$'
expect "L0 refuses a linked VMCS whose shadow indicator is not the control itself (27.3.1.5)" "$entry_failed"' 33 \(.*\) qualification 4: the shadow-VMCS indicator at VMCS_LINK_POINTER must equal "VMCS shadowing" \(SDM 27\.3\.1\.5\)$'
expect "L0 refuses a reserved bit in L2's PDPTE itself (27.3.1.6)" "$entry_failed"' 33 \(.*\) qualification 2: a PDPTE at GUEST_CR3 is unreadable or sets a reserved bit \(SDM 27\.3\.1\.6\)$'
expect "L0 refuses MSR-load entry 1 itself (27.4)" "$entry_failed"' 34 \(.*\) qualification 1: an entry of the VM-entry MSR-load area failed \(SDM 27\.4\)$'
expect "L0 refuses MSR-load entry 2 itself (27.4)" "$entry_failed"' 34 \(.*\) qualification 2: an entry of the VM-entry MSR-load area failed \(SDM 27\.4\)$'
expect "L0 refuses an APIC-access page that is not L1's ordinary memory itself (its own rule)" '^\[core\] warn: nested: VM entry to L2 refused by L0.s own rule, VMfailValid 7: APIC_ACCESS_ADDR is not L1.s memory'
expect_no "the CPU refused no vmcs02 that L0's checks passed" '^\[core\] (warn|error): nested: CPU [0-9]+: the CPU refused vmcs02'
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"
finish bochs-nested
