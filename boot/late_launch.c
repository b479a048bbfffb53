/*
 * late_launch.c - the loader turns every CPU into L1 (docs/design.md).
 *
 * The core does the VMX work; the loader only provides what the firmware
 * owns: the calling context (its stack and a continuation in its own code,
 * boot/launch.asm) and EFI_MP_SERVICES_PROTOCOL to run that on each AP.
 * The APs run one at a time (SingleThread), so their launches do not
 * interleave on the serial line.  An AP procedure must not call boot
 * services or the loader's console mirror: it only records its result.
 */
#include "loader.h"

#include "arch/x86/cpu.h"
#include "drivers/serial/log.h"
#include "vmx/cpuid_policy.h"

int launch_this_cpu_as_l1(uint64_t core_launch, void *unused);

#define MAX_AP_RESULTS 256

static struct {
	uint64_t entry;
	volatile uint32_t count;
	int rc[MAX_AP_RESULTS];
} g_ap;

static void EFIAPI ap_procedure(void *arg)
{
	(void)arg;
	int rc = launch_this_cpu_as_l1(g_ap.entry, NULL);
	uint32_t i = __atomic_fetch_add(&g_ap.count, 1, __ATOMIC_RELAXED);
	if (i < MAX_AP_RESULTS)
		g_ap.rc[i] = rc;
}

static unsigned launch_aps(void)
{
	EFI_GUID guid = EFI_MP_SERVICES_PROTOCOL_GUID;
	EFI_MP_SERVICES_PROTOCOL *mp;
	if (EFI_ERROR(uefi_call_wrapper(BS->LocateProtocol, 3, &guid, NULL, (void **)&mp)))
		return 0;
	EFI_STATUS s = uefi_call_wrapper(mp->StartupAllAPs, 7, mp, ap_procedure, TRUE, NULL, 0,
					 NULL, NULL);
	if (s == EFI_NOT_STARTED)
		return 0; /* no enabled AP */
	if (EFI_ERROR(s))
		log_error("MP services could not run the launch on the APs: %s", efi_status_name(s));
	unsigned ok = 0;
	uint32_t n = g_ap.count < MAX_AP_RESULTS ? g_ap.count : MAX_AP_RESULTS;
	for (uint32_t i = 0; i < n; i++) {
		if (g_ap.rc[i] == 0)
			ok++;
		else
			log_error("an AP failed its launch (code %d): it runs without the hypervisor",
				  g_ap.rc[i]);
	}
	return ok;
}

/* What L1 sees now: the hypervisor's CPUID leaf (cpuid_policy.h). */
static void check_from_l1(void)
{
	struct cpuid_regs r;
	cpuid_count(CPUID_HV_BASE, 0, &r);
	char sig[13];
	const uint32_t w[3] = { r.ebx, r.ecx, r.edx };
	for (int i = 0; i < 12; i++) {
		char ch = (char)(w[i / 4] >> (8 * (i % 4)));
		sig[i] = ch >= 0x20 && ch < 0x7f ? ch : 0;
	}
	sig[12] = 0;
	struct cpuid_regs one;
	cpuid_count(1, 0, &one);
	log_info("L1 check: CPUID 0x40000000 max leaf 0x%x signature \"%s\", CPUID.1:ECX "
		 "hypervisor=%u VMX=%u",
		 r.eax, sig, (one.ecx >> 31) & 1, (one.ecx >> 5) & 1);
}

unsigned late_launch(const struct boot_info *bi)
{
	uint64_t entry = bi->launch_entry;
	uint32_t cpus = bi->cpu_enabled ? bi->cpu_enabled : 1;
	if (!entry) {
		log_warn("late launch skipped (see the core's messages): the next stage runs "
			 "without the hypervisor");
		return 0;
	}
	/* From here on, bi is L0 memory: not to be touched by L1. */
	int rc = launch_this_cpu_as_l1(entry, NULL);
	if (rc != 0) {
		log_error("late launch failed on the BSP (code %d): the next stage runs without "
			  "the hypervisor",
			  rc);
		return 0;
	}
	log_info("late launch: the BSP now runs as L1");
	g_ap.entry = entry;
	unsigned launched = 1 + launch_aps();
	log_info("late launch: %u of %u CPUs run as L1 under microhv", launched, cpus);
	check_from_l1();
	return launched;
}
