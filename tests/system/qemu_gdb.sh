#!/usr/bin/env bash
# qemu_gdb.sh - `make debug` end to end, with gdb in batch mode.
#
# gdb attaches to QEMU's gdbstub while the core spins in wait_for_gdb, with
# build/core.elf added at the address the loader printed.  If that address
# were wrong, gdb could not resolve the symbols to the values the core is
# really using: core_gdb_wait must read 1 and the stopped PC must be inside
# wait_for_gdb/core_main.  gdb then releases the core, and the boot must
# complete to the payload's marker.
. "$(dirname "$0")/lib.sh"

cmds="$out/gdb-cmds"
gdbout="$out/qemu-gdb.gdb.txt"
cat >"$cmds" <<'GDB'
printf "gdb-check: core_gdb_wait=%d\n", core_gdb_wait
info symbol $pc
set var core_gdb_wait = 0
printf "gdb-check: released=%d\n", core_gdb_wait
detach
GDB
MICROHV_QEMU_ACCEL=tcg DEBUG_SECONDS=90 GDB_BATCH="$cmds" "$top/tools/debug.sh" >"$gdbout" 2>&1
status=$?
cp "$top/build/debug/serial.txt" "$out/qemu-gdb.serial.txt" 2>/dev/null || : >"$out/qemu-gdb.serial.txt"

expect_file "$gdbout" "gdb attached at the printed address" '^debug: core at 0x[0-9a-f]+; attaching gdb'
expect_file "$gdbout" "symbols resolve to the live variable (core_gdb_wait = 1)" '^gdb-check: core_gdb_wait=1$'
expect_file "$gdbout" "stopped PC is in the core's wait loop" '^(wait_for_gdb|core_main)( \+ [0-9]+)? in section \.text'
expect_file "$gdbout" "gdb released the core" '^gdb-check: released=0$'
clean_log "$out/qemu-gdb.serial.txt"
expect "core announced the wait" '^\[core\] info: gdb_wait: waiting for the debugger'
expect "boot went on to the self-test" '^\[core\] info: self-test: firmware GDT, IDT and CR3 restored$'
expect "payload marker after the debugger let go" '^microhv-payload: marker: next stage started by the loader$'
expect_status "debug.sh finished cleanly" "$status" 0
finish qemu-gdb
