#!/usr/bin/env bash
# bochs.sh IMAGE SERIAL-OUT [CPUS] [SECONDS]
#
# Boots IMAGE in Bochs (CPU model corei7_skylake_x, which emulates VT-x)
# with Debian's OVMF, COM1 written to SERIAL-OUT ("-" for the terminal),
# and the built-in debugger told to just continue.  Bounded by SIGKILL after
# SECONDS (Bochs ignores SIGTERM).  Exit status: Bochs's own (1 after the
# guest writes "Shutdown" to port 0x8900), or 137 when the time ran out.
# BOCHS_STOP_ON='ERE': SIGKILL Bochs a second after a line of the serial log
# matches (a run that ends with a CPU halted for good, not a power-off);
# the status is then 137 too, and "bochs: stopped on ..." is said.
set -uo pipefail

image=$1 serial=$2 cpus=${3:-1} secs=${4:-120}
dir=$(mktemp -d "${TMPDIR:-/tmp}/microhv-bochs.XXXXXX")
trap '[ -n "${KEEP_BOCHS_DIR:-}" ] || rm -rf "$dir"' EXIT

# "-": follow the serial log on the terminal while Bochs runs.
follow=""
if [ "$serial" = "-" ]; then
	serial="$(dirname "$image")/run/bochs-serial.txt"
	mkdir -p "$(dirname "$serial")"
	: >"$serial"
	tail -n +1 -F "$serial" 2>/dev/null &
	follow=$!
	echo "bochs: serial log also in $serial; Bochs stops after ${secs}s at most" >&2
fi
com1="com1: enabled=1, mode=file, dev=$serial"
# BOCHS_COM2="mode=..., dev=...": a second UART (L0's console in the tests).
com2=""
[ -n "${BOCHS_COM2:-}" ] && com2="com2: enabled=1, $BOCHS_COM2"
rm -f "$image.lock"
cat >"$dir/bochsrc" <<CFG
megs: 256
romimage: file=/usr/share/ovmf/OVMF.fd, address=0xffe00000
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
cpu: model=corei7_skylake_x, count=$cpus, ips=50000000
pci: enabled=1, chipset=i440fx
ata0-master: type=disk, path=$image, mode=flat
$com1
$com2
log: $dir/bx.log
debug: action=ignore
info: action=report, cpu0=ignore
error: action=report
panic: action=fatal
display_library: term
CFG
echo c >"$dir/cont.rc"
stopper=""
if [ -n "${BOCHS_STOP_ON:-}" ]; then
	(
		while sleep 1; do
			if grep -a -q -E -- "$BOCHS_STOP_ON" "$serial" 2>/dev/null; then
				sleep 1
				echo "bochs: stopped on a serial line matching: $BOCHS_STOP_ON" >&2
				: >"$dir/stopped"
				pkill -KILL -f -- "-f $dir/bochsrc" 2>/dev/null
				break
			fi
		done
	) &
	stopper=$!
fi
timeout -s KILL "$secs" bochs -q -f "$dir/bochsrc" -rc "$dir/cont.rc" </dev/null >"$dir/stdout" 2>&1
rc=$?
if [ -n "$stopper" ]; then
	kill "$stopper" 2>/dev/null
	wait "$stopper" 2>/dev/null
fi
rm -f "$image.lock"
if [ -n "$follow" ]; then
	sleep 0.5
	kill "$follow" 2>/dev/null
fi
# Keep Bochs's own log next to the serial log: VM-entry failures show there.
cp "$dir/bx.log" "${serial%.*}.bochs.log" 2>/dev/null || true
cp "$dir/stdout" "${serial%.*}.bochs-stdout.log" 2>/dev/null || true
[ "$rc" = 137 ] && [ ! -e "$dir/stopped" ] && echo "bochs: stopped after ${secs}s (SIGKILL)" >&2
exit $rc
