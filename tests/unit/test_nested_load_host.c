/*
 * test_nested_load_host.c - L1's state after a reflected exit, loaded from
 * vmcs12's host-state area into vmcs01 (nested/load_host.c), on the
 * software VMCS standing for vmcs01: a 64-bit L1 host, EFER without
 * "load IA32_EFER" in both directions, a 32-bit PAE host with its PDPTEs
 * read from an l1_memory over a host buffer (and the faults that are a
 * VMX abort), a 32-bit non-PAE host, and which vmcs01 fields are touched.
 */
#include "hw_fake.h"
#include "nested/load_host.h"
#include "test.h"
#include "vmcs_soft.h"
#include "vmx/controls.h"
#include "vmx/vmx_bits.h"

#include <string.h>

#define CR0_AM (1ull << 18)

static struct vmcs12 v12;
static struct vmx_caps hw;
static struct nested_host_env env;

/* L1's memory: a host buffer at guest-physical 0; reads can be refused. */
static uint8_t l1_ram[0x10000];
static unsigned ram_reads;
static bool ram_refuse;

static bool ram_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	ram_reads++;
	if (ram_refuse || gpa > sizeof(l1_ram) || len > sizeof(l1_ram) - gpa)
		return false;
	memcpy(buf, l1_ram + gpa, len);
	return true;
}

static const struct l1_memory ram = {
    .read = ram_read, .write = NULL, .ctx = NULL, .maxphyaddr = 36};

static void put64(uint64_t gpa, uint64_t value)
{
	memcpy(l1_ram + gpa, &value, sizeof(value));
}

/* vmcs01 as L1 left it when it entered L2; vmcs12 describing a 64-bit host. */
static void setup(void)
{
	hw_fake_bochs_caps(&hw);
	env = (struct nested_host_env){.hw_caps = &hw, .unrestricted_guest = false, .mem = &ram};
	memset(&v12, 0, sizeof(v12));
	memset(l1_ram, 0, sizeof(l1_ram));
	ram_reads = 0;
	ram_refuse = false;
	vmcs_soft_reset();

	/* L0 owns PE, NE, PG (VMX-fixed) and CD: CD comes from the shadow, NW from CR0. */
	vmcs_soft_set(VMCS_CR0_GUEST_HOST_MASK, vmx_cr0_host_owned(&hw, false) | CR0_CD);
	vmcs_soft_set(VMCS_CR0_READ_SHADOW, CR0_PG | CR0_CD | CR0_NE | CR0_ET | CR0_PE);
	vmcs_soft_set(VMCS_GUEST_CR0,
		      CR0_PG | CR0_NW | CR0_AM | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE);
	vmcs_soft_set(VMCS_CR4_READ_SHADOW, 0x20);
	vmcs_soft_set(VMCS_GUEST_CR4, 0x2020);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_NXE | EFER_SCE);
	vmcs_soft_set(VMCS_GUEST_IA32_PAT, 0x6);
	vmcs_soft_set(VMCS_GUEST_DR7, 0x401);
	vmcs_soft_set(VMCS_GUEST_IA32_DEBUGCTL, 0x1);
	vmcs_soft_set(VMCS_GUEST_RFLAGS, 0x246);
	vmcs_soft_set(VMCS_GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_HLT);
	vmcs_soft_set(VMCS_GUEST_INTERRUPTIBILITY_INFO,
		      GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_NMI);
	vmcs_soft_set(VMCS_GUEST_PENDING_DBG_EXCEPTIONS, PENDING_DBG_BS);
	vmcs_soft_set(VMCS_GUEST_LDTR_SELECTOR, 0x28);
	vmcs_soft_set(VMCS_GUEST_LDTR_BASE, 0x9000);
	vmcs_soft_set(VMCS_GUEST_LDTR_LIMIT, 0xff);
	vmcs_soft_set(VMCS_GUEST_LDTR_AR_BYTES, 0x82);
	vmcs_soft_set(VMCS_GUEST_GDTR_LIMIT, 0x7f);
	vmcs_soft_set(VMCS_GUEST_PDPTE0, 0x77);
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT);
	vmcs_soft_set(VMCS_VM_ENTRY_INTR_INFO_FIELD, INTR_INFO_VALID | INTR_TYPE_EXT_INTR | 0x30);
	/* L0's own host state and controls of vmcs01: never to be read. */
	vmcs_soft_set(VMCS_HOST_RIP, 0xdead);
	vmcs_soft_set(VMCS_CPU_BASED_VM_EXEC_CONTROL, 0x1234);

	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS,
		   EXIT_HOST_ADDR_SPACE_SIZE | EXIT_LOAD_IA32_EFER | EXIT_LOAD_IA32_PAT);
	/* HOST_CR0: no ET/CD/NW, but reserved bit 7 (kept bits come from L1's CR0). */
	vmcs12_set(&v12, VMCS_HOST_CR0, CR0_PG | (1ull << 7) | CR0_NE | CR0_TS | CR0_MP | CR0_PE);
	vmcs12_set(&v12, VMCS_HOST_CR3, 0x1234000);
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_PCIDE | CR4_OSXSAVE | CR4_VMXE | CR4_PAE);
	vmcs12_set(&v12, VMCS_HOST_IA32_EFER, EFER_NXE | EFER_LMA | EFER_LME | EFER_SCE);
	vmcs12_set(&v12, VMCS_HOST_IA32_PAT, 0x0007040600070406ull);
	vmcs12_set(&v12, VMCS_HOST_IA32_SYSENTER_CS, 0x10);
	vmcs12_set(&v12, VMCS_HOST_IA32_SYSENTER_ESP, 0xffff800000001000ull);
	vmcs12_set(&v12, VMCS_HOST_IA32_SYSENTER_EIP, 0xffff800000002000ull);
	vmcs12_set(&v12, VMCS_HOST_CS_SELECTOR, 0x08);
	vmcs12_set(&v12, VMCS_HOST_SS_SELECTOR, 0); /* null SS: allowed on a 64-bit exit */
	vmcs12_set(&v12, VMCS_HOST_DS_SELECTOR, 0x10);
	vmcs12_set(&v12, VMCS_HOST_ES_SELECTOR, 0);
	vmcs12_set(&v12, VMCS_HOST_FS_SELECTOR, 0);
	vmcs12_set(&v12, VMCS_HOST_GS_SELECTOR, 0x18);
	vmcs12_set(&v12, VMCS_HOST_TR_SELECTOR, 0x40);
	vmcs12_set(&v12, VMCS_HOST_FS_BASE, 0xffff880000010000ull);
	vmcs12_set(&v12, VMCS_HOST_GS_BASE, 0x00007fff00001000ull);
	vmcs12_set(&v12, VMCS_HOST_TR_BASE, 0xffff800000003000ull);
	vmcs12_set(&v12, VMCS_HOST_GDTR_BASE, 0xffff800000004000ull);
	vmcs12_set(&v12, VMCS_HOST_IDTR_BASE, 0xffff800000005000ull);
	vmcs12_set(&v12, VMCS_HOST_RIP, 0xffffffff81000000ull);
	vmcs12_set(&v12, VMCS_HOST_RSP, 0xffff880000200000ull);
}

