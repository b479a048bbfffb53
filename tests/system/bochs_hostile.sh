#!/usr/bin/env bash
# bochs_hostile.sh - a hostile L1 attacks L0 (issue 10, "A hostile L1 in Bochs").
#
# Boots Bochs with 1 CPU, microhv (hv.cfg plus "console = com2", so that
# L0 owns I/O ports 0x2f8-0x2ff and uses I/O bitmaps for them) and
# tests/payload/hostile.c as the next stage: an L1 hypervisor that attacks
# L0 through its memory, MSRs, port I/O, NMIs, VMX pointers, bitmaps
# changed by L2, a vmcs12 region edited by hand, bitmaps outside its
# memory, MSR-load areas and MOV to CR4, and checks the SDM's outcome of
# each (one "microhv-hostile: ok/not ok" line per check), L0's per-CPU
# state before and after (HC_L0_SELF), and L0 answering at the end.  Here:
# the payload's checks, L0's log line for each refusal, no error line from
# L0, nothing of L1's on L0's console UART (COM2), and Bochs powered off by
# the payload, not killed.  A second boot ends with the one attack that
# ends L1, a VMX abort from the exit MSR-load area (item 6), and checks
# L0's lines for it.
. "$(dirname "$0")/lib.sh"

# Every check of the payload: 63 on Bochs 2.7 with 1 CPU.
min_checks=63
img="$out/bochs-hostile.img"
serial="$out/bochs-hostile.serial.txt"
com2="$out/bochs-hostile.com2.txt"
cfg="$out/bochs-hostile.cfg"
{ cat "$top/boot/hv.cfg"; echo "console = com2"; } >"$cfg"
rm -f "$serial" "$com2"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/hostile.efi" ||
	{ fail "build the image"; finish bochs-hostile; }
BOCHS_COM2="mode=file, dev=$com2" "$top/tools/bochs.sh" "$img" "$serial" 1 240
status=$?
[ -f "$serial" ] || : >"$serial"
[ -f "$com2" ] || : >"$com2"
clean_log "$serial"

expect "the CPU runs as L1" '^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
expect "L0's console owns 0x2f8" '^\[core\] info: console: L0 console on I/O port 0x2f8'
expect "payload started" '^microhv-hostile: hostile L1 started$'
payload_checks microhv-hostile hostile hostile-test "$min_checks"
expect "L0's per-CPU state intact after the attacks (HC_L0_SELF)" '^microhv-hostile: ok - HC_L0_SELF after the attacks: '
expect "L0 counted the refused accesses to its memory (HC_L0_SELF)" '^microhv-hostile: ok - L0 counted each refused access to its memory, no more '
expect "L0 still answers hypercalls at the end" '^microhv-hostile: ok - L0 still answers HC_VERSION '

# L0 names each refusal: "[core] warn/info: ..." (vmx/msr_policy.c,
# vmx/exit_event.c, vmx/console.c, nested/insn_emul.c, nested/vmentry.c).
w='^\[core\] warn: CPU 0: '
expect "L0 refuses L1's read of its memory" "$w"'L1 read at GPA 0x[0-9a-f]+ \(RIP 0x[0-9a-f]+\) is L0 memory: refused, #GP\(0\) to L1 \(refusal [0-9]+\)$'
expect "L0 refuses L1's write into its memory" "$w"'L1 write at GPA 0x[0-9a-f]+ \(RIP 0x[0-9a-f]+\) is L0 memory: refused, #GP\(0\) to L1 \(refusal [0-9]+\)$'
msr="${w}WRMSR of MSR"
expect "L0 refuses the APIC base on its memory" "$msr"' 0x1b \(IA32_APIC_BASE\) = 0x[0-9a-f]+ refused: the APIC page would lie in L0.s memory: #GP\(0\)'
expect "L0 refuses the APIC base beyond its map" "$msr"' 0x1b \(IA32_APIC_BASE\) = 0x4000000[0-9a-f]{3} refused: the APIC page would lie beyond L0.s identity map: #GP\(0\)'
expect "L0 refuses IA32_RTIT_CTL" "$msr"' 0x570 \(IA32_RTIT_CTL/STATUS/CR3_MATCH\) = 0x1 refused: not offered: #GP\(0\)'
expect "L0 refuses IA32_RTIT_OUTPUT_BASE" "$msr"' 0x560 \(IA32_RTIT_OUTPUT_\*\) = 0x[0-9a-f]+ refused: not offered: #GP\(0\)'
expect "L0 refuses IA32_DS_AREA" "$msr"' 0x600 \(IA32_DS_AREA\) = 0x[0-9a-f]+ refused: not offered: #GP\(0\)'
expect "L0 refuses IA32_PEBS_ENABLE" "$msr"' 0x3f1 \(IA32_PEBS_ENABLE\) = 0x1 refused: not offered: #GP\(0\)'
expect "L0 refuses IA32_PERF_GLOBAL_CTRL" "$msr"' 0x38f \(IA32_FIXED_CTR_CTRL, IA32_PERF_GLOBAL_\*\) = 0x1 refused: not offered: #GP\(0\)'
expect "L0 refuses the microcode trigger" "$msr"' 0x79 \(IA32_BIOS_UPDT_TRIG\) = 0x[0-9a-f]+ refused: not offered: #GP\(0\)'
expect "L0 refuses a reserved MTRR_DEF_TYPE bit" "$msr"' 0x2ff \(IA32_MTRR_DEF_TYPE\) = 0x[0-9a-f]+ refused: reserved bits set: #GP\(0\)'
expect "L0 refuses the x2APIC ICR in xAPIC mode" "$msr"' 0x830 \(x2APIC ICR\) = 0x7f000000f2 refused: the APIC is not in x2APIC mode: #GP\(0\)'
# (RDMSR of x2APIC registers passes L0's bitmap: the CPU's own #GP, no line.)
io='^\[core\] info: CPU 0: L1.s [24]-byte IN at I/O port '
expect "L0 performs an IN that wraps past 0xffff" "$io"'0xff(ff|fe) \(RIP 0x[0-9a-f]+\) wraps past port 0xffff: L0 performs the bytes outside its console on the hardware$'
expect "L0 performs the bytes of an IN over its console that are not the console's" "$io"'0x2f6 \(RIP 0x[0-9a-f]+\) overlaps L0.s console: L0 performs the bytes outside its console on the hardware$'
n='^\[core\] warn: nested: L1 named physical address '
for pa in 0x100000000 0x4000000000; do
	expect "L0 refuses VMX pointer $pa as not L1's memory" "$n$pa, which is not L1.s memory: refused as an invalid address$"
