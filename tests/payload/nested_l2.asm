; nested_l2.asm - the L2 code of the nested test hypervisor
; (tests/payload/nested_test.c).
;
; Each blob starts with (or soon reaches) the instruction whose VM exit L1
; checks, marked by a global label, and ends with VMCALL: L1 advances
; GUEST_RIP by the exit's instruction length, resumes, and expects the
; VMCALL exit right after.  Registers are set by L1 (nx_l2_gpr) before the
; entry and read back after the exit.  L2's IDT sends every vector to
; l2_vector_N, which reports it to L1 with VMCALL: R15 = vector, R14 = CR2,
; R13 = the top of the stack (the error code where there is one), R12 =
; the word above it (the RIP of the fault for those).  The 32-bit blobs at
; the end run in L2's 32-bit protected mode with PAE paging.

bits 64
section .text

%macro L2 1
global %1
%1:
%endmacro

align 16
L2 l2_vmcall
	vmcall
L2 l2_nop
	nop
	nop
	vmcall
L2 l2_cpuid
	cpuid
	vmcall
L2 l2_shadow_vmread
	vmread rax, rbx
	pushfq
	pop rdx
	vmcall
L2 l2_shadow_vmread_mem
	vmread [rcx], rbx
	pushfq
	pop rdx
	vmcall
L2 l2_shadow_vmwrite
	vmwrite rbx, rax
	pushfq
	pop rdx
	vmcall
L2 l2_hlt
	hlt
	vmcall
L2 l2_invlpg
	invlpg [rax]
	vmcall
L2 l2_rdtsc
	rdtsc
	vmcall
L2 l2_rdpmc
	rdpmc
	vmcall
L2 l2_invd
	invd
	vmcall
L2 l2_wbinvd
	wbinvd
	vmcall
L2 l2_xsetbv
	xsetbv
	vmcall
L2 l2_monitor
	monitor
	vmcall
L2 l2_mwait
	mwait
	vmcall
L2 l2_pause
	pause
	vmcall
L2 l2_sgdt
	sgdt [rbx]
	vmcall
L2 l2_str
	str eax
	vmcall
; The qword at [rax] into RCX, through L2's TLB (nested_vpid.c).
L2 l2_load
	mov rcx, [rax]
	vmcall
; VMFUNC with L1's EAX and ECX, then the qword at RBX into RCX (nested_vmfunc.c).
L2 l2_vmfunc
	vmfunc
	mov rcx, [rbx]
	vmcall

; CR0: TS owned by L1 (read shadow TS = 1), AM not owned.
L2 l2_cr0
	mov rax, cr0		; sees the shadow's TS
	mov rcx, rax
	btc rcx, 18		; AM only: no exit
	mov cr0, rcx
	mov rbx, rcx
	btr rbx, 3		; TS differs from the shadow: exit
L2 l2_cr0_exit
	mov cr0, rbx
	vmcall

; CR4: VMXE owned by L1 (read shadow VMXE = 0), TSD not owned.
L2 l2_cr4
	mov rax, cr4		; sees the shadow's VMXE
	mov rcx, rax
	btc rcx, 2		; TSD only: no exit
	mov cr4, rcx
	mov rdx, rcx
	bts rdx, 13		; VMXE differs from the shadow: exit
L2 l2_cr4_exit
	mov cr4, rdx
	vmcall

; CR3: CR3-load exiting with CR3_TARGET_VALUE0 = the current CR3.
L2 l2_cr3
	mov rax, cr3
	mov cr3, rax		; a target value: no exit
	mov rdx, rax
	or rdx, 8		; PWT: not a target
L2 l2_cr3_exit
	mov cr3, rdx
	vmcall
L2 l2_cr3_store
	mov rsi, cr3
	vmcall

L2 l2_cr8_load
	mov cr8, rax
	vmcall
L2 l2_cr8_store
	mov rbx, cr8
	vmcall
L2 l2_dr_write
	mov dr0, rbx
	vmcall
L2 l2_dr_read
	mov rcx, dr7
	vmcall

L2 l2_out80
	out 0x80, al
	vmcall
L2 l2_in_dx
	in eax, dx
	vmcall
; I/O bitmaps: port 0x80 clear, port DX set.
L2 l2_io_bitmap
	out 0x80, al
L2 l2_io_bitmap_exit
	in eax, dx
	vmcall

; MSR bitmap: reads and writes of 0x174 exit, 0x175 does not.
L2 l2_msr
	mov ecx, 0x175
	rdmsr
	mov r8d, eax
	mov r9d, edx
	mov ecx, 0x174
L2 l2_rdmsr_exit
	rdmsr
	mov ecx, 0x175
	mov eax, r10d
	xor edx, edx
	wrmsr
	mov ecx, 0x174
L2 l2_wrmsr_exit
	wrmsr
	vmcall

; The preemption timer: L2 counts in RCX until something exits.
L2 l2_spin
	inc rcx
	jmp l2_spin