TEST(load_host_64bit_registers)
{
	setup();
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	/* PG TS MP PE NE from HOST_CR0; ET, CD (shadow), NW (guest CR0), bit 7 (0) kept. */
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_READ_SHADOW), 0xe000003bull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), 0xe000003bull);
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_READ_SHADOW), 0x62020);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR4), 0x62020);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR3), 0x1234000);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DR7), 0x400);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_DEBUGCTL), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SYSENTER_CS), 0x10);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SYSENTER_ESP), 0xffff800000001000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SYSENTER_EIP), 0xffff800000002000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), 0xd01);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_PAT), 0x0007040600070406ull);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS),
		 ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT | ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0xffffffff81000000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RSP), 0xffff880000200000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RFLAGS), 0x2);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_ACTIVITY_STATE), GUEST_ACTIVITY_ACTIVE);
	/* STI and MOV-SS blocking gone; NMI blocking is not the exit's to change. */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_INTERRUPTIBILITY_INFO), GUEST_INTR_STATE_NMI);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PENDING_DBG_EXCEPTIONS), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_INTR_INFO_FIELD), 0);
	/* No PAE paging: the PDPTE fields are left alone, L1's memory not read. */
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE0), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0x77);
	CHECK_EQ(ram_reads, 0);
	CHECK_EQ(vmcs_soft_errors(), 0);
}

