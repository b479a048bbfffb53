/*
 * smp_stage.c - an EFI stage of the Linux test (not part of microhv) that
 * gives Linux the ACPI tables it needs to find and start every CPU, then
 * starts the kernel.
 *
 * OVMF on Bochs installs no ACPI tables (it takes them from QEMU's fw_cfg,
 * which Bochs does not have), so Linux finds no MADT and runs on the boot
 * CPU alone.  This stage, chain-loaded by microhv's loader (so it runs as
 * L1) or started by the UEFI shell on bare Bochs, builds from what the
 * firmware and the chipset report:
 *
 *   MADT  one Processor Local APIC entry per CPU of EFI_MP_SERVICES_PROTOCOL
 *         (BSP first, APIC IDs and enabled flags as reported), the local
 *         APIC address from IA32_APIC_BASE, the I/O APIC at 0xfec00000 with
 *         GSI base 0 (its ID read from the I/O APIC itself; left out if
 *         nothing answers there), interrupt source overrides IRQ0 -> GSI2
 *         (edge) and SCI IRQ -> GSI (level, active high, like SeaBIOS), and
 *         a local APIC NMI entry (LINT1 of every CPU);
 *   FADT  the PIIX4 power-management block of the i440fx chipset (PCI
 *         00:01.3, base from its PMBA register; programmed to 0xb000 if the
 *         firmware left it off): PM1a event/control, the PM timer, SCI IRQ;
 *         no SMI command port (the hardware is already in ACPI mode);
 *   DSDT  just Name(\_S5, Package(4){0,0,0,0}): Bochs's PIIX4 powers off
 *         on SLP_TYP 0 with SLP_EN ("ACPI control: soft power off"), so
 *         Linux's poweroff works as on a real machine;
 *   FACS  an empty one (64 bytes, 64-byte aligned), which the FADT names.
 *
 * They are installed with EFI_ACPI_TABLE_PROTOCOL when the firmware offers
 * it (it builds the RSDP, RSDT and XSDT and publishes the RSDP in the
 * configuration table); otherwise the stage lays out RSDP v2 -> XSDT (and
 * RSDT) itself in EfiACPIReclaimMemory (the FACS in EfiACPIMemoryNVS) and
 * publishes the RSDP under the ACPI 2.0 GUID.  If the firmware already has
 * ACPI tables (QEMU, real machines), nothing is added.  The stage then
 * walks the RSDP it published, checks every checksum and prints the
 * tables.
 *
 * LoadOptions: "[ARGV0] KERNEL-PATH -- COMMAND-LINE".  KERNEL-PATH is a
 * path on the stage's own volume (default \EFI\linux\vmlinuz.efi when
 * there is no "--"); COMMAND-LINE becomes the kernel's LoadOptions, where
 * Linux's EFI stub reads its command line.  ARGV0 is what the UEFI shell
 * puts first (the stage's own path); microhv's loader passes next_args
 * without it.
 *
 * Every line goes straight to COM1 and starts with "smp-stage: ";
 * tests/system/bochs_linux_smp.sh asserts on them.
 */
#include <efi.h>
#include <efilib.h>

#include "arch/x86/cpu.h"
#include "tests/payload/payload.h"

#define say(...) payload_say("smp-stage: " __VA_ARGS__)

#define MAX_CPUS 64
#define DEFAULT_KERNEL "\\EFI\\linux\\vmlinuz.efi"
#define IOAPIC_BASE 0xfec00000u
#define IA32_APIC_BASE 0x1b
#define PIIX4_PM_DEFAULT_BASE 0xb000u

/* PI spec Vol. 2, EFI_MP_SERVICES_PROTOCOL (gnu-efi does not define it). */
#define MP_SERVICES_GUID                                                               \
	{                                                                              \
		0x3fdda605, 0xa76e, 0x4f46, { 0xad, 0x29, 0x12, 0xf4, 0x53, 0x1b, 0x3d, 0x08 } \
	}
