/*
 * vmcs_soft.c - the software VMCS behind vmx/vmcs.h in the host unit tests
 * (semantics in vmcs_soft.h).
 */
#include "vmcs_soft.h"

#include "vmx/vmcs.h"

#include <string.h>

static struct {
	uint64_t value[VMCS_FIELD_COUNT];
	bool unsupported[VMCS_FIELD_COUNT];
	unsigned long field_reads[VMCS_FIELD_COUNT];
	unsigned long field_writes[VMCS_FIELD_COUNT];
	unsigned long reads[4], writes[4];
	unsigned long errors;
	uint32_t last_error;
} s;

static unsigned long lifetime_reads[4];

void vmcs_soft_reset(void)
{
	memset(&s, 0, sizeof(s));
}

void vmcs_soft_clear_counters(void)
{
	memset(s.field_reads, 0, sizeof(s.field_reads));
	memset(s.field_writes, 0, sizeof(s.field_writes));
	memset(s.reads, 0, sizeof(s.reads));
	memset(s.writes, 0, sizeof(s.writes));
	s.errors = 0;
	s.last_error = 0;
}

static void error(uint32_t encoding)
{
	s.errors++;
	s.last_error = encoding;
}

/* The row index of encoding, or -1; *high says whether it is a high alias. */
static long index_of(uint32_t encoding, bool *high)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);
	if (!f)
		return -1;
	*high = f->encoding != encoding;
	return f - vmcs_field_table;
}

static uint64_t get(long i, bool high)
{
	return high ? s.value[i] >> 32 : s.value[i];
}

static void put(long i, bool high, uint64_t value)
{
	if (high)
		s.value[i] = (s.value[i] & 0xffffffffull) | (value << 32);
	else
		s.value[i] = value & vmcs_width_mask(vmcs_field_table[i].width);
}

void vmcs_soft_set(uint32_t encoding, uint64_t value)
{
	bool high;
	long i = index_of(encoding, &high);
	if (i < 0) {
		error(encoding);
		return;
	}
	put(i, high, value);
}

uint64_t vmcs_soft_get(uint32_t encoding)
{
	bool high;
	long i = index_of(encoding, &high);
	if (i < 0) {
		error(encoding);
		return 0;
	}
	return get(i, high);
}

void vmcs_soft_set_supported(uint32_t encoding, bool supported)
{
	bool high;
	long i = index_of(encoding, &high);
	if (i < 0)
		error(encoding);
	else
		s.unsupported[i] = !supported;
}

/* Counts a read of a known field; returns its index or -1. */
static long count_read(uint32_t encoding, bool *high)
{
	long i = index_of(encoding, high);
	if (i < 0)
		return -1;
	unsigned cls = vmcs_field_table[i].cls & 3;
	s.field_reads[i]++;
	s.reads[cls]++;
	lifetime_reads[cls]++;
	return i;
}

uint64_t vmcs_read(uint32_t field)
{
	bool high;
	long i = count_read(field, &high);
	if (i < 0 || s.unsupported[i]) {
		error(field);
		return 0;
	}
	return get(i, high);
}

bool vmcs_read_checked(uint32_t field, uint64_t *value)
{
	bool high;
	long i = count_read(field, &high);
	if (i < 0) {
		error(field);
		return false;
	}
	if (s.unsupported[i])
		return false;
	*value = get(i, high);
	return true;
}

void vmcs_write(uint32_t field, uint64_t value)
{
	bool high;
	long i = index_of(field, &high);
	if (i < 0) {
		error(field);
		return;
	}
	s.field_writes[i]++;
	s.writes[vmcs_field_table[i].cls & 3]++;
	if (s.unsupported[i]) {
		error(field);
		return;
	}
	put(i, high, value);
}

unsigned long vmcs_soft_reads(enum vmcs_class cls)
{
	return s.reads[cls & 3];
}

unsigned long vmcs_soft_writes(enum vmcs_class cls)
{
	return s.writes[cls & 3];
}

unsigned long vmcs_soft_field_reads(uint32_t encoding)
{
	bool high;
	long i = index_of(encoding, &high);
	return i < 0 ? 0 : s.field_reads[i];
}

unsigned long vmcs_soft_field_writes(uint32_t encoding)
{
	bool high;
	long i = index_of(encoding, &high);
	return i < 0 ? 0 : s.field_writes[i];
}

unsigned long vmcs_soft_lifetime_reads(enum vmcs_class cls)
{
	return lifetime_reads[cls & 3];
}

unsigned long vmcs_soft_errors(void)
{
	return s.errors;
}

uint32_t vmcs_soft_last_error(void)
{
	return s.last_error;
}