TEST(load_host_64bit_segments)
{
	setup();
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_SELECTOR), 0x08);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_BASE), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_LIMIT), 0xffffffff);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_AR_BYTES), 0xa09b); /* L=1, D/B=0 */
	/* Null SS, ES, FS: unusable, with the defined rights of 28.5.2 kept. */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SS_SELECTOR), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SS_AR_BYTES), 0x1c093);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_ES_AR_BYTES), 0x1c093);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DS_SELECTOR), 0x10);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DS_BASE), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DS_LIMIT), 0xffffffff);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_DS_AR_BYTES), 0xc093);
	/* FS and GS bases from the host fields, FS's even with a null selector. */
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_FS_SELECTOR), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_FS_AR_BYTES), 0x1c093);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_FS_BASE), 0xffff880000010000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GS_SELECTOR), 0x18);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GS_AR_BYTES), 0xc093);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GS_BASE), 0x00007fff00001000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_TR_SELECTOR), 0x40);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_TR_BASE), 0xffff800000003000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_TR_LIMIT), 0x67);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_TR_AR_BYTES), 0x8b);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_LDTR_SELECTOR), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_LDTR_AR_BYTES), 0x10000);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GDTR_BASE), 0xffff800000004000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_GDTR_LIMIT), 0xffff);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IDTR_BASE), 0xffff800000005000ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IDTR_LIMIT), 0xffff);
	/* Usable SS when its selector is not null. */
	vmcs12_set(&v12, VMCS_HOST_SS_SELECTOR, 0x10);
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SS_SELECTOR), 0x10);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_SS_AR_BYTES), 0xc093);
}

/* The CPU's VMX-fixed bits go into vmcs01's CR0/CR4, never into L1's view. */
TEST(load_host_fixed_bits_only_in_vmcs01)
{
	setup();
	vmcs12_set(&v12, VMCS_HOST_CR0, CR0_PG | CR0_PE);    /* NE clear */
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_PAE | CR4_LA57); /* VMXE clear; LA57 not allowed */
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_CR0_READ_SHADOW), 0xe0000011ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), 0xe0000031ull); /* + NE (CR0_FIXED0) */
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_READ_SHADOW), 0x1020);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR4), 0x2020); /* + VMXE, - LA57 (CR4_FIXED1) */
}

/* SDM 28.5.1: CR4.PAE set on a 64-bit exit, CR4.PCIDE cleared on a 32-bit one. */
TEST(load_host_cr4_follows_host_size)
{
	setup();
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_VMXE);
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_READ_SHADOW), CR4_VMXE | CR4_PAE);
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, 0);
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_VMXE | CR4_PCIDE);
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_CR4_READ_SHADOW), CR4_VMXE);
}

/* Without "load IA32_EFER": LMA/LME = host address-space size, NXE/SCE kept. */
TEST(load_host_efer_without_load_control)
{
	setup();
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, EXIT_HOST_ADDR_SPACE_SIZE);
	vmcs12_set(&v12, VMCS_HOST_IA32_EFER, 0); /* not to be used */
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_IA32_EFER);
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), EFER_NXE | EFER_SCE | EFER_LMA | EFER_LME);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS),
		 ENTRY_LOAD_IA32_EFER | ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_IA32_EFER), 1);
	/* Without "load IA32_PAT", vmcs01 keeps L1's PAT. */
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_IA32_PAT), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_PAT), 0x6);

	/* The other way: a 32-bit host leaves IA-32e mode, NXE/SCE still kept. */
	setup();
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, 0);
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_VMXE);
	vmcs12_set(&v12, VMCS_HOST_SS_SELECTOR, 0x10);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_NXE | EFER_SCE | EFER_LMA | EFER_LME);
	vmcs_soft_set(VMCS_VM_ENTRY_CONTROLS, ENTRY_LOAD_IA32_EFER | ENTRY_IA32E_MODE_GUEST);
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), EFER_NXE | EFER_SCE);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS), ENTRY_LOAD_IA32_EFER);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_AR_BYTES), 0xc09b); /* L=0, D/B=1 */
}

/* A 32-bit PAE host: CR3 0x307f names the PDPT at 0x3060 (CR3[31:5]). */
static void setup_pae(void)
{
	setup();
	vmcs12_set(&v12, VMCS_VM_EXIT_CONTROLS, 0);
	vmcs12_set(&v12, VMCS_HOST_CR0, CR0_PG | CR0_NE | CR0_ET | CR0_PE);
	vmcs12_set(&v12, VMCS_HOST_CR3, 0x307f);
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_VMXE | CR4_PAE);
	vmcs12_set(&v12, VMCS_HOST_SS_SELECTOR, 0x10);
	vmcs12_set(&v12, VMCS_HOST_RIP, 0xc0100000);
	vmcs_soft_set(VMCS_GUEST_IA32_EFER, EFER_NXE);
	put64(0x3060, 0x5001);	       /* present */
	put64(0x3068, 0);	       /* not present */
	put64(0x3070, 0x1e6);	       /* not present: reserved bits do not count */
	put64(0x3078, 0xf00001019ull); /* PWT, PCD, address bits 35:32 (MAXPHYADDR 36) */
}

