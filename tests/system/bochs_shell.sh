#!/usr/bin/env bash
# bochs_shell.sh - make run's image, used as a user would: typed on.
#
# Boots build/linux/microhv-shell.img (make linux-shell-image, what `make
# run` boots) with tools/bochs.sh's "tty" serial mode, as `make run` does,
# on a pseudo-terminal driven by tests/system/pty_user.py: it waits for
# L1's shell prompt, types a command line (its answer proves the keys reach
# the shell, whose controlling terminal is the console), then `kvm-demo`
# (the L2 guests under L1's KVM), then `poweroff`, each after the previous
# answer arrived.  Checks: Linux runs as L1 under microhv, KVM loaded, the
# banner, every L2 guest PASS, the shell's poweroff powering Bochs off, and
# the terminal's settings restored afterwards.  Then a second, short boot
# is left with Ctrl-] as soon as the loader speaks: Bochs killed, status 0,
# the terminal restored.  2 to 3.5 minutes; the first boot bounded by
# SHELL_SECONDS (default 480) with SIGKILL, the second by 60 s.  Logs in build/test/: bochs-shell.serial.txt
# (COM1 as received, escapes and CRs included), bochs-shell.pty.txt (the
# terminal), Bochs's log beside them; bochs-shell-exit.* for the Ctrl-] run.
. "$(dirname "$0")/lib.sh"

secs=${SHELL_SECONDS:-480}
built=$top/build/linux/microhv-shell.img
img="$out/bochs-shell.img"
serial="$out/bochs-shell.serial.txt"
serial2="$out/bochs-shell-exit.serial.txt"
rm -f "$serial" "$serial2" "$out"/bochs-shell*.bochs.log "$out"/bochs-shell*.pty.txt

if [ ! -f "$built" ]; then
	fail "image $built exists (make linux-shell-image)"
	finish bochs-shell
fi
cp "$built" "$img" || { fail "copy the image"; finish bochs-shell; }

# boot NAME SERIAL SECONDS: tools/bochs.sh IMG tty on a pty, typed on as
# $out/NAME.script says, then the status and the terminal's settings.
boot() {
	start=$(date +%s)
	BOCHS_TTY_LOG=$2 timeout -s KILL $(($3 + 30)) python3 "$top/tests/system/pty_user.py" \
		"$out/$1.pty.txt" "$out/$1.script" bash -c \
		'"$0" "$1" tty 1 "$2"; st=$?; echo; echo "after-bochs: status=$st"; stty -a' \
		"$top/tools/bochs.sh" "$img" "$3" </dev/null
	echo "# $1: ran $(($(date +%s) - start)) s, pty_user.py status $?"
	[ -f "$2" ] || : >"$2"
	[ -f "$out/$1.pty.txt" ] || : >"$out/$1.pty.txt"
}

# SECONDS<TAB>TEXT TO WAIT FOR<TAB>KEYS ("-": none; "^]": Ctrl-]).
printf '%s\t%s\t%s\n' \
	"$secs" 'L1 linux:' 'tty; echo typed-ok $((6 * 7))' \
	60 'typed-ok 42' - \
	30 'L1 linux:' 'kvm-demo' \
	200 'kvm-demo: done' - \
	30 'L1 linux:' 'poweroff' >"$out/bochs-shell.script"
boot bochs-shell "$serial" "$secs"
bochs_status=$(sed -n -E 's/^after-bochs: status=([0-9]+).*/\1/p' "$out/bochs-shell.pty.txt" | head -n1)

clean_log "$serial"
expect "the firmware was late-launched as L1" '^\[boot\] info: late launch: 1 of 1 CPUs run as L1 under microhv$'
expect "the kernel command line has microhv.shell" '^\[boot\] info: next stage arguments: .* microhv\.shell$'
expect "Linux's /init ran" '^microhv-linux: init reached$'
expect "Linux sees microhv's CPUID signature" '^microhv-linux: cpuid 0x40000000: max leaf 0x40000001 signature "microhv"$'
expect "KVM loaded by /init" '^kvm-demo: KVM loaded: .*kvm_intel'
expect "the banner says what to type" '^ +kvm-demo +run KVM guests as L2'
expect "/init started the shell" '^microhv-linux: shell ready$'
expect "the typed line reached the shell, whose terminal is the console" '^/dev/ttyS0$'
expect "the shell ran it" '^typed-ok 42$'
expect "kvm-demo printed KVM's parameters" '^kvm-demo: kvm_intel uses: ept='
for g in real-mode long-mode interrupts; do
	expect "L2 guest $g passed" "^kvm-guest: $g/demo: PASS "
done
expect "kvm-demo: every guest passed" '^kvm-demo: all L2 guests passed \(demo\)$'
expect_no "no kvm-demo error" '^kvm-demo: error'
expect "poweroff in the shell reached /init" '^microhv-linux: powering off$'
expect_no "no kernel panic" 'Kernel panic'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
expect_bochs_power_off "Bochs powered off by Linux, not killed or panicked" "${bochs_status:-none}" "$serial"
clean_log "$out/bochs-shell.pty.txt"
expect "every typed step got its answer" '^pty_user: script done$'
expect "the terminal is cooked again after Bochs (icanon, echo)" '(^| )icanon .*(^| )echo '
expect_no "the terminal is not left raw" '(^| )-icanon'

# The second boot: Ctrl-] as soon as the loader's first line shows.
printf '%s\t%s\t%s\n' 50 '[boot] info:' '^]' >"$out/bochs-shell-exit.script"
boot bochs-shell-exit "$serial2" 60
clean_log "$out/bochs-shell-exit.pty.txt"
expect "Ctrl-]: bochs.sh says it left" 'bochs: left with Ctrl-\]; Bochs killed$'
expect "Ctrl-]: status 0" '^after-bochs: status=0$'
expect "Ctrl-]: the terminal is cooked again (icanon, echo)" '(^| )icanon .*(^| )echo '
expect_no "Ctrl-]: the terminal is not left raw" '(^| )-icanon'
clean_log "$serial"
finish bochs-shell