; ... or runs a while, then CPUID (L1 resumes after it), a while more, VMCALL.
L2 l2_timer_cpuid
	mov ecx, 1000
.before:
	loop .before
	cpuid
L2 l2_timer_cpuid_next
	mov ecx, 1000
.after:
	loop .after
	vmcall
; ... or halts (interrupts off) until the timer wakes it.
L2 l2_timer_hlt
	hlt
L2 l2_timer_hlt_next
	vmcall

L2 l2_ud
	ud2
	vmcall
L2 l2_bp
	int3
	vmcall
L2 l2_pf_write
	mov [rax], rbx
	vmcall
L2 l2_pf_read
	mov rbx, [rax]
	vmcall

; Triple fault: an IDT with limit 0, then an exception.
L2 l2_triple
	lidt [rbx]
	ud2
	vmcall

; The VMX instructions (memory operands at RBX, field in RAX).
L2 l2_vmxon
	vmxon [rbx + 8]
	vmcall
L2 l2_vmxoff
	vmxoff
	vmcall
L2 l2_vmclear
	vmclear [rbx]
	vmcall
L2 l2_vmptrld
	vmptrld [rbx]
	vmcall
L2 l2_vmptrst
	vmptrst [rbx]
	vmcall
L2 l2_vmread
	vmread rcx, rax
	vmcall
L2 l2_vmwrite
	vmwrite rax, [rbx + 16]
	vmcall
L2 l2_vmlaunch
	vmlaunch
	vmcall
L2 l2_vmresume
	vmresume
	vmcall

; RDRAND/RDSEED exiting (SDM 28.2.5: destination register, operand size).
L2 l2_rdrand32
	rdrand eax
	vmcall
L2 l2_rdrand16
	rdrand cx
	vmcall
L2 l2_rdseed64
	rdseed r9
	vmcall

; PAUSE-loop exiting: RCX PAUSEs in a tight loop at CPL 0; RCX left is
; how far it got.
L2 l2_pause_loop
	pause
	dec rcx
	jnz l2_pause_loop
	vmcall

; TPR shadow (SDM 29.3): MOV to CR8 from RAX (44 0F 22 C0), then MOV
; from CR8 to R8 (45 0F 20 C0); the read alone at l2_cr8_read.
L2 l2_cr8_write
	mov cr8, rax
L2 l2_cr8_read
	mov r8, cr8
	vmcall

; APIC virtualization (SDM 29.4, 29.5; nested_apicv.c): a dword read of
; [RBX + RSI] into R8 (44 8B 04 33), a dword write of EAX there (89 04 33);
; RDMSR of ECX into EDX:EAX, WRMSR of ECX from EDX:EAX (0F 32, 0F 30).
L2 l2_apic_read
	mov r8d, [rbx + rsi]
	vmcall
L2 l2_apic_write
	mov [rbx + rsi], eax
	vmcall
L2 l2_msr_read
	rdmsr
	vmcall
L2 l2_msr_write
	wrmsr
	vmcall

; TSC offsetting and scaling: two RDTSCs (R8, R9) and RDMSR of IA32_TSC (R10).
L2 l2_tsc_reads
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r8, rax
	rdtsc
	shl rdx, 32
	or rax, rdx
	mov r9, rax
	mov ecx, 0x10
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov r10, rax
	vmcall

; L2's IDT handlers.
l2_vector_common:
	mov r14, cr2
	mov r13, [rsp]
	mov r12, [rsp + 8]
	vmcall
.stop:	hlt
	jmp .stop

%macro L2_VECTOR 1
l2_vector_%1:
	mov r15d, %1
	jmp l2_vector_common
%endmacro
%assign v 0
%rep 256
L2_VECTOR v
%assign v v + 1
%endrep

; 32-bit protected mode with PAE paging (TSS selectors from nested_env.c).
bits 32
L2 l2_32
	mov esi, [ebx]		; through L2's PAE page tables
L2 l2_32_cpuid
	cpuid
L2 l2_32_jmp
	jmp 0x38:0
	vmcall
L2 l2_32_call
	call 0x38:0
	vmcall
L2 l2_32_iret
	iretd
	vmcall
; MOV to CR3 (EAX) under PAE paging, then VMCALL (nested_ept_paging.c).
L2 l2_32_cr3
	mov cr3, eax
	vmcall

; Real mode under L1's "unrestricted guest" (nested_ug.c): CS's base is
; the page of this code, IP the offset in it; no stack, no data.
bits 16
align 16
L2 l2_real16
	cpuid			; exits (10) in any mode
L2 l2_real16_vmcall
	vmcall
L2 l2_real16_pe
	mov eax, cr0
	or al, 1
	mov cr0, eax		; protected mode: no exit, neither L1 nor L0 owns PE
L2 l2_real16_pe_vmcall
	vmcall

section .data
align 8
global l2_vector_table
l2_vector_table:
%assign v 0
%rep 256
	dq l2_vector_ %+ v
%assign v v + 1
%endrep

section .note.GNU-stack noalloc noexec nowrite progbits