TEST(load_host_pae_loads_pdptes)
{
	setup_pae();
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0x5001);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE1), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE2), 0x1e6);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE3), 0xf00001019ull);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR3), 0x307f);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_IA32_EFER), EFER_NXE);
	CHECK_EQ(vmcs_soft_get(VMCS_VM_ENTRY_CONTROLS), ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CS_AR_BYTES), 0xc09b);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_RIP), 0xc0100000);
	CHECK(ram_reads >= 1);
}

/* A fault leaves vmcs01 untouched for the caller's VMX abort. */
static void check_pdpte_fault(void)
{
	vmcs_soft_clear_counters();
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_PDPTE_FAULT);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_GUEST) + vmcs_soft_writes(VMCS_CLASS_CONTROL) +
		     vmcs_soft_writes(VMCS_CLASS_HOST) + vmcs_soft_writes(VMCS_CLASS_EXIT_INFO),
		 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_PDPTE0), 0x77);
}

TEST(load_host_pae_reserved_bits_fault)
{
	setup_pae();
	put64(0x3068, 0x1 | (1ull << 36)); /* bit 36 = MAXPHYADDR: reserved */
	check_pdpte_fault();
	setup_pae();
	put64(0x3070, 0x1 | (1ull << 5)); /* bits 8:5 reserved */
	check_pdpte_fault();
	setup_pae();
	put64(0x3060, 0x5001 | (1ull << 2)); /* bits 2:1 reserved */
	check_pdpte_fault();
	setup_pae();
	put64(0x3078, 0x1 | (1ull << 63)); /* no XD in a PAE PDPTE */
	check_pdpte_fault();
}

TEST(load_host_pae_refused_read_faults)
{
	setup_pae();
	ram_refuse = true;
	check_pdpte_fault();
	CHECK_EQ(ram_reads, 1);
	/* A PDPT beyond L1's memory: the same. */
	setup_pae();
	vmcs12_set(&v12, VMCS_HOST_CR3, 0x80000000);
	check_pdpte_fault();
}

TEST(load_host_32bit_without_pae_writes_no_pdpte)
{
	setup_pae();
	vmcs12_set(&v12, VMCS_HOST_CR4, CR4_VMXE);
	put64(0x3060, 0x1 | (1ull << 5)); /* would fault if it were read as a PDPTE */
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(ram_reads, 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_GUEST_PDPTE0) +
		     vmcs_soft_field_writes(VMCS_GUEST_PDPTE1) +
		     vmcs_soft_field_writes(VMCS_GUEST_PDPTE2) +
		     vmcs_soft_field_writes(VMCS_GUEST_PDPTE3),
		 0);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR4), 0x2000);
	CHECK_EQ(vmcs_soft_get(VMCS_GUEST_CR0), 0xe0000031ull); /* CD, NW kept from L1's view */
}

/*
 * vmcs01 reads: L1's CR0 view (mask, shadow, guest CR0), the
 * interruptibility and entry-control read-modify-writes, EFER only
 * without "load IA32_EFER".  No host-state or exit-information field.
 */
TEST(load_host_vmcs01_accesses)
{
	setup();
	CHECK_EQ(nested_load_l1_host_state(&v12, &env), NHOST_OK);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_EXIT_INFO), 0);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_CONTROL), 3);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_CR0_GUEST_HOST_MASK), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_CR0_READ_SHADOW), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_VM_ENTRY_CONTROLS), 1);
	CHECK_EQ(vmcs_soft_reads(VMCS_CLASS_GUEST), 2);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_CR0), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_INTERRUPTIBILITY_INFO), 1);
	CHECK_EQ(vmcs_soft_field_reads(VMCS_GUEST_IA32_EFER), 0);
	/* Writes: guest state, the two shadows, entry controls and entry event only. */
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_HOST), 0);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_EXIT_INFO), 0);
	CHECK_EQ(vmcs_soft_writes(VMCS_CLASS_CONTROL), 4);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_CR0_READ_SHADOW), 1);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_CR4_READ_SHADOW), 1);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_VM_ENTRY_CONTROLS), 1);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_VM_ENTRY_INTR_INFO_FIELD), 1);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_CR0_GUEST_HOST_MASK), 0);
	CHECK_EQ(vmcs_soft_field_writes(VMCS_VMCS_LINK_POINTER), 0);
	CHECK_EQ(vmcs_soft_get(VMCS_HOST_RIP), 0xdead);
	CHECK_EQ(vmcs_soft_get(VMCS_CPU_BASED_VM_EXEC_CONTROL), 0x1234);
	CHECK_EQ(vmcs_soft_errors(), 0);
}
