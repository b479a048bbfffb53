#!/usr/bin/env bash
# bochs_linux.sh - a real Linux kernel as L1 under microhv, in Bochs.
#
# Boots build/linux/microhv-linux.img (make linux-image: the loader, an
# hv.cfg naming \EFI\linux\vmlinuz.efi with a kernel command line, Debian's
# EFI-stub kernel and our initramfs) in Bochs (corei7_skylake_x, OVMF) and
# checks the serial log: the loader chain-loaded the kernel with the
# configured arguments, the initramfs's /init ran and reported what the
# guest sees of a hypervisor through CPUID, and the guest powered Bochs off
# by itself.  About 90 s with 1 CPU: part of `make test` (the whole suite
# stays far below 30 minutes); `make test-long` runs it alone.
#
# Environment, for `make test-long` and hand runs only: tests/run.sh (`make
# test`) unsets these, so the test there is always its defaults.
#   CPUS=N         Bochs CPUs (default 1)
#   EXPECT_CPUS=N  the "cpus online: N" wanted (default 1: OVMF on Bochs has
#                  no ACPI tables, so Linux finds no MADT and runs on the
#                  boot CPU alone whatever CPUS is; docs/linux.md)
#   LINUX_SECONDS  SIGKILL bound on Bochs (default 360: a passing boot takes
#                  about 90 s with 1 CPU and 120 s with 2 on 2 host cores)
#   LINUX_TEST_IMG the image to boot (default build/linux/microhv-linux.img)
# None of them loosens a check: Linux must run as L1 under microhv.
. "$(dirname "$0")/lib.sh"

cpus=${CPUS:-1}
want_cpus=${EXPECT_CPUS:-1}
secs=${LINUX_SECONDS:-360}
built=${LINUX_TEST_IMG:-$top/build/linux/microhv-linux.img}
img="$out/bochs-linux.img"
serial="$out/bochs-linux.serial.txt"
rm -f "$serial" "${serial%.*}.bochs.log"

if [ ! -f "$built" ]; then
	fail "image $built exists (make linux-image)"
	finish bochs-linux
fi
# A copy, so Bochs's lock file and logs stay in build/test/.
cp "$built" "$img" || { fail "copy the image"; finish bochs-linux; }
cfg_args=$(mtype -i "$img@@1048576" ::/EFI/BOOT/hv.cfg | tr -d '\r' |
	sed -n -E 's/^next_args *= *//p' | tail -n1)

start=$(date +%s)
"$top/tools/bochs.sh" "$img" "$serial" "$cpus" "$secs"
status=$?
echo "# Bochs ($cpus CPU(s)) ran $(($(date +%s) - start)) s, exit status $status"
[ -f "$serial" ] || : >"$serial"
clean_log "$serial"

# grep -E patterns for literal text (the arguments hold backslashes and dots).
literal() { printf '%s' "$1" | sed -e 's/[][\\.*^$+?(){}|/]/\\&/g'; }

expect "the firmware was late-launched as L1" "^\\[boot\\] info: late launch: $cpus of $cpus CPUs run as L1 under microhv\$"
expect "Linux's /proc/cpuinfo shows the hypervisor flag" '^microhv-linux: cpuinfo flags hypervisor: yes$'
expect "chain-load of the kernel" '^\[boot\] info: chain-loading next stage \\EFI\\linux\\vmlinuz\.efi$'
if [ -n "$cfg_args" ]; then
	expect "kernel command line passed as LoadOptions" "^\\[boot\\] info: next stage arguments: $(literal "$cfg_args")\$"
else
	fail "hv.cfg in the image has next_args"
fi
expect "the loader started the kernel" '^\[boot\] info: starting next stage$'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect "/init reached" '^microhv-linux: init reached$'
expect "CPUID 0x40000000 signature \"microhv\" seen by Linux" \
	'^microhv-linux: cpuid 0x40000000: max leaf 0x40000001 signature "microhv"$'
expect "CPUID.1:ECX.hypervisor=1 seen by Linux" '^microhv-linux: cpuid\.1:ecx\.hypervisor=1$'
expect "$want_cpus CPU(s) online in Linux (EXPECT_CPUS)" "^microhv-linux: cpus online: $want_cpus\$"
expect "/init reached its power-off call" '^microhv-linux: powering off$'
expect_no "no kernel panic" 'Kernel panic'
expect "no MSR access Linux relies on refused by L0 (no \"unchecked MSR access error\" in dmesg)" \
	'^microhv-linux: dmesg: unchecked MSR accesses: 0$'
# What the guest saw, for the record.
grep -a -E '^microhv-linux: (cpuid|cpuinfo|dmesg)' "$log" | sed 's/^/# /'

expect_bochs_power_off "Bochs powered off by Linux, not killed or panicked" "$status" "$serial"
finish bochs-linux