struct processor_info { /* EFI_PROCESSOR_INFORMATION, with room for PI 1.7's extension */
	UINT64 ProcessorId; /* the APIC ID */
	UINT32 StatusFlag; /* bit 0 BSP, bit 1 enabled, bit 2 healthy */
	UINT32 Package, Core, Thread;
	UINT32 Extended[16];
};
typedef struct mp_services mp_services;
struct mp_services {
	EFI_STATUS(EFIAPI *GetNumberOfProcessors)(mp_services *This, UINTN *Count, UINTN *Enabled);
	EFI_STATUS(EFIAPI *GetProcessorInfo)(mp_services *This, UINTN Number,
					     struct processor_info *Info);
};

/* UEFI 2.10 20.2, EFI_ACPI_TABLE_PROTOCOL. */
#define ACPI_TABLE_PROTOCOL_GUID                                                       \
	{                                                                              \
		0xffe06bdd, 0x6107, 0x46a6, { 0x7b, 0xb2, 0x5a, 0x9c, 0x7e, 0xc5, 0x27, 0x5c } \
	}
typedef struct acpi_table_protocol acpi_table_protocol;
struct acpi_table_protocol {
	EFI_STATUS(EFIAPI *InstallAcpiTable)(acpi_table_protocol *This, void *Table, UINTN Size,
					     UINTN *Key);
	EFI_STATUS(EFIAPI *UninstallAcpiTable)(acpi_table_protocol *This, UINTN Key);
};

/* ACPI 6.4 tables, as far as this stage fills them. */
struct __attribute__((packed)) acpi_header {
	char sig[4];
	UINT32 length;
	UINT8 revision, checksum;
	char oem_id[6], oem_table_id[8];
	UINT32 oem_revision;
	char creator_id[4];
	UINT32 creator_revision;
};

struct __attribute__((packed)) acpi_rsdp {
	char sig[8];
	UINT8 checksum;
	char oem_id[6];
	UINT8 revision;
	UINT32 rsdt;
	UINT32 length;
	UINT64 xsdt;
	UINT8 ext_checksum, reserved[3];
};

struct __attribute__((packed)) acpi_gas {
	UINT8 space, bit_width, bit_offset, access_size;
	UINT64 address;
};

/* ACPI 6.4 5.2.9: the FADT of revision 4 (244 bytes, ACPI 3.0's layout). */
struct __attribute__((packed)) acpi_fadt {
	struct acpi_header h;
	UINT32 firmware_ctrl, dsdt;
	UINT8 reserved0, preferred_pm_profile;
	UINT16 sci_int;
	UINT32 smi_cmd;
	UINT8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	UINT32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	UINT32 gpe0_blk, gpe1_blk;
	UINT8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	UINT8 gpe1_base, cst_cnt;
	UINT16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	UINT8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	UINT16 iapc_boot_arch;
	UINT8 reserved1;
	UINT32 flags;
	struct acpi_gas reset_reg;
	UINT8 reset_value;
	UINT16 arm_boot_arch;
	UINT8 minor_version;
	UINT64 x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
};
_Static_assert(sizeof(struct acpi_fadt) == 244, "FADT revision 4 is 244 bytes");

struct __attribute__((packed)) acpi_facs {
	char sig[4];
	UINT32 length, hw_signature, waking_vector, global_lock, flags;
	UINT64 x_waking_vector;
	UINT8 version, reserved0[3];
	UINT32 ospm_flags;
	UINT8 reserved1[24];
};
_Static_assert(sizeof(struct acpi_facs) == 64, "FACS is 64 bytes");

/* MADT entries (ACPI 6.4 5.2.12). */
struct __attribute__((packed)) madt_lapic {
	UINT8 type, length, uid, apic_id;
	UINT32 flags; /* bit 0 enabled */
};
struct __attribute__((packed)) madt_ioapic {
	UINT8 type, length, id, reserved;
	UINT32 address, gsi_base;
};
struct __attribute__((packed)) madt_iso {
	UINT8 type, length, bus, source;
	UINT32 gsi;
	UINT16 flags;
};
struct __attribute__((packed)) madt_lapic_nmi {
	UINT8 type, length, uid;
	UINT16 flags;
	UINT8 lint;
};

/* The DSDT's AML: Name (\_S5, Package (4) { Zero, Zero, Zero, Zero }). */
static const UINT8 dsdt_aml[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0, 0, 0, 0 };

