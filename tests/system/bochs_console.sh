#!/usr/bin/env bash
# bochs_console.sh - L0's own console on COM2 (hv.cfg console = com2).
#
# Bochs's COM2 connects to tests/system/console_client.py, which waits for
# the console's ready line and types s, d and an unknown key while an idle
# next stage keeps L1 running.  L0 polls the key on VMX-preemption-timer
# exits and answers on COM2: per-CPU exit statistics, the vmcs01 dump, the
# key list.
. "$(dirname "$0")/lib.sh"

img="$out/bochs-console.img"
serial="$out/bochs-console.serial.txt"
cfg="$out/bochs-console.cfg"
transcript="$out/bochs-console.com2.txt"
portfile="$out/bochs-console.port"
{ cat "$top/boot/hv.cfg"; echo "console = com2"; echo "next_args = 25"; } >"$cfg"
rm -f "$serial" "$transcript" "$portfile"
"$top/tools/mkimage.sh" "$img" "$top/build/hv.efi" "$cfg" "$top/build/payload/idle.efi" ||
	{ fail "build the image"; finish bochs-console; }
timeout -s KILL 200 python3 "$top/tests/system/console_client.py" "$portfile" "$transcript" &
client=$!
for _ in $(seq 1 50); do [ -s "$portfile" ] && break; sleep 0.1; done
BOCHS_COM2="mode=socket-client, dev=localhost:$(cat "$portfile" 2>/dev/null)" \
	"$top/tools/bochs.sh" "$img" "$serial" 1 180
status=$?
wait $client
client_status=$?
[ -f "$serial" ] || : >"$serial"
[ -f "$transcript" ] || : >"$transcript"

clean_log "$serial"
expect "L0 announces its console on the main log" '^\[core\] info: console: L0 console on I/O port 0x2f8'
expect "the idle next stage ran" '^microhv-idle: idling 25 s$'
expect "the idle stage runs as L1 under microhv (its own CPUID reading)" \
	'^microhv-idle: CPUID\.1:ECX\.hypervisor=1, CPUID 0x40000000 signature "microhv"$'
expect_no "no error lines from loader or core" '^\[(boot|core)\] error:'
clean_log "$transcript"
expect "console ready line on COM2" '^microhv L0 console: ready \(keys: s statistics, d vmcs01 dump, h help\)$'
expect "'s': statistics header" '^microhv L0 console: exit statistics$'
expect "'s': CPU 0 totals" '^CPU 0 \(APIC ID 0\): [1-9][0-9]* VM exits, 0 L0-memory refusals$'
# The total is the sum of the per-reason lines that follow it (one snapshot,
# printed inside one exit): a total that counts exits no reason shows, or a
# reason counted twice, breaks the sum.
total=$(sed -n -E 's/^CPU 0 \(APIC ID 0\): ([0-9]+) VM exits.*/\1/p' "$log" | head -n1)
sum=$(awk '/^CPU 0 \(APIC ID 0\):/ { n++; next } n == 1 && /^  [ 0-9][0-9] / { s += $NF }
	/^microhv L0 console: end of statistics/ && n == 1 { n++ } END { print s + 0 }' "$log")
if [ -n "$total" ] && [ "$total" -gt 0 ] && [ "$total" = "$sum" ]; then
	pass "'s': the total ($total) equals the sum of the per-reason counts"
else
	fail "'s': the total (${total:-none}) equals the sum of the per-reason counts ($sum)"
fi
expect "'s': the polls themselves are counted (reason 52)" '^  52 VMX-preemption timer expired +[1-9][0-9]*$'
expect "'s': CPUID exits counted" '^  10 CPUID +[1-9][0-9]*$'
expect "'d': vmcs01 dump header" '^microhv L0 console: vmcs01 of CPU 0$'
expect "'d': a guest-state field" '^\[core\] debug:   GUEST_RIP +0x[0-9a-f]+$'
expect "'d': a host-state field" '^\[core\] debug:   HOST_RIP +0x[0-9a-f]+$'
expect "'d': dump complete" '^microhv L0 console: end of dump$'
expect "unknown key: the key list" '^microhv L0 console: keys: s statistics, d vmcs01 dump, h help$'
expect_status "the client got every answer" "$client_status" 0
clean_log "$serial"
expect_bochs_power_off "Bochs powered off by the idle stage, not killed or panicked" "$status" "$serial"
finish bochs-console
