#!/usr/bin/env bash
# qemu.sh IMAGE SERIAL-OUT [SECONDS] [extra qemu args...]
#
# Boots IMAGE in QEMU with Debian's OVMF.  With KVM usable and an Intel CPU
# offering VMX on this host, runs with -enable-kvm -cpu host,+vmx (the users'
# path: microhv then really owns VT-x); otherwise TCG, which has no VMX, with
# a warning.  MICROHV_QEMU_ACCEL=tcg forces TCG.  COM1 goes to SERIAL-OUT
# ("-" for the terminal).  Bounded by SIGKILL after SECONDS.  Exit status:
# QEMU's (0 after the guest powers off), or 137 when the time ran out.
set -uo pipefail

image=$1 serial=$2 secs=${3:-60}
shift 3 2>/dev/null || shift $#

accel=(-machine q35,accel=tcg -cpu max)
if [ "${MICROHV_QEMU_ACCEL:-}" != "tcg" ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] &&
	grep -q -m1 -w vmx /proc/cpuinfo && grep -q -m1 GenuineIntel /proc/cpuinfo; then
	accel=(-machine q35,accel=kvm -enable-kvm -cpu host,+vmx)
	echo "qemu: KVM with -cpu host,+vmx (nested VT-x for microhv)" >&2
else
	echo "qemu: warning: no usable KVM on an Intel VT-x host here: TCG, which has no VMX;" \
		"microhv will report 'VT-x not available'" >&2
fi

if [ "$serial" = "-" ]; then
	ser=(-serial stdio)
else
	ser=(-serial "file:$serial")
fi
vars=$(mktemp "${TMPDIR:-/tmp}/microhv-ovmf-vars.XXXXXX")
trap 'rm -f "$vars"' EXIT
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$vars"

timeout -s KILL "$secs" qemu-system-x86_64 "${accel[@]}" -m 512 -smp 2 \
	-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd \
	-drive if=pflash,format=raw,file="$vars" \
	-drive file="$image",format=raw,if=ide \
	"${ser[@]}" -display none -monitor none -net none -no-reboot "$@"
