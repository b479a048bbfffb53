/*
 * l1_memory.c - the core's struct l1_memory: L1's guest-physical memory
 * reached through L0's identity map, page by page only where EPT01 grants
 * L1 the same access (so L0's own pages, which EPT01 does not map, and
 * pages beyond its top are refused, and a write-protected MMIO page is
 * never written behind L1's back), and only below the end of L0's own
 * identity map (g_l0.host_map_end): EPT01 reaches 2^MAXPHYADDR, L0's page
 * tables only max(top of memory, 4 GiB), and an address between the two
 * would be a #PF in VMX root.
 *
 * The accessor the exit handlers call, l0_l1_memory, sits beside g_l0 in
 * vmx/launch.c and only returns l1_memory_ept01(): the host unit tests
 * link their own l0_l1_memory (tests/unit/hw_fake.c) and this file too
 * (tests/unit/test_l1_memory.c).
 */
#include "l1_memory.h"

#include "l0.h"
#include "mm/ept.h"
#include "vmx_arch.h"

static bool granted(uint64_t gpa, size_t len, unsigned need)
{
	if (!len)
		return true;
	uint64_t last = gpa + len - 1;
	if (last < gpa || last >= g_l0.host_map_end)
		return false;
	for (uint64_t page = gpa & ~(PAGE_SIZE - 1); page <= last; page += PAGE_SIZE) {
		unsigned rights;
		if (!ept_translate(g_l0.eptp & EPT_ADDR_MASK, page, NULL, &rights, NULL, NULL) ||
		    (rights & need) != need)
			return false;
		if (page + PAGE_SIZE < page)
			break;
	}
	return true;
}

static bool read_l1(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (!granted(gpa, len, EPT_READ))
		return false;
	__builtin_memcpy(buf, (const void *)(uintptr_t)gpa, len);
	return true;
}

static bool write_l1(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	if (!granted(gpa, len, EPT_READ | EPT_WRITE))
		return false;
	__builtin_memcpy((void *)(uintptr_t)gpa, buf, len);
	return true;
}

static int cmpxchg8_l1(void *ctx, uint64_t gpa, uint64_t old, uint64_t new_val)
{
	(void)ctx;
	if ((gpa & 7) || !granted(gpa, 8, EPT_READ | EPT_WRITE))
		return -1;
	return __atomic_compare_exchange_n((uint64_t *)(uintptr_t)gpa, &old, new_val, false,
					   __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
		       ? 0
		       : 1;
}

const struct l1_memory *l1_memory_ept01(void)
{
	static struct l1_memory mem = { read_l1, write_l1, NULL, 0, cmpxchg8_l1, NULL };
	mem.maxphyaddr = g_l0.maxphyaddr;
	return &mem;
}