/* FADT flags (ACPI 6.4 Table 5.10) and IA-PC boot architecture flags. */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_PWR_BUTTON (1u << 4) /* no fixed power button */
#define FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button */
#define BOOT_ARCH_LEGACY_DEVICES (1u << 0)
#define BOOT_ARCH_8042 (1u << 1)

static void copy(void *dst, const void *src, UINTN n)
{
	UINT8 *d = dst;
	const UINT8 *s = src;
	while (n--)
		*d++ = *s++;
}

static void zero(void *dst, UINTN n)
{
	UINT8 *d = dst;
	while (n--)
		*d++ = 0;
}

static UINT8 sum8(const void *p, UINTN n)
{
	const UINT8 *b = p;
	UINT8 s = 0;
	while (n--)
		s += *b++;
	return s;
}

static void header(struct acpi_header *h, const char *sig, UINT32 length, UINT8 revision)
{
	copy(h->sig, sig, 4);
	h->length = length;
	h->revision = revision;
	copy(h->oem_id, "MICRHV", 6);
	copy(h->oem_table_id, "SMPSTAGE", 8);
	h->oem_revision = 1;
	copy(h->creator_id, "MHV ", 4);
	h->creator_revision = 1;
	h->checksum = 0;
	h->checksum = (UINT8)-sum8(h, length);
}

/* PCI configuration mechanism #1, bus 0. */
static UINT32 pci_read32(UINT32 dev, UINT32 fn, UINT32 reg)
{
	__asm__ volatile("outl %0, %1" ::"a"(0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc)),
			 "Nd"((UINT16)0xcf8));
	UINT32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"((UINT16)0xcfc));
	return v;
}

static void pci_write32(UINT32 dev, UINT32 fn, UINT32 reg, UINT32 v)
{
	__asm__ volatile("outl %0, %1" ::"a"(0x80000000u | dev << 11 | fn << 8 | (reg & 0xfc)),
			 "Nd"((UINT16)0xcf8));
	__asm__ volatile("outl %0, %1" ::"a"(v), "Nd"((UINT16)0xcfc));
}

struct platform {
	UINTN ncpu;
	UINT32 apic_id[MAX_CPUS];
	UINT32 enabled[MAX_CPUS];
	UINT32 lapic_base;
	int ioapic; /* an I/O APIC answers at IOAPIC_BASE */
	UINT8 ioapic_id;
	UINT32 ioapic_pins;
	UINT32 pm_base; /* PIIX4 PM I/O base, 0 if there is none */
	UINT8 sci_irq;
};

static void find_cpus(struct platform *p)
{
	EFI_GUID guid = MP_SERVICES_GUID;
	mp_services *mp = NULL;
	UINTN n = 0, en = 0;
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	UINT32 self = r.ebx >> 24;
	p->ncpu = 0;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&mp);
	if (!EFI_ERROR(s))
		s = uefi_call_wrapper(mp->GetNumberOfProcessors, 3, mp, &n, &en);
	if (EFI_ERROR(s) || n == 0) {
		say("no EFI_MP_SERVICES_PROTOCOL (status 0x%lx): one CPU, APIC ID %u", s, self);
		p->ncpu = 1;
		p->apic_id[0] = self;
		p->enabled[0] = 1;
		return;
	}
	say("MP services: %llu processors, %llu enabled", (unsigned long long)n,
	    (unsigned long long)en);
	/* The BSP first, then the others in the firmware's order. */
	for (int pass = 0; pass < 2; pass++) {
		for (UINTN i = 0; i < n && p->ncpu < MAX_CPUS; i++) {
			struct processor_info info;
			zero(&info, sizeof(info));
			s = uefi_call_wrapper(mp->GetProcessorInfo, 3, mp, i, &info);
			if (EFI_ERROR(s)) {
				if (pass == 0)
					say("GetProcessorInfo(%llu) failed: status 0x%lx", (unsigned long long)i, s);
				continue;
			}
			int bsp = info.StatusFlag & 1;
			if ((pass == 0) != bsp)
				continue;
			say("CPU %llu: APIC ID %llu, %s, %s, package %u core %u thread %u",
			    (unsigned long long)i, (unsigned long long)info.ProcessorId,
			    bsp ? "BSP" : "AP", info.StatusFlag & 2 ? "enabled" : "disabled",
			    info.Package, info.Core, info.Thread);
			p->apic_id[p->ncpu] = (UINT32)info.ProcessorId;
			p->enabled[p->ncpu] = (info.StatusFlag & 2) != 0;
			p->ncpu++;
		}
	}
	if (p->ncpu == 0) {
		p->ncpu = 1;
		p->apic_id[0] = self;
		p->enabled[0] = 1;
	}
}

