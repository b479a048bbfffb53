/*
 * cpuid_bench.c - `make bench`: the cost of an exit as L1 sees it.
 *
 * Runs as the next stage (L1) under microhv in Bochs, whose TSC follows its
 * instruction count, so the cycle figures repeat from run to run and
 * measure path length, not host speed.  Prints, on COM1:
 *   - TSC cycles of a CPUID round trip (L1 -> L0 -> L1), the minimum and
 *     the mean over BENCH_ROUNDS, next to a loop of RDTSC alone (no exit);
 *   - the VM exits each CPU took from its launch to here (the firmware's
 *     boot as L1), per exit reason, read with HC_EXIT_COUNT.
 * Every figure is measured in this run; nothing is compared to a threshold.
 */
#include <efi.h>
#include <efilib.h>

#include "arch/x86/cpu.h"
#include "drivers/serial/format.h"
#include "drivers/serial/uart16550.h"
#include "vmx/hypercall.h"
#include "vmx/vmx_bits.h"
#include "vmx/vmx_names.h"

#include "tests/bench/bench.h"
#include "tests/payload/payload.h"


void hv_vmcall(uint64_t regs[4]);

#define say payload_say



/* VMCALLs this bench made, each counted by L0 as it happened. */
static uint64_t g_own_vmcalls;

static uint64_t hc(uint64_t fn, uint64_t b, uint64_t c, uint64_t *out)
{
	uint64_t regs[4] = { fn, b, c, 0 };
	hv_vmcall(regs);
	g_own_vmcalls++;
	*out = regs[1];
	return regs[0];
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	uint64_t cpus, self;
	if (hc(HC_VERSION, 0, 0, &cpus) != HV_OK) {
		say("bench: error: no microhv hypercall answer");
		goto off;
	}
	uint64_t regs[4] = { HC_CPU_INFO, 0, 0, 0 };
	hv_vmcall(regs);
	g_own_vmcalls++;
	self = regs[1];
	cpus = regs[3];

	/* Exit counts first, so the bench's own exits are not in them. */
	for (uint64_t cpu = 0; cpu < cpus; cpu++) {
		/* The bench's own VMCALLs so far (this one included) are not L1's boot. */
		uint64_t total;
		hc(HC_EXIT_COUNT, cpu, HC_ANY, &total);
		if (cpu == self)
			total -= g_own_vmcalls;
		say("bench: CPU %llu: %llu VM exits from its launch to the bench",
		    (unsigned long long)cpu, (unsigned long long)total);
		for (uint64_t reason = 0; reason < EXIT_REASON_MAX; reason++) {
			uint64_t n;
			if (hc(HC_EXIT_COUNT, cpu, reason, &n) != HV_OK)
				continue;
			if (cpu == self && reason == EXIT_REASON_VMCALL)
				n -= g_own_vmcalls;
			if (n)
				say("bench:   reason %2llu %-28s %llu", (unsigned long long)reason,
				    vmx_exit_reason_name((uint32_t)reason), (unsigned long long)n);
		}
	}
	bench_measure_single("RDTSC pair alone (no exit)", 0);
	bench_measure_single("CPUID round trip L1 -> L0 -> L1", 1);
	say("bench: done");
off:
	payload_power_off();
}
