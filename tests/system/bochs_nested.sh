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

# The bare run's 117 checks, plus 5 that only apply under microhv: its
# L0-range hypercall, VMPTRLD of L0's memory refused, an I/O bitmap there
# refused, L0 answering after it.
min_checks=122
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
expect "payload started as L1" '^microhv-nested: nested test hypervisor started$'
expect "payload sees microhv under it" '^microhv-nested: group A - .*\(under microhv\)$'
payload_checks microhv-nested nested nested-test "$min_checks"
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_status "Bochs powered off by the payload, not killed" "$status" 1
finish bochs-nested
