#!/usr/bin/env bash
# bochs.sh IMAGE SERIAL-OUT [CPUS] [SECONDS]
#
# Boots IMAGE in Bochs (CPU model corei7_skylake_x, which emulates VT-x)
# with Debian's OVMF, COM1 written to SERIAL-OUT ("-" for the terminal),
# and the built-in debugger told to just continue.  SERIAL-OUT "tty": COM1 is
# the terminal, both ways (make run's interactive shell): Bochs's COM1
# connects to tools/serial_term.py (com1 mode=socket-client), which relays
# the terminal, in raw mode, to the guest and the guest to the terminal and
# to BOCHS_TTY_LOG (default: run/bochs-serial.txt beside IMAGE); Ctrl-]
# there kills Bochs (status 0).  Bounded by SIGKILL after
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
# "tty": the terminal is COM1, both ways, through serial_term.py.
relay=""
if [ "$serial" = "tty" ]; then
	serial=${BOCHS_TTY_LOG:-"$(dirname "$image")/run/bochs-serial.txt"}
	mkdir -p "$(dirname "$serial")"
	: >"$serial"
	# stdin explicitly: a background job of a script would get /dev/null.
	exec 3<&0
	python3 "$(dirname "$0")/serial_term.py" --port-file "$dir/port" --log "$serial" <&3 &
	relay=$!
	exec 3<&-
	for _ in $(seq 1 100); do [ -s "$dir/port" ] && break; sleep 0.05; done
	[ -s "$dir/port" ] || { echo "bochs: serial_term.py did not start" >&2; exit 2; }
	echo "bochs: COM1 is this terminal (serial log also in $serial); leave with Ctrl-]," \
		"which kills Bochs; Bochs stops after ${secs}s at most" >&2
	com1="com1: enabled=1, mode=socket-client, dev=localhost:$(cat "$dir/port")"
else
	com1="com1: enabled=1, mode=file, dev=$serial"
fi
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
if [ -z "$relay" ]; then
	timeout -s KILL "$secs" bochs -q -f "$dir/bochsrc" -rc "$dir/cont.rc" </dev/null >"$dir/stdout" 2>&1
	rc=$?
else
	# Whichever ends first: Bochs (the relay then sees the port close) or
	# the relay (Ctrl-]: then Bochs is killed).  Bochs
	# is told apart by its private bochsrc path, as by BOCHS_STOP_ON.
	kill_bochs() { pkill -KILL -f -- "-f $dir/bochsrc" 2>/dev/null; }
	trap 'kill_bochs; kill "$relay" 2>/dev/null; exit 130' INT TERM HUP
	# In a subshell whose stderr is /dev/null: timeout dies of the SIGKILL
	# its Bochs got, and bash would say "Killed" on the terminal.
	(
		timeout -s KILL "$secs" bochs -q -f "$dir/bochsrc" -rc "$dir/cont.rc" </dev/null \
			>"$dir/stdout" 2>&1
		exit $? # not an exec of timeout (the subshell's last command)
	) 2>/dev/null &
	bochs=$!
	# serial_term.py's status: 0 the port closed (Bochs is exiting), 3
	# Ctrl-], 1 Bochs never connected.
	first="" left=""
	wait -n -p first "$relay" "$bochs"
	st=$?
	if [ "$first" = "$relay" ]; then
		left=$st
		# 0: Bochs closed the port, so it is exiting; else kill it.
		if [ "$left" != 0 ]; then
			: >"$dir/stopped"
			kill_bochs
		fi
		wait "$bochs"
		rc=$?
	else
		rc=$st
		# The relay ends by itself once the port closes (at once, unless
		# Bochs never connected); bounded all the same.  Not kill -0: a
		# finished child stays a zombie until waited for.
		for _ in $(seq 1 30); do
			case "$(awk '{ print $3 }' "/proc/$relay/stat" 2>/dev/null)" in Z | "") break ;; esac
			sleep 0.1
		done
		kill "$relay" 2>/dev/null
		wait "$relay"
	fi
	trap - INT TERM HUP
	if [ "$left" = 3 ]; then
		echo "bochs: left with Ctrl-]; Bochs killed" >&2
		rc=0
	elif [ -n "$left" ] && [ "$left" != 0 ]; then
		echo "bochs: the serial relay ended (status $left); Bochs killed" >&2
	fi
fi
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