static void find_apics(struct platform *p)
{
	UINT64 base = rdmsr(IA32_APIC_BASE);
	p->lapic_base = (UINT32)(base & 0xfffff000u);
	say("IA32_APIC_BASE 0x%llx: local APIC at 0x%x%s", (unsigned long long)base, p->lapic_base,
	    base & (1u << 10) ? " (x2APIC mode)" : "");
	volatile UINT32 *sel = (volatile UINT32 *)(UINTN)IOAPIC_BASE;
	volatile UINT32 *win = (volatile UINT32 *)(UINTN)(IOAPIC_BASE + 0x10);
	*sel = 1;
	UINT32 ver = *win;
	*sel = 0;
	UINT32 id = *win;
	if (ver == 0xffffffffu || ver == 0) {
		say("no I/O APIC at 0x%x (version register 0x%x)", IOAPIC_BASE, ver);
		p->ioapic = 0;
		return;
	}
	p->ioapic = 1;
	p->ioapic_id = (UINT8)((id >> 24) & 0x0f);
	p->ioapic_pins = ((ver >> 16) & 0xff) + 1;
	say("I/O APIC at 0x%x: ID %u, version 0x%x, %u pins", IOAPIC_BASE, p->ioapic_id,
	    ver & 0xff, p->ioapic_pins);
}

/* The i440fx's PIIX4 power management function (00:01.3, 8086:7113). */
static void find_pm(struct platform *p)
{
	p->pm_base = 0;
	p->sci_irq = 9;
	UINT32 idr = pci_read32(1, 3, 0);
	if (idr != 0x71138086u) {
		say("no PIIX4 power management at PCI 00:01.3 (ID 0x%08x): FADT without PM blocks",
		    idr);
		return;
	}
	UINT32 pmba = pci_read32(1, 3, 0x40);
	UINT32 misc = pci_read32(1, 3, 0x80);
	UINT8 line = (UINT8)pci_read32(1, 3, 0x3c);
	if (line >= 1 && line <= 15)
		p->sci_irq = line;
	if (!(misc & 1) || (pmba & 0xffc0) == 0) {
		pci_write32(1, 3, 0x40, PIIX4_PM_DEFAULT_BASE | 1);
		pci_write32(1, 3, 0x80, misc | 1);
		say("PIIX4 PM I/O was off (PMBA 0x%x, PMREGMISC 0x%x): set to 0x%x", pmba, misc & 0xff,
		    PIIX4_PM_DEFAULT_BASE);
		pmba = pci_read32(1, 3, 0x40);
	}
	p->pm_base = pmba & 0xffc0;
	say("PIIX4 PM I/O at 0x%x, SCI IRQ %u (interrupt line 0x%x)", p->pm_base, p->sci_irq, line);
}

struct tables {
	struct acpi_facs *facs;
	struct acpi_header *dsdt, *madt;
	struct acpi_fadt *fadt;
	UINT32 madt_len;
};

static UINTN madt_size(const struct platform *p)
{
	return sizeof(struct acpi_header) + 8 + p->ncpu * sizeof(struct madt_lapic) +
	       (p->ioapic ? sizeof(struct madt_ioapic) + 2 * sizeof(struct madt_iso) : 0) +
	       sizeof(struct madt_lapic_nmi);
}