done
expect "L0 refuses the last page below MAXPHYADDR as not L1's memory" "$n"'0x[0-9a-f]*f{5}000, which is not L1.s memory: refused as an invalid address$'
# I/O and MSR bitmaps outside L1's memory are accepted (SDM 27.2.1.1) and
# read as all ones, each named once at VMLAUNCH.
bm='^\[core\] warn: nested: L1.s '
expect "L0 names I/O bitmap A at 4 GiB as read as all ones" "$bm"'I/O bitmap A at 0x100000000 is not L1.s memory: every port in it exits to L1$'
expect "L0 names I/O bitmap B at 256 GiB as read as all ones" "$bm"'I/O bitmap B at 0x4000000000 is not L1.s memory: every port in it exits to L1$'
expect "L0 names the MSR bitmap at the top of MAXPHYADDR as read as all ones" "$bm"'MSR bitmap at 0x[0-9a-f]*f{5}000 is not L1.s memory: every MSR exits to L1$'
expect "L0 refuses a non-canonical SYSENTER_EIP in an MSR-load area" "$msr"' 0x176 \(IA32_SYSENTER_EIP\) = 0x8000000000000000 refused: not a canonical address: #GP\(0\)'
expect "L0 fails the VM entry on MSR-load entry 2 itself (27.4)" '^\[core\] info: nested: CPU 0: VM entry to L2 failed, exit reason 34 \(.*\) qualification 2: an entry of the VM-entry MSR-load area failed \(SDM 27\.4\)$'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_no "the CPU refused no vmcs02 and no vmcs01" '(the CPU refused vmcs02|VM entry failed|VMRESUME failed)'
expect_no "L0 halted no CPU" 'CPU halted'
# Nothing L1 wrote to L0's console ports reached its UART ('!' and '#').
if grep -a -q -E '[!#]' "$com2"; then
	fail "L1's OUTs over L0's console left nothing on COM2 (found: $(grep -a -m1 -E '[!#]' "$com2"))"
else
	pass "L1's OUTs over L0's console left nothing on COM2"
fi
expect_bochs_power_off "Bochs powered off by the payload, not killed or panicked" "$status" "$serial"

# Item 6's exit side for real, in a second boot: the same attacks, then an
# exit MSR-load area whose entry WRMSR refuses.  SDM 28.7: a VMX abort
# (indicator 4) shuts L1 down, which L0 answers with its triple-fault
# policy (hv.cfg: halt): the CPU stops for good, so the script stops Bochs
# once L0 said so.  L0 must name the abort and halt nothing before it.
# No ">>PANIC<<" of any kind in a Bochs log (the second run ends by the script's kill).
no_bochs_panic() { # bochs-log description
	local hit
	hit=$(grep -a -m1 -- '>>PANIC<<' "$1" 2>/dev/null)
	if [ -f "$1" ] && [ -z "$hit" ]; then pass "$2"; else fail "$2 (${hit:-no Bochs log $1})"; fi
}
abort_img="$out/bochs-hostile-abort.img"
abort_serial="$out/bochs-hostile-abort.serial.txt"
abort_cfg="$out/bochs-hostile-abort.cfg"
{ cat "$cfg"; echo "next_args = vmx-abort"; } >"$abort_cfg"
rm -f "$abort_serial"
if "$top/tools/mkimage.sh" "$abort_img" "$top/build/hv.efi" "$abort_cfg" \
	"$top/build/payload/hostile.efi"; then
	BOCHS_STOP_ON='CPU halted' BOCHS_COM2="mode=file, dev=$com2.abort" \
		"$top/tools/bochs.sh" "$abort_img" "$abort_serial" 1 240
	[ -f "$abort_serial" ] || : >"$abort_serial"
	clean_log "$abort_serial"
	expect "second boot: every attack passed before the VMX abort" \
		'^hostile-test: [0-9]+ passed, 0 failed before the VMX abort$'
	expect "L0 names the VMX abort of the exit MSR-load area (28.6, 28.7)" \
		'^\[core\] error: nested: CPU 0: VMX abort 4 \(loading an MSR of L1 failed; MSR entry 1\) while L2 exited to L1: L1 shuts down \(SDM 28\.7\)$'
	expect "L0 answers L1's shutdown with its triple-fault policy" \
		'L1 triple fault \(on_triple_fault = halt\): CPU halted'
	expect_no "L1 did not come back after the abort" 'not ok - a VMX abort ended L1'
	expect_no "L0 refused no vmcs01 before the abort" '(VM entry failed|VMRESUME failed)'
	no_bochs_panic "${abort_serial%.*}.bochs.log" "Bochs did not panic before the script stopped it"
else
	fail "build the second image"
fi
finish bochs-hostile
