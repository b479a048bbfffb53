/*
 * vmentry.c - L1's VMLAUNCH and VMRESUME: from vmcs01 to vmcs02 (run.h).
 *
 * The order is SDM Vol. 3C 31.3 "VMLAUNCH/VMRESUME" (operation section):
 * the instruction's own checks and those of 27.1-27.2 (nested_vmentry_begin:
 * #UD, #GP, VMfail 26/4/5/7/8); the guest-state checks of 27.3.1, then the
 * PDPTEs (27.3.1.6) and the VM-entry MSR-load area (27.4), whose failures
 * are VM-entry failures reported to L1 as exits with bit 31 set (27.8);
 * only then "launched".  vmcs02 is built between the guest-state checks
 * and the PDPTEs, so that they and the MSR loads land in it.  Before all
 * that, what L1 wrote into its shadow VMCS is copied back into vmcs12
 * (shadow_vmcs.h); a clean VMRESUME (clean_resume below) then checks only
 * what changed and refreshes vmcs02, every other entry first completes
 * vmcs12's lazy fields (sync12.h) and rebuilds vmcs02 whole.
 */
#include "run.h"

#include "arch/x86/msr.h"
#include "drivers/serial/log.h"
#include "mm/page_alloc.h"
#include "nested/entry_checks.h"
#include "nested/ept12.h"
#include "nested/msr_lists.h"
#include "nested/msr_merge.h"
#include "nested/prepare02.h"
#include "nested/shadow12.h"
#include "nested/shadow_vmcs.h"
#include "nested/wait_sipi.h"
#include "vmx/console.h"
#include "vmx/ept01.h"
#include "vmx/exit.h"
#include "vmx/hw_ops.h"
#include "vmx/l0.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs01.h"
#include "vmx/vmx_arch.h"
#include "vmx/vmx_names.h"

#define F(name) VMCS12_FIELD(v12, name)

/* Qualification 2 of exit reason 33: the PDPTEs (SDM Vol. 3C 27.8). */
#define NENTRY_QUAL_PDPTE 2

struct nested_vcpu *nested_vcpu_alloc(void)
{
	/* The state itself, the vmcs12 cache, vmcs02, the bitmaps and L1's copies. */
	enum { NV, V12, VMCS02, MSR02, IO02, MSR12, IO12, VMREAD12, VMWRITE12, SHADOW, NPARTS };
	const uint64_t count[NPARTS] = {
		(sizeof(struct nested_vcpu) + PAGE_SIZE - 1) / PAGE_SIZE, 1, 1, 1, 2, 1, 2, 1, 1, 1,
	};
	uint64_t pa[NPARTS] = { 0 };
	bool ok = true;
	spin_lock(&g_l0.lock);
	for (unsigned i = 0; i < NPARTS && ok; i++)
		ok = (pa[i] = page_alloc(g_l0.pages, count[i], 1)) != 0;
	if (!ok)
		for (unsigned i = 0; i < NPARTS; i++)
			if (pa[i])
				page_free(g_l0.pages, pa[i], count[i]);
	spin_unlock(&g_l0.lock);
	if (!ok)
		return NULL;
	struct nested_vcpu *nv = (struct nested_vcpu *)(uintptr_t)pa[NV];
	nv->cpu.vmcs12 = (struct vmcs12 *)(uintptr_t)pa[V12];
	nv->cpu.current_vmptr = VMPTR_INVALID;
	nv->vmcs02_pa = pa[VMCS02];
	nv->vmcs02_for = VMPTR_INVALID;
	nv->msr_bitmap02_pa = pa[MSR02];
	nv->io_bitmap02_pa = pa[IO02];
	nv->msr_bitmap12_copy_pa = pa[MSR12];
	nv->io_bitmap12_copy_pa = pa[IO12];
	nv->vmread_bitmap12_copy_pa = pa[VMREAD12];
	nv->vmwrite_bitmap12_copy_pa = pa[VMWRITE12];
	*(volatile uint32_t *)(uintptr_t)pa[VMCS02] = vmx_caps_revision(&g_l0.caps);
	/* L1's shadow VMCS, where the machine shadows vmcs12 (nested/shadow_vmcs.h). */
	nv->shadow_for = VMPTR_INVALID;
	if (g_l0.shadow_set.count) {
		nv->shadow_pa = pa[SHADOW];
		*(volatile uint32_t *)(uintptr_t)pa[SHADOW] =
			vmx_caps_revision(&g_l0.caps) | VMCS_SHADOW_INDICATOR;
	}
	if (!ept02_init(&nv->ept02, g_l0.pages, &g_l0.lock, EPT02_MAX_PAGES)) {
		spin_lock(&g_l0.lock);
		for (unsigned i = 0; i < NPARTS; i++)
			page_free(g_l0.pages, pa[i], count[i]);
		spin_unlock(&g_l0.lock);
		return NULL;
	}
	return nv;
}