/* Writes the MADT at m (madt_size bytes). */
static void build_madt(const struct platform *p, struct acpi_header *m)
{
	UINT8 *b = (UINT8 *)m;
	UINTN len = madt_size(p), o = sizeof(*m);
	zero(m, len);
	UINT32 lapic = p->lapic_base, flags = 1; /* PCAT_COMPAT: there are 8259s */
	copy(b + o, &lapic, 4);
	copy(b + o + 4, &flags, 4);
	o += 8;
	for (UINTN i = 0; i < p->ncpu; i++) {
		struct madt_lapic e = { 0, sizeof(e), (UINT8)i, (UINT8)p->apic_id[i],
					p->enabled[i] ? 1u : 0u };
		copy(b + o, &e, sizeof(e));
		o += sizeof(e);
	}
	if (p->ioapic) {
		struct madt_ioapic io = { 1, sizeof(io), p->ioapic_id, 0, IOAPIC_BASE, 0 };
		copy(b + o, &io, sizeof(io));
		o += sizeof(io);
		/* IRQ0 (the PIT) on pin 2; flags 0: the bus's own (edge, high). */
		struct madt_iso irq0 = { 2, sizeof(irq0), 0, 0, 2, 0 };
		copy(b + o, &irq0, sizeof(irq0));
		o += sizeof(irq0);
		/* The SCI: level triggered, active high (polarity 01, trigger 11). */
		struct madt_iso sci = { 2, sizeof(sci), 0, p->sci_irq, p->sci_irq, 0x000d };
		copy(b + o, &sci, sizeof(sci));
		o += sizeof(sci);
	}
	struct madt_lapic_nmi nmi = { 4, sizeof(nmi), 0xff, 0, 1 };
	copy(b + o, &nmi, sizeof(nmi));
	o += sizeof(nmi);
	header(m, "APIC", (UINT32)o, 4);
}

static void build_fadt(const struct platform *p, struct acpi_fadt *f, UINT64 facs, UINT64 dsdt)
{
	zero(f, sizeof(*f));
	f->firmware_ctrl = (UINT32)facs;
	f->dsdt = (UINT32)dsdt;
	f->x_firmware_ctrl = facs;
	f->x_dsdt = dsdt;
	f->sci_int = p->sci_irq;
	f->smi_cmd = 0; /* no SMI command port: already in ACPI mode */
	if (p->pm_base) {
		f->pm1a_evt_blk = p->pm_base;
		f->pm1a_cnt_blk = p->pm_base + 4;
		f->pm_tmr_blk = p->pm_base + 8;
		f->pm1_evt_len = 4;
		f->pm1_cnt_len = 2;
		f->pm_tmr_len = 4;
	}
	f->p_lvl2_lat = 0x0fff; /* no C2 */
	f->p_lvl3_lat = 0x0fff; /* no C3 */
	f->century = 0x32; /* the CMOS century byte */
	f->iapc_boot_arch = BOOT_ARCH_LEGACY_DEVICES | BOOT_ARCH_8042;
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON;
	header(&f->h, "FACP", sizeof(*f), 4);
}

static void build_dsdt(struct acpi_header *d)
{
	copy((UINT8 *)d + sizeof(*d), dsdt_aml, sizeof(dsdt_aml));
	header(d, "DSDT", (UINT32)(sizeof(*d) + sizeof(dsdt_aml)), 2);
}

static void build_facs(struct acpi_facs *f)
{
	zero(f, sizeof(*f));
	copy(f->sig, "FACS", 4);
	f->length = sizeof(*f);
	f->version = 2;
}

/* Pages of type t below 4 GiB (the 32-bit table pointers must reach them). */
static void *alloc_low(EFI_MEMORY_TYPE t, UINTN bytes)
{
	EFI_PHYSICAL_ADDRESS a = 0xffffffffu;
	UINTN pages = (bytes + 4095) / 4096;
	if (EFI_ERROR(uefi_call_wrapper(BS->AllocatePages, 4, AllocateMaxAddress, t, pages, &a)))
		return NULL;
	zero((void *)(UINTN)a, pages * 4096);
	return (void *)(UINTN)a;
}

