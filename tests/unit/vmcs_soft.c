/*
 * vmcs_soft.c - the software VMCS behind vmx/vmcs.h in the host unit tests
 * (semantics in vmcs_soft.h).
 */
#include "vmcs_soft.h"

#include "vmx/vmcs.h"

#include <string.h>

#define NINST (1 + VMCS_SOFT_INSTANCES) /* [0]: the default instance */

struct instance {
	bool used;
	uint64_t pa;
	enum vmcs_soft_launch launch;
	uint64_t value[VMCS_FIELD_COUNT];
	unsigned long reads[4], writes[4];
};

static struct {
	struct instance inst[NINST];
	int cur; /* index into inst, -1: no current VMCS */
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
	s.inst[0].used = true;
	s.inst[0].pa = VMCS_SOFT_DEFAULT_PA;
	s.cur = 0;
}

void vmcs_soft_clear_counters(void)
{
	memset(s.field_reads, 0, sizeof(s.field_reads));
	memset(s.field_writes, 0, sizeof(s.field_writes));
	memset(s.reads, 0, sizeof(s.reads));
	memset(s.writes, 0, sizeof(s.writes));
	for (int i = 0; i < NINST; i++) {
		memset(s.inst[i].reads, 0, sizeof(s.inst[i].reads));
		memset(s.inst[i].writes, 0, sizeof(s.inst[i].writes));
	}
	s.errors = 0;
	s.last_error = 0;
}

static void error(uint32_t encoding)
{
	s.errors++;
	s.last_error = encoding;
}

/* ---- instances ---- */

static int find(uint64_t pa)
{
	for (int i = 0; i < NINST; i++)
		if (s.inst[i].used && s.inst[i].pa == pa)
			return i;
	return -1;
}

/* The instance at pa, created if need be; -1 (an error) when the table is full. */
static int find_or_create(uint64_t pa)
{
	int i = find(pa);
	if (i >= 0)
		return i;
	for (i = 1; i < NINST; i++) {
		if (!s.inst[i].used) {
			memset(&s.inst[i], 0, sizeof(s.inst[i]));
			s.inst[i].used = true;
			s.inst[i].pa = pa;
			return i;
		}
	}
	error(0);
	return -1;
}

void vmcs_soft_load(uint64_t pa)
{
	s.cur = find_or_create(pa);
}

void vmcs_soft_clear(uint64_t pa)
{
	int i = find_or_create(pa);
	if (i < 0)
		return;
	s.inst[i].launch = VMCS_SOFT_LAUNCH_CLEAR;
	if (s.cur == i)
		s.cur = -1;
}

uint64_t vmcs_soft_current(void)
{
	return s.cur < 0 ? VMCS_SOFT_NONE : s.inst[s.cur].pa;
}

bool vmcs_soft_exists(uint64_t pa)
{
	return find(pa) >= 0;
}

enum vmcs_soft_launch vmcs_soft_launch_state(uint64_t pa)
{
	int i = find(pa);
	return i < 0 ? VMCS_SOFT_LAUNCH_UNKNOWN : s.inst[i].launch;
}

void vmcs_soft_set_launched(uint64_t pa)
{
	int i = find(pa);
	if (i < 0)
		error(0);
	else
		s.inst[i].launch = VMCS_SOFT_LAUNCH_LAUNCHED;
}

unsigned long vmcs_soft_reads_in(uint64_t pa, enum vmcs_class cls)
{
	int i = find(pa);
	return i < 0 ? 0 : s.inst[i].reads[cls & 3];
}

unsigned long vmcs_soft_writes_in(uint64_t pa, enum vmcs_class cls)
{
	int i = find(pa);
	return i < 0 ? 0 : s.inst[i].writes[cls & 3];
}

/* ---- fields ---- */

/* The row index of encoding, or -1; *high says whether it is a high alias. */
static long index_of(uint32_t encoding, bool *high)
{
	const struct vmcs_field_info *f = vmcs_field_lookup(encoding);
	if (!f)
		return -1;
	*high = f->encoding != encoding;
	return f - vmcs_field_table;
}

static uint64_t get(const struct instance *in, long i, bool high)
{
	return high ? in->value[i] >> 32 : in->value[i];
}

static void put(struct instance *in, long i, bool high, uint64_t value)
{
	if (high)
		in->value[i] = (in->value[i] & 0xffffffffull) | (value << 32);
	else
		in->value[i] = value & vmcs_width_mask(vmcs_field_table[i].width);
}

static void set_in(int inst, uint32_t encoding, uint64_t value)
{
	bool high;
	long i = index_of(encoding, &high);
	if (i < 0 || inst < 0) {
		error(encoding);
		return;
	}
	put(&s.inst[inst], i, high, value);
}

static uint64_t get_in(int inst, uint32_t encoding)
{
	bool high;
	long i = index_of(encoding, &high);
	if (i < 0 || inst < 0) {
		error(encoding);
		return 0;
	}
	return get(&s.inst[inst], i, high);
}

void vmcs_soft_set(uint32_t encoding, uint64_t value)
{
	set_in(s.cur, encoding, value);
}

uint64_t vmcs_soft_get(uint32_t encoding)
{
	return get_in(s.cur, encoding);
}

void vmcs_soft_set_in(uint64_t pa, uint32_t encoding, uint64_t value)
{
	set_in(find(pa), encoding, value);
}

uint64_t vmcs_soft_get_in(uint64_t pa, uint32_t encoding)
{
	return get_in(find(pa), encoding);
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

/* Counts a read of a known field of the current VMCS; returns its index or -1. */
static long count_read(uint32_t encoding, bool *high)
{
	long i = index_of(encoding, high);
	if (i < 0 || s.cur < 0)
		return -1;
	unsigned cls = vmcs_field_table[i].cls & 3;
	s.field_reads[i]++;
	s.reads[cls]++;
	s.inst[s.cur].reads[cls]++;
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
	return get(&s.inst[s.cur], i, high);
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
	*value = get(&s.inst[s.cur], i, high);
	return true;
}

void vmcs_write(uint32_t field, uint64_t value)
{
	bool high;
	long i = index_of(field, &high);
	if (i < 0 || s.cur < 0) {
		error(field);
		return;
	}
	s.field_writes[i]++;
	s.writes[vmcs_field_table[i].cls & 3]++;
	s.inst[s.cur].writes[vmcs_field_table[i].cls & 3]++;
	if (s.unsupported[i]) {
		error(field);
		return;
	}
	put(&s.inst[s.cur], i, high, value);
}

/* As the CPU: VMfailInvalid without a current VMCS, VMfailValid for a field it lacks. */
bool vmcs_write_checked(uint32_t field, uint64_t value)
{
	bool high;
	long i = index_of(field, &high);
	if (i < 0) {
		error(field);
		return false;
	}
	if (s.cur < 0 || s.unsupported[i])
		return false;
	s.field_writes[i]++;
	s.writes[vmcs_field_table[i].cls & 3]++;
	s.inst[s.cur].writes[vmcs_field_table[i].cls & 3]++;
	put(&s.inst[s.cur], i, high, value);
	return true;
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
