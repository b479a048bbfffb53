#!/usr/bin/env bash
# bochs.sh IMAGE SERIAL-OUT [CPUS] [SECONDS]
#
# Boots IMAGE in Bochs (CPU model corei7_skylake_x, which emulates VT-x)
# with Debian's OVMF, COM1 written to SERIAL-OUT ("-" for the terminal),
# and the built-in debugger told to just continue.  Bounded by SIGKILL after
# SECONDS (Bochs ignores SIGTERM).  Exit status: Bochs's own (1 after the
# guest writes "Shutdown" to port 0x8900), or 137 when the time ran out.
set -uo pipefail

image=$1 serial=$2 cpus=${3:-1} secs=${4:-120}
dir=$(mktemp -d "${TMPDIR:-/tmp}/microhv-bochs.XXXXXX")
trap '[ -n "${KEEP_BOCHS_DIR:-}" ] || rm -rf "$dir"' EXIT

if [ "$serial" = "-" ]; then
	com1="com1: enabled=1, mode=file, dev=/dev/stdout"
else
	com1="com1: enabled=1, mode=file, dev=$serial"
fi
rm -f "$image.lock"
cat >"$dir/bochsrc" <<CFG
megs: 256
romimage: file=/usr/share/ovmf/OVMF.fd, address=0xffe00000
vgaromimage: file=/usr/share/bochs/VGABIOS-lgpl-latest
cpu: model=corei7_skylake_x, count=$cpus, ips=50000000
pci: enabled=1, chipset=i440fx
ata0-master: type=disk, path=$image, mode=flat
$com1
log: $dir/bx.log
debug: action=ignore
info: action=report, cpu0=ignore
error: action=report
panic: action=fatal
display_library: term
CFG
echo c >"$dir/cont.rc"
timeout -s KILL "$secs" bochs -q -f "$dir/bochsrc" -rc "$dir/cont.rc" </dev/null >"$dir/stdout" 2>&1
rc=$?
rm -f "$image.lock"
# Keep Bochs's own log next to the serial log: VM-entry failures show there.
if [ "$serial" != "-" ]; then
	cp "$dir/bx.log" "${serial%.*}.bochs.log" 2>/dev/null || true
	cp "$dir/stdout" "${serial%.*}.bochs-stdout.log" 2>/dev/null || true
fi
exit $rc
