/*
 * vtd_mmio.c - the VT-d units' registers on the hardware (vtd_mmio.h).
 *
 * The core runs identity-mapped, and the firmware's and the core's page
 * tables map the units' register pages (below 4 GiB, in the MMIO hole)
 * uncached by the MTRRs.  11.2: software accesses 64-bit registers with
 * one 64-bit access or two 32-bit ones; a 64-bit MOV is one access.
 */
#include "vtd_mmio.h"

#include "arch/x86/cpu.h"

static uint32_t mmio_read32(void *ctx, uint64_t base, unsigned off)
{
	(void)ctx;
	return *(volatile uint32_t *)(uintptr_t)(base + off);
}

static uint64_t mmio_read64(void *ctx, uint64_t base, unsigned off)
{
	(void)ctx;
	return *(volatile uint64_t *)(uintptr_t)(base + off);
}

static void mmio_write32(void *ctx, uint64_t base, unsigned off, uint32_t v)
{
	(void)ctx;
	*(volatile uint32_t *)(uintptr_t)(base + off) = v;
}

static void mmio_write64(void *ctx, uint64_t base, unsigned off, uint64_t v)
{
	(void)ctx;
	*(volatile uint64_t *)(uintptr_t)(base + off) = v;
}

static void flush_caches(void *ctx)
{
	(void)ctx;
	wbinvd();
}

static uint64_t now(void *ctx)
{
	(void)ctx;
	return rdtsc();
}

const struct vtd_ops vtd_mmio_ops = {
	.read32 = mmio_read32,
	.read64 = mmio_read64,
	.write32 = mmio_write32,
	.write64 = mmio_write64,
	.flush_caches = flush_caches,
	.now = now,
	.ctx = 0,
};