/* Through EFI_ACPI_TABLE_PROTOCOL: it copies each table and links them. */
static EFI_STATUS install_protocol(const struct platform *p)
{
	EFI_GUID guid = ACPI_TABLE_PROTOCOL_GUID;
	acpi_table_protocol *at = NULL;
	EFI_STATUS s = uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&at);
	if (EFI_ERROR(s)) {
		say("no EFI_ACPI_TABLE_PROTOCOL (status 0x%lx)", s);
		return s;
	}
	static struct acpi_facs facs __attribute__((aligned(64)));
	static UINT8 dsdt_buf[sizeof(struct acpi_header) + sizeof(dsdt_aml)];
	static struct acpi_fadt fadt;
	static UINT8 madt_buf[sizeof(struct acpi_header) + 8 + MAX_CPUS * 8 + 12 + 2 * 10 + 6];
	build_facs(&facs);
	build_dsdt((struct acpi_header *)dsdt_buf);
	build_fadt(p, &fadt, 0, 0); /* the protocol fills in the FACS and DSDT addresses */
	build_madt(p, (struct acpi_header *)madt_buf);
	struct {
		const char *name;
		void *t;
		UINTN len;
	} list[] = { { "FACS", &facs, sizeof(facs) },
		     { "DSDT", dsdt_buf, sizeof(dsdt_buf) },
		     { "FACP", &fadt, sizeof(fadt) },
		     { "APIC", madt_buf, madt_size(p) } };
	for (UINTN i = 0; i < sizeof(list) / sizeof(list[0]); i++) {
		UINTN key = 0;
		s = uefi_call_wrapper(at->InstallAcpiTable, 4, at, list[i].t, list[i].len, &key);
		if (EFI_ERROR(s)) {
			say("error: InstallAcpiTable(%s) failed: status 0x%lx", list[i].name, s);
			return s;
		}
	}
	say("tables installed with EFI_ACPI_TABLE_PROTOCOL");
	return EFI_SUCCESS;
}

/* Without the protocol: RSDP v2 -> XSDT (and RSDT) -> FADT, MADT; FADT -> FACS, DSDT. */
static EFI_STATUS install_by_hand(const struct platform *p)
{
	UINTN madt_len = madt_size(p);
	UINTN o_rsdp = 0, o_xsdt = 64, o_rsdt = 128, o_fadt = 192,
	      o_dsdt = o_fadt + ((sizeof(struct acpi_fadt) + 15) & ~15ul),
	      o_madt = o_dsdt + ((sizeof(struct acpi_header) + sizeof(dsdt_aml) + 15) & ~15ul),
	      total = o_madt + madt_len;
	UINT8 *b = alloc_low(EfiACPIReclaimMemory, total);
	struct acpi_facs *facs = alloc_low(EfiACPIMemoryNVS, sizeof(*facs));
	if (!b || !facs) {
		say("error: no memory below 4 GiB for the tables");
		return EFI_OUT_OF_RESOURCES;
	}
	build_facs(facs);
	struct acpi_header *dsdt = (void *)(b + o_dsdt);
	build_dsdt(dsdt);
	struct acpi_fadt *fadt = (void *)(b + o_fadt);
	build_fadt(p, fadt, (UINTN)facs, (UINTN)dsdt);
	build_madt(p, (struct acpi_header *)(b + o_madt));
	UINT64 x[2] = { (UINTN)fadt, (UINTN)(b + o_madt) };
	struct acpi_header *xsdt = (void *)(b + o_xsdt);
	copy(xsdt + 1, x, sizeof(x));
	header(xsdt, "XSDT", sizeof(*xsdt) + sizeof(x), 1);
	UINT32 r[2] = { (UINT32)x[0], (UINT32)x[1] };
	struct acpi_header *rsdt = (void *)(b + o_rsdt);
	copy(rsdt + 1, r, sizeof(r));
	header(rsdt, "RSDT", sizeof(*rsdt) + sizeof(r), 1);
	struct acpi_rsdp *rsdp = (void *)(b + o_rsdp);
	copy(rsdp->sig, "RSD PTR ", 8);
	copy(rsdp->oem_id, "MICRHV", 6);
	rsdp->revision = 2;
	rsdp->rsdt = (UINT32)(UINTN)rsdt;
	rsdp->length = sizeof(*rsdp);
	rsdp->xsdt = (UINTN)xsdt;
	rsdp->checksum = (UINT8)-sum8(rsdp, 20);
	rsdp->ext_checksum = (UINT8)-sum8(rsdp, sizeof(*rsdp));
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
	EFI_STATUS s = uefi_call_wrapper(BS->InstallConfigurationTable, 2, &acpi20, rsdp);
	if (EFI_ERROR(s)) {
		say("error: InstallConfigurationTable(ACPI 2.0) failed: status 0x%lx", s);
		return s;
	}
	say("tables laid out by hand at 0x%llx (EfiACPIReclaimMemory), FACS at 0x%llx",
	    (unsigned long long)(UINTN)b, (unsigned long long)(UINTN)facs);
	return EFI_SUCCESS;
}

