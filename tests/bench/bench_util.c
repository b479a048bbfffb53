/*
 * bench_util.c - the benches' shared measurement (bench.h).
 */
#include "bench.h"

#include <efi.h>

#include "arch/x86/cpu.h"
#include "tests/payload/payload.h"

void bench_measure_single(const char *what, int with_cpuid)
{
	uint64_t min = ~0ull, sum = 0;
	struct cpuid_regs r;
	for (int i = 0; i < BENCH_ROUNDS; i++) {
		uint64_t t0 = bench_rdtsc();
		if (with_cpuid)
			cpuid_count(0, 0, &r);
		uint64_t d = bench_rdtsc() - t0;
		sum += d;
		if (d < min)
			min = d;
	}
	payload_say("bench: %s: min %llu, mean %llu TSC cycles over %d rounds", what,
		    (unsigned long long)min, (unsigned long long)(sum / BENCH_ROUNDS), BENCH_ROUNDS);
}
