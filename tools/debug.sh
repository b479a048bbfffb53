#!/usr/bin/env bash
# debug.sh - QEMU with its gdbstub, and gdb with the core's symbols.
#
# Builds build/debug/microhv.img whose hv.cfg adds gdb_wait=on: the core then
# prints where it was loaded and spins until gdb clears core_gdb_wait.  This
# script waits for that line on the serial log, then starts gdb attached to
# QEMU (localhost:1234) with build/core.elf added at the printed address.
# In gdb: set breakpoints, then `set var core_gdb_wait = 0` and `continue`.
# GDB_BATCH=FILE runs gdb with those commands non-interactively (the test
# tests/system/qemu_gdb.sh uses it).  docs/debugging.md has the details.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
dbg=build/debug
mkdir -p "$dbg"
{ cat boot/hv.cfg; echo "gdb_wait = on"; } >"$dbg/hv.cfg"
tools/mkimage.sh "$dbg/microhv.img" build/hv.efi "$dbg/hv.cfg" "${NEXT:-build/payload/marker.efi}" || exit 1

serial="$dbg/serial.txt"
: >"$serial"
tools/qemu.sh "$dbg/microhv.img" "$serial" "${DEBUG_SECONDS:-1800}" -s &
qemu=$!
trap 'kill -9 $qemu 2>/dev/null; pkill -9 -P $qemu 2>/dev/null' EXIT

addr=""
for _ in $(seq 1 600); do
	addr=$(sed -n -E 's/.*gdb_wait: add-symbol-file build\/core\.elf -o (0x[0-9a-f]+).*/\1/p' "$serial" | head -n1)
	[ -n "$addr" ] && break
	kill -0 $qemu 2>/dev/null || break
	sleep 0.1
done
if [ -z "$addr" ]; then
	echo "debug: the core never reported its address; serial log:" >&2
	tail -n 20 "$serial" >&2
	exit 1
fi
echo "debug: core at $addr; attaching gdb (serial log: $serial)"

gdb_args=(-q -ex "set confirm off" -ex "set pagination off"
	-ex "target remote localhost:1234"
	-ex "add-symbol-file build/core.elf -o $addr")
if [ -n "${GDB_BATCH:-}" ]; then
	gdb -batch "${gdb_args[@]}" -x "$GDB_BATCH"
	rc=$?
	# Let the boot finish (the payload powers QEMU off).
	wait $qemu
	exit $rc
fi
gdb "${gdb_args[@]}" \
	-ex 'echo \nThe core waits in wait_for_gdb. Set breakpoints, then: set var core_gdb_wait = 0; continue\n'