static void *find_rsdp(void)
{
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
	void *t = NULL;
	if (!EFI_ERROR(LibGetSystemConfigurationTable(&acpi20, &t)) && t)
		return t;
	if (!EFI_ERROR(LibGetSystemConfigurationTable(&acpi10, &t)) && t)
		return t;
	return NULL;
}

static int check_table(const char *via, UINT64 addr)
{
	const struct acpi_header *h = (const void *)(UINTN)addr;
	int ok = sum8(h, h->length) == 0;
	say("  %.4s at 0x%llx, %u bytes, revision %u, checksum %s (%s)", h->sig,
	    (unsigned long long)addr, h->length, h->revision, ok ? "ok" : "BAD", via);
	return ok;
}

/* Walks what the configuration table now publishes; returns the bad checksums. */
static int verify(void)
{
	const struct acpi_rsdp *rsdp = find_rsdp();
	if (!rsdp) {
		say("error: no RSDP in the configuration table after installing");
		return 1;
	}
	int bad = 0;
	int ok20 = sum8(rsdp, 20) == 0,
	    okx = rsdp->revision < 2 || sum8(rsdp, rsdp->length) == 0;
	bad += !ok20 + !okx;
	say("RSDP at 0x%llx: revision %u, RSDT 0x%x, XSDT 0x%llx, checksums %s", (unsigned long long)
	    (UINTN)rsdp, rsdp->revision, rsdp->rsdt, (unsigned long long)rsdp->xsdt,
	    ok20 && okx ? "ok" : "BAD");
	if (rsdp->revision < 2 || !rsdp->xsdt) {
		say("error: no XSDT");
		return bad + 1;
	}
	const struct acpi_header *x = (const void *)(UINTN)rsdp->xsdt;
	bad += !check_table("XSDT", rsdp->xsdt);
	UINTN n = (x->length - sizeof(*x)) / 8;
	for (UINTN i = 0; i < n; i++) {
		UINT64 a;
		copy(&a, (const UINT8 *)(x + 1) + 8 * i, 8);
		bad += !check_table("in the XSDT", a);
		const struct acpi_header *t = (const void *)(UINTN)a;
		if (t->sig[0] == 'F' && t->sig[1] == 'A' && t->sig[2] == 'C' && t->sig[3] == 'P') {
			const struct acpi_fadt *f = (const void *)t;
			UINT64 d = f->x_dsdt ? f->x_dsdt : f->dsdt;
			UINT64 c = f->x_firmware_ctrl ? f->x_firmware_ctrl : f->firmware_ctrl;
			if (d)
				bad += !check_table("the FADT's DSDT", d);
			else
				say("error: the FADT names no DSDT"), bad++;
			if (c)
				say("  FACS at 0x%llx (the FADT's), %u bytes", (unsigned long long)c,
				    ((const struct acpi_facs *)(UINTN)c)->length);
			say("  FADT: SCI IRQ %u, PM1a_EVT 0x%x, PM1a_CNT 0x%x, PM_TMR 0x%x", f->sci_int,
			    f->pm1a_evt_blk, f->pm1a_cnt_blk, f->pm_tmr_blk);
		}
	}
	return bad;
}