/* L1's CR0/CR4 as L1 sees them: vmcs01's register merged with its shadow. */
static uint64_t l1_view(uint32_t reg, uint32_t mask, uint32_t shadow)
{
	uint64_t m = vmcs_read(mask);
	return (vmcs_read(reg) & ~m) | (vmcs_read(shadow) & m);
}

/*
 * What the instruction emulation needs, from vmcs01 (current).  L1's CR0
 * and CR4 views only where asked (VMXON's checks use them; an entry does
 * not: 0 there).
 */
static void env_of_l1(struct vcpu *v, struct nested_env *env, bool crs)
{
	env->invept = nested_ept_invept;
	env->invept_ctx = v;
	env->l1_caps = &g_l0.l1_vmx;
	env->mem = l0_l1_memory();
	env->l1_cr0 = crs ? l1_view(VMCS_GUEST_CR0, VMCS_CR0_GUEST_HOST_MASK, VMCS_CR0_READ_SHADOW)
			  : 0;
	env->l1_cr4 = crs ? l1_view(VMCS_GUEST_CR4, VMCS_CR4_GUEST_HOST_MASK, VMCS_CR4_READ_SHADOW)
			  : 0;
}

/*
 * SDM Vol. 3C 27.8: a VM-entry failure after the VMfail checks exits to L1.
 * One info line names the check that failed and its SDM section: L1 sees
 * only a reason and a qualification, and whoever debugs L1 wants the rest
 * (and the system test tells L0's refusals from the CPU's by it).
 */
static void entry_failure(struct vcpu *v, struct guest_regs *r, uint32_t basic, uint64_t qual,
			  const char *what, const char *sdm)
{
	log_info("nested: CPU %u: VM entry to L2 failed, exit reason %u (%s) qualification %llu: "
		 "%s (%s)",
		 v->index, basic, vmx_exit_reason_name(basic), (unsigned long long)qual, what, sdm);
	nested_fail_entry(v, r, basic | EXIT_REASON_FAILED_ENTRY, qual);
}

void nested_fail_entry(struct vcpu *v, struct guest_regs *r, uint32_t reason, uint64_t qual)
{
	struct nested_vcpu *nv = v->nested;
	/* Only the exit reason and qualification change (27.8 step 1). */
	vmcs12_set(nv->cpu.vmcs12, VMCS_VM_EXIT_REASON, reason);
	vmcs12_set(nv->cpu.vmcs12, VMCS_EXIT_QUALIFICATION, qual);
	nv->entry_failures++;
	nested_exit_to_l1(v, r, false);
}

void nested_abandon_vmcs02(struct vcpu *v)
{
	struct nested_vcpu *nv = v->nested;
	nv->vmcs02_for = VMPTR_INVALID;
	if (nv->launch_pending)
		nv->cpu.vmcs12->launch_state = VMCS12_LAUNCH_CLEAR;
	hw_vmptrld(v->vmcs01_pa);
	nv->in_l2 = false;
}

/*
 * The guest of the current VMCS reads and writes its MSRs through L0's
 * MSR table (vmx/msr_policy.h): those a VMCS switches in its guest
 * fields, each checked as WRMSR checks it.
 */