/* "[ARGV0] KERNEL-PATH -- COMMAND-LINE" -> path, command line (ASCII). */
static void parse_options(EFI_LOADED_IMAGE *li, CHAR16 *path, UINTN path_cap, CHAR16 *cmd,
			  UINTN cmd_cap)
{
	CHAR16 opt[512];
	UINTN n = 0;
	const CHAR16 *lo = li->LoadOptions;
	UINTN lo_n = li->LoadOptions ? li->LoadOptionsSize / sizeof(CHAR16) : 0;
	while (n < lo_n && n < 511 && lo[n])
		opt[n] = lo[n], n++;
	opt[n] = 0;
	/* "--" as a word. */
	UINTN sep = n;
	for (UINTN i = 0; i + 1 < n; i++)
		if (opt[i] == '-' && opt[i + 1] == '-' && (i == 0 || opt[i - 1] == ' ') &&
		    (i + 2 == n || opt[i + 2] == ' ')) {
			sep = i;
			break;
		}
	UINTN cs = 0;
	if (sep < n) {
		/* The kernel path: the last word before "--". */
		UINTN e = sep;
		while (e > 0 && opt[e - 1] == ' ')
			e--;
		UINTN b = e;
		while (b > 0 && opt[b - 1] != ' ')
			b--;
		UINTN k = 0;
		for (UINTN i = b; i < e && k + 1 < path_cap; i++)
			path[k++] = opt[i];
		path[k] = 0;
		cs = sep + 2;
	} else {
		UINTN k = 0;
		for (const char *d = DEFAULT_KERNEL; *d && k + 1 < path_cap; d++)
			path[k++] = (CHAR16)*d;
		path[k] = 0;
		/* Drop the shell's ARGV0 (a word ending in ".efi"). */
		UINTN e = 0;
		while (e < n && opt[e] != ' ')
			e++;
		if (e >= 4 && (opt[e - 1] | 0x20) == 'i' && (opt[e - 2] | 0x20) == 'f' &&
		    (opt[e - 3] | 0x20) == 'e' && opt[e - 4] == '.')
			cs = e;
	}
	while (cs < n && opt[cs] == ' ')
		cs++;
	UINTN k = 0;
	for (UINTN i = cs; i < n && k + 1 < cmd_cap; i++)
		cmd[k++] = opt[i];
	while (k > 0 && cmd[k - 1] == ' ')
		k--;
	cmd[k] = 0;
}

static void ascii(char *dst, UINTN cap, const CHAR16 *src)
{
	UINTN i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = src[i] < 0x80 ? (char)src[i] : '?';
	dst[i] = 0;
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	InitializeLib(image, st);
	payload_serial_init();
	struct cpuid_regs r;
	cpuid_count(1, 0, &r);
	say("started (CPUID.1:ECX.hypervisor=%u)", (r.ecx >> 31) & 1);

	EFI_LOADED_IMAGE *li = NULL;
	EFI_STATUS s = uefi_call_wrapper(BS->HandleProtocol, 3, image, &LoadedImageProtocol,
					 (void **)&li);
	if (EFI_ERROR(s)) {
		say("error: no loaded-image protocol: status 0x%lx", s);
		return s;
	}
	static CHAR16 path[256], cmd[512];
	parse_options(li, path, 256, cmd, 512);
	char a[512];
	ascii(a, sizeof(a), path);
	say("kernel: %s", a);
	ascii(a, sizeof(a), cmd);
	say("command line: %s", a);

	if (find_rsdp()) {
		say("the firmware has ACPI tables already: none added");
	} else {
		static struct platform p;
		find_cpus(&p);
		find_apics(&p);
		find_pm(&p);
		s = install_protocol(&p);
		if (EFI_ERROR(s))
			s = install_by_hand(&p);
		if (EFI_ERROR(s)) {
			say("error: no ACPI tables installed: the kernel will find one CPU");
		} else {
			int bad = verify();
			say("MADT: %llu local APIC(s)%s; %d bad checksum(s)",
			    (unsigned long long)p.ncpu, p.ioapic ? ", I/O APIC" : "", bad);
		}
	}

	EFI_DEVICE_PATH *dp = FileDevicePath(li->DeviceHandle, path);
	EFI_HANDLE child = NULL;
	s = dp ? uefi_call_wrapper(BS->LoadImage, 6, FALSE, image, dp, NULL, 0, &child)
	       : EFI_OUT_OF_RESOURCES;
	if (dp)
		FreePool(dp);
	if (EFI_ERROR(s)) {
		say("error: cannot load the kernel: status 0x%lx", s);
		return s;
	}
	EFI_LOADED_IMAGE *kli = NULL;
	s = uefi_call_wrapper(BS->HandleProtocol, 3, child, &LoadedImageProtocol, (void **)&kli);
	if (EFI_ERROR(s)) {
		say("error: no loaded-image protocol on the kernel: status 0x%lx", s);
		return s;
	}
	kli->LoadOptions = cmd;
	kli->LoadOptionsSize = (UINT32)(StrLen(cmd) + 1) * sizeof(CHAR16);
	say("starting the kernel");
	s = uefi_call_wrapper(BS->StartImage, 3, child, NULL, NULL);
	say("error: the kernel returned status 0x%lx", s);
	return s;
}