static bool msr_read_current(void *ctx, uint32_t msr, uint64_t *value)
{
	return vmx_msr_read_for_guest(ctx, msr, value);
}

static bool msr_write_current(void *ctx, uint32_t msr, uint64_t value)
{
	return vmx_msr_write_for_guest(ctx, msr, value);
}

struct nested_msr_ops nested_msr_ops_current(struct vcpu *v)
{
	return (struct nested_msr_ops){ msr_read_current, msr_write_current, v };
}

/*
 * What L0 adds to vmcs02, taken from vmcs01 while it is current: L1's
 * EFER/PAT/DR7/DEBUGCTL (for what L1's entry controls do not load), and
 * whether L0's console ticks on this CPU (preemption timer, I/O bitmaps).
 */
struct l0_extras {
	struct vmcs02_l0 l0;
	bool timer;
	uint64_t io_a, io_b; /* L0's own I/O bitmaps; 0: none */
};

/*
 * vmcs02 takes L1's TSC offset and multiplier as they are (prepare02.c),
 * which is right only while L0 leaves L1's TSC alone: no offsetting or
 * RDTSC exiting of its own in vmcs01 (nor scaling: vmx/launch.c never
 * asks for it), nor PAUSE exiting (a PAUSE exit from L2 is then always
 * L1's, nested/reflect.c).  The secondary controls L0 adds to vmcs02 are
 * EPT and VPID only (.proc2 0 below).
 */
_Static_assert(!(L0_PROC_WANTED & (CPU_USE_TSC_OFFSETTING | CPU_RDTSC_EXITING | CPU_PAUSE_EXITING)),
	       "L0 must not offset or trap L1's TSC, nor trap PAUSE");

static void l0_extras_of_vmcs01(struct vcpu *v, struct l0_extras *x)
{
	struct nested_vcpu *nv = v->nested;
	*x = (struct l0_extras){ 0 };
	x->l0 = (struct vmcs02_l0){
		.hw = &g_l0.caps,
		.l1 = &g_l0.l1_vmx,
		.pin = g_l0.pin,
		.proc = g_l0.proc,
		.proc2 = 0, /* "enable" bits are L1's to give L2; EPT and VPID come with prepare02 */
		.exit = g_l0.exit,
		.cr0_mask = g_l0.cr0_mask,
		.cr4_mask = g_l0.cr4_mask,
		.eptp = g_l0.eptp,
		.vpid = 0, /* vmentry: nested_vpid_entry */
		.msr_bitmap = nv->msr_bitmap02_pa,
		.l1_efer = vmcs_read(VMCS_GUEST_IA32_EFER),
		.l1_pat = vmcs_read(VMCS_GUEST_IA32_PAT),
		.l1_dr7 = vmcs_read(VMCS_GUEST_DR7),
		.l1_debugctl = vmcs_read(VMCS_GUEST_IA32_DEBUGCTL),
	};
	x->l0.msr_load_count = msr_switch_areas(&g_l0.msr, &v->msrs, &x->l0.msr_entry_load,
						 &x->l0.msr_exit_load);
	x->timer = vmcs_read(VMCS_PIN_BASED_VM_EXEC_CONTROL) & PIN_PREEMPTION_TIMER;
	if (!l0_console_io_bitmaps(&x->io_a, &x->io_b))
		x->io_a = x->io_b = 0;
}

/*
 * L1's I/O bitmap pages, when it uses them, are pages L0 can read as L1's
 * memory.  SDM 27.2.1.1 accepts any aligned address within MAXPHYADDR, but
 * the CPU reads vmcs02's bitmap addresses as host-physical: a page that is
 * not L1's (L0's own, beyond L0's map) is never handed to it.  vmcs02 then
 * uses L0's copy, where such a page reads as all ones: every port in it
 * exits to L1.
 */
static bool l1_io_bitmaps_readable(const struct vmcs12 *v12, const struct l1_memory *mem,
				   bool launch)
{
	if (!(F(CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_IO_BITMAPS))
		return true;
	const uint64_t page[2] = { F(IO_BITMAP_A), F(IO_BITMAP_B) };
	bool ok = true;
	for (unsigned i = 0; i < 2; i++) {
		uint8_t byte;
		if (mem->read(mem->ctx, page[i], &byte, 1))
			continue;
		ok = false;
		if (launch)
			log_warn("nested: L1's I/O bitmap %c at 0x%llx is not L1's memory: every port "
				 "in it exits to L1",
				 'A' + i, (unsigned long long)page[i]);
	}
	return ok;
}

/* The same for the MSR bitmap, which vmcs02 always has as L0's merge. */
static void l1_msr_bitmap_check(const struct vmcs12 *v12, const struct l1_memory *mem,
				bool launch)
{
	uint8_t byte;
	if (launch && (F(CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_MSR_BITMAPS) &&
	    !mem->read(mem->ctx, F(MSR_BITMAP), &byte, 1))
		log_warn("nested: L1's MSR bitmap at 0x%llx is not L1's memory: every MSR exits "
			 "to L1",
			 (unsigned long long)F(MSR_BITMAP));
}

/*
 * vmcs02's MSR bitmap.  Without L1's MSR bitmaps every MSR exits to L1:
 * all ones, whatever L0's bitmap and L1's memory hold - written once, not
 * per entry.  With them, L1's page is copied at every entry (L1 may have
 * changed it; exits are decided from the copy), but only where L0 passes
 * an MSR through does L1's bit matter to the CPU: those bytes are merged
 * again, the rest of vmcs02's page is L0's, written once.  Where L0
 * passes too many MSRs for that list, the whole page is merged.
 */
static void merge_msr_bitmap(struct nested_vcpu *nv, const struct vmcs12 *v12,
			     const struct l1_memory *mem)
{
	uint8_t *out = (uint8_t *)(uintptr_t)nv->msr_bitmap02_pa;
	uint8_t *copy = (uint8_t *)(uintptr_t)nv->msr_bitmap12_copy_pa;
	const uint8_t *l0 = (const uint8_t *)(uintptr_t)g_l0.msr_bitmap_pa;
	bool l1_msr_bitmaps = F(CPU_BASED_VM_EXEC_CONTROL) & CPU_USE_MSR_BITMAPS;
	if (!l1_msr_bitmaps) {
		if (nv->msr02 != MSR02_ALL_ONES)
			nested_merge_msr_bitmap(out, copy, l0, false, 0, mem);
		nv->msr02 = MSR02_ALL_ONES;
	} else if (g_l0.msr_pass.all) {
		nested_merge_msr_bitmap(out, copy, l0, true, F(MSR_BITMAP), mem);
		nv->msr02 = MSR02_NONE;
	} else {
		nv->msr02 = nested_merge_msr_bitmap_pass(out, copy, l0, &g_l0.msr_pass,
							 nv->msr02 == MSR02_PASS, F(MSR_BITMAP), mem)
				    ? MSR02_PASS
				    : MSR02_ALL_ONES;
	}
}

/* L0's needs that are not control bits: its console's ports and timer (with L1's). */
static void apply_l0_extras(struct nested_vcpu *nv, const struct vmcs12 *v12,
			    const struct l0_extras *x, bool launch)
{
	uint8_t *io = (uint8_t *)(uintptr_t)nv->io_bitmap02_pa;
	const struct l1_memory *mem = l0_l1_memory();
	bool readable = l1_io_bitmaps_readable(v12, mem, launch); /* logs, whatever L0 needs */
	nv->io_merged = x->io_a || !readable;
	if (nv->io_merged) {
		nested_merge_io_bitmaps(io, (uint8_t *)(uintptr_t)nv->io_bitmap12_copy_pa,
					(const uint8_t *)(uintptr_t)x->io_a,
					(const uint8_t *)(uintptr_t)x->io_b,
					(uint32_t)F(CPU_BASED_VM_EXEC_CONTROL), F(IO_BITMAP_A),
					F(IO_BITMAP_B), mem);
		vmcs_write(VMCS_IO_BITMAP_A, nv->io_bitmap02_pa);
		vmcs_write(VMCS_IO_BITMAP_B, nv->io_bitmap02_pa + PAGE_SIZE);
		vmcs_set_bits(VMCS_CPU_BASED_VM_EXEC_CONTROL, CPU_USE_IO_BITMAPS);
	}
	/* vmcs02's one preemption timer: L1's, L0's console tick, or the sooner. */
	nested_timer_enter(&nv->timer, v12, x->timer, l0_console_timer_value());
}

/*
 * The clean VMRESUME: L1 resumes the vmcs12 whose L2 exited to it last,
 * on the vmcs02 that ran it, with no VMCLEAR, VMPTRLD, VMXOFF or VMXON in
 * between, and EPT01 is as at the last full entry (the APIC-access check
 * reads it).  vmcs02 then holds everything but the dirty groups (vmx/
 * vmcs_fields.h) of what L1 wrote since - through its shadow VMCS or the
 * emulated VMWRITE - and the exit itself changed only what the CPU saved,
 * which vmcs02 holds: the entry checks and rewrites those groups alone.
 * The CPU checks vmcs02 at its VM entry as always: a state it saved and
 * refuses reaches L1 as that VM-entry failure (nested/vmexit.c).
 */
static bool clean_resume(const struct nested_vcpu *nv, bool launch)
{
	return !launch && nv->clean && nv->vmcs02_for == nv->cpu.current_vmptr &&
	       nv->clean_gen == ept01_generation();
}

/*
 * dirty: the groups (VMCS_DIRTY bits) this entry checks and writes to
 * vmcs02; with CONTROL, all of them: a full entry.
 */
static void vmentry(struct vcpu *v, struct guest_regs *r, bool launch, unsigned dirty)
{
	struct nested_vcpu *nv = v->nested;
	struct nested_env env;
	bool full = dirty & VMCS_DIRTY(VMCS_DG_CONTROL);
	bool guest = dirty & VMCS_DIRTY(VMCS_DG_GUEST);
	env_of_l1(v, &env, false);
	/* vmcs12 whole, for the guest checks and the rebuild of vmcs02 (sync12.h). */
	if (guest)
		nested_complete_vmcs12(v);
	if (!nested_vmentry_begin(&nv->cpu, &env, launch, dirty))
		return;
	struct vmcs12 *v12 = nv->cpu.vmcs12;

	/*
	 * SDM Vol. 3C 27.3.1: the guest-state area; without GUEST dirty only
	 * RIP's checks (RIP) and those that involve the event (EVENT).
	 */
	struct nested_entry_check c = NENTRY_PASS;
	if (guest) {
		c = nested_check_guest_state(v12, env.l1_caps, env.mem->maxphyaddr);
		/* The last of 27.3.1.5: the VMCS the link pointer names, read once (shadow12.h). */
		if (c.result == NENTRY_OK)
			c = nested_check_link_pointer(v12, env.l1_caps, env.mem,
						      nv->cpu.current_vmptr);
	} else {
		if (dirty & VMCS_DIRTY(VMCS_DG_RIP))
			c = nested_check_guest_rip(v12, env.l1_caps);
		if (c.result == NENTRY_OK && (dirty & VMCS_DIRTY(VMCS_DG_EVENT)))
			c = nested_check_guest_event(v12, env.l1_caps);
	}
	if (c.result != NENTRY_OK) {
		entry_failure(v, r, EXIT_REASON_INVALID_GUEST_STATE, c.qualification, c.what,
			      c.sdm);
		return;
	}

	struct l0_extras x;
	l0_extras_of_vmcs01(v, &x);
	/* Nested EPT: vmcs02 runs L2 on EPT02, L0's shadow of EPT12 (nested/ept12.h). */
	if (nested_ept12_enabled(v12)) {
		x.l0.eptp = nested_ept_eptp02(v, F(EPT_POINTER));
		if (!x.l0.eptp) {
			entry_failure(v, r, EXIT_REASON_INVALID_GUEST_STATE, 0,
				      "L0 has no page for the EPT02 root", "-");
			return;
		}
	}
	/* L2's VPID: vmcs12's mapped to one of L0's, or L2_VPID flushed (nested/vpid.h). */
	if (g_l0.vpid)
		x.l0.vpid = nested_vpid_entry(&nv->cpu.vpid, v12);
	l1_msr_bitmap_check(v12, env.mem, launch);
	merge_msr_bitmap(nv, v12, env.mem);
	/* L2's VMREAD/VMWRITE are decided from these copies (nested/shadow12.h). */
	nested_copy_shadow_bitmaps(v12, env.mem, (uint8_t *)(uintptr_t)nv->vmread_bitmap12_copy_pa,
				   (uint8_t *)(uintptr_t)nv->vmwrite_bitmap12_copy_pa);
	/* vmcs02 is launched afresh for VMLAUNCH and for another vmcs12 than last time. */
	bool hw_launch = launch || nv->vmcs02_for != nv->cpu.current_vmptr;
	if (hw_launch) {
		hw_vmclear(nv->vmcs02_pa);
		nv->vmcs02_for = VMPTR_INVALID;
	}
	hw_vmptrld(nv->vmcs02_pa);
	if (full) {
		nested_prepare_vmcs02(v12, &x.l0, &nv->cr);
		nested_sync_plan(v12, g_l0.l1_features, &nv->sync_plan);
		nv->clean_gen = ept01_generation();
	} else {
		nested_refresh_vmcs02(v12, &x.l0, &nv->l0_last, dirty, &nv->cr);
		nv->clean_entries++;
	}
	nv->l0_last = x.l0;
	/* L0's host state stays in vmcs02 until the next VMCLEAR. */
	if (hw_launch)
		vmcs_write_host_state(v);
	apply_l0_extras(nv, v12, &x, launch);

	/* SDM 27.3.1.6: the PDPTEs of a PAE-paging L2. */
	if (!nested_load_l2_pdptes(v12, env.mem, nested_ept12_enabled(v12))) {
		hw_vmptrld(v->vmcs01_pa);
		entry_failure(v, r, EXIT_REASON_INVALID_GUEST_STATE, NENTRY_QUAL_PDPTE,
			      "a PDPTE at GUEST_CR3 is unreadable or sets a reserved bit",
			      "SDM 27.3.1.6");
		return;
	}
	/* SDM 27.4: the VM-entry MSR-load area, into L2's MSRs (vmcs02 current). */
	const struct nested_msr_ops msr_ops = nested_msr_ops_current(v);
	uint32_t bad = nested_msr_list(NMSR_ENTRY_LOAD, F(VM_ENTRY_MSR_LOAD_ADDR),
				       (uint32_t)F(VM_ENTRY_MSR_LOAD_COUNT),
				       VMX_MISC_MAX_MSR_LIST(g_l0.l1_vmx.misc), env.mem,
				       &msr_ops);
	if (bad) {
		hw_vmptrld(v->vmcs01_pa);
		entry_failure(v, r, EXIT_REASON_MSR_LOADING, bad,
			      "an entry of the VM-entry MSR-load area failed", "SDM 27.4");
		return;
	}

	nv->launch_pending = launch;
	if (launch)
		v12->launch_state = VMCS12_LAUNCH_LAUNCHED;
	nv->vmcs02_for = nv->cpu.current_vmptr;
	nv->in_l2 = true;
	nv->entries++;
	/* What this entry checked and wrote is clean now; a VMfail or failed entry keeps it dirty. */
	nv->last_entry_dirty = dirty;
	nv->cpu.dirty12 = 0;
	v->enter_launch = hw_launch;
	/*
	 * SDM Vol. 3C 27.7.2: the entry ends in wait-for-SIPI (no event may be
	 * injected there, 27.3.1.5): L0 holds the CPU instead of entering
	 * vmcs02 in that state (nested/wait_sipi.h).
	 */
	if (F(GUEST_ACTIVITY_STATE) == GUEST_ACTIVITY_WAIT_SIPI)
		nested_wait_sipi_begin(v);
}

/* The dirty groups of the fields L1 changed through the shadow (bits of g_l0.shadow_set). */
static uint32_t shadow_dirty(uint32_t changed)
{
	uint32_t dirty = 0;
	for (; changed; changed &= changed - 1) {
		unsigned k = (unsigned)__builtin_ctz(changed);
		dirty |= VMCS_DIRTY(vmcs_field_table[g_l0.shadow_set.idx[k]].dirty);
	}
	return dirty;
}

void nested_vmx_instruction(struct vcpu *v, struct guest_regs *r, uint32_t reason)
{
	/*
	 * These use vmcs12 as a whole: what L1 wrote into the shadow VMCS
	 * first (nested/shadow_vmcs.h).  The others never touch an RW
	 * shadowed field: L1's own VMREAD/VMWRITE of one does not exit.
	 */
	struct nested_vcpu *nv = v->nested;
	uint64_t reads0, writes0, reads, writes;
	vmcs_access_counts(&reads0, &writes0);
	uint32_t copied = 0;
	switch (reason) {
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMRESUME:
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMXOFF:
		copied = nested_shadow_from_l1(v);
		nv->cpu.dirty12 |= shadow_dirty(copied);
	}
	/*
	 * What needs vmcs12 whole: the lazy fields first (a VMREAD of one, a
	 * VMWRITE that must not be undone by the rebuild, a VMCS written back
	 * to L1's memory).  A VMWRITE marks its field's group dirty
	 * (insn_emul.c); what changes the current vmcs12 or L1's VMX
	 * operation ends the clean state (clean_resume).
	 */
	switch (reason) {
	case EXIT_REASON_VMREAD:
	case EXIT_REASON_VMWRITE:
		nested_complete_vmcs12(v);
		break;
	case EXIT_REASON_VMCLEAR:
	case EXIT_REASON_VMPTRLD:
	case EXIT_REASON_VMXOFF:
	case EXIT_REASON_VMXON:
		nested_complete_vmcs12(v);
		nv->clean = false;
		break;
	}
	switch (reason) {
	case EXIT_REASON_VMLAUNCH:
	case EXIT_REASON_VMRESUME: {
		bool launch = reason == EXIT_REASON_VMLAUNCH;
		unsigned dirty = clean_resume(nv, launch) ? nv->cpu.dirty12 : VMCS_DIRTY_ALL;
		if (dirty & VMCS_DIRTY(VMCS_DG_CONTROL))
			dirty = VMCS_DIRTY_ALL;
		/* A failed entry returns through nested_exit_to_l1; a VMfail changes no shadowed field. */
		vmentry(v, r, launch, dirty);
		if (nv->in_l2) {
			vmcs_access_counts(&reads, &writes);
			nv->last_entry_vmreads = reads - reads0;
			nv->last_entry_vmwrites = writes - writes0;
			nv->last_entry_copied_back = nested_shadow_count(copied);
		}
		return;
	}
	}
	struct nested_env env;
	env_of_l1(v, &env, reason == EXIT_REASON_VMXON);
	if (!nested_emulate_vmx_insn(&v->nested->cpu, &env, r, reason))
		vmx_inject_ud();
	/* A new current vmcs12, none, or an emulated VMWRITE of a read-only shadowed field. */
	nested_shadow_to_l1(v);
}

void nested_vmcs02_entry_failed(struct vcpu *v, bool cf)
{
	struct nested_vcpu *nv = v->nested;
	uint32_t err = cf ? 0 : (uint32_t)vmcs_read(VMCS_VM_INSTRUCTION_ERROR);
	log_error("nested: CPU %u: the CPU refused vmcs02 (%s %u: %s) that L0 built from a vmcs12 "
		  "its checks passed: L1 gets the same VMfail",
		  v->index, cf ? "VMfailInvalid" : "VMfailValid", err,
		  cf ? "-" : vmx_instruction_error_name(err));
	hw_vmclear(nv->vmcs02_pa);
	nested_abandon_vmcs02(v);
	/* vmcs01's exit information is still that of L1's VMLAUNCH/VMRESUME. */
	nested_vm_fail(&nv->cpu, cf ? 0 : err);
	v->enter_launch = false;
}
