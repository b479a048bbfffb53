; hostile_asm.asm - the hostile L1's assembly (tests/payload/hostile.c):
; probes whose instruction may fault, L1's NMI handler, and the L2 code of
; the attacks through L2.
;
; Probes return 0, or NX_FAULT (bit 63) | vector as nested_vmx.asm's do.
; hx_gp_handler and hx_ud_handler sit in L1's IDT in front of the nested
; test's stubs (nested_vmx.asm): a fault at an instruction of hx_fixups
; resumes at its pair's address with nx_fault_vector/nx_fault_error set;
; any other goes on to the nested test's stub, which ends the run.

bits 64
default rel
section .text

global hx_read64, hx_write64, hx_mov_cr4, hx_in8, hx_in16, hx_in32, hx_out8, hx_out32
global hx_nmi_sti, hx_nmi_movss, hx_nmi_sti_hlt, hx_nmi_movss_hlt
global hx_nmi_handler, hx_gp_handler, hx_ud_handler
global hx_nmi_count, hx_nmi_count_in_handler, hx_nmi_rip, hx_nmi_resend_icr
global hx_nmi_resend_value
extern nx_fault_vector, nx_fault_error, nx_exc_stub_table, nx_ss_sel

%macro FAULTED 0
	mov eax, [nx_fault_vector]
	bts rax, 63
%endmacro

; uint64_t hx_read64(uint64_t pa, uint64_t *value)
hx_read64:
.insn:	mov rax, [rdi]
	mov [rsi], rax
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; uint64_t hx_write64(uint64_t pa, uint64_t value)
hx_write64:
.insn:	mov [rdi], rsi
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; uint64_t hx_mov_cr4(uint64_t value)
hx_mov_cr4:
.insn:	mov cr4, rdi
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; Port I/O with the port in DX (so that any port and any size can be named).
hx_in8:
	mov edx, edi
	xor eax, eax
	in al, dx
	ret
hx_in16:
	mov edx, edi
	xor eax, eax
	in ax, dx
	ret
hx_in32:
	mov edx, edi
	in eax, dx
	ret
hx_out8:
	mov edx, edi
	mov eax, esi
	out dx, al
	ret
hx_out32:
	mov edx, edi
	mov eax, esi
	out dx, eax
	ret

; void hx_nmi_sti(volatile uint32_t *icr_low, uint32_t value): the store
; that sends the NMI executes in the STI shadow; then HLT with IF = 1.
; The NMI handler steps over a HLT it interrupts before it ran.
hx_nmi_sti:
	sti
	mov [rdi], esi
hx_nmi_sti_hlt:
	hlt
	cli
	ret

; void hx_nmi_movss(volatile uint32_t *icr_low, uint32_t value): the store
; executes in the MOV-SS shadow; then STI; HLT.
hx_nmi_movss:
	mov ss, [nx_ss_sel]
	mov [rdi], esi
	sti
hx_nmi_movss_hlt:
	hlt
	cli
	ret

; L1's NMI handler (IDT vector 2): counts, records the interrupted RIP
; (the first two), steps over a HLT at it, and sends one more NMI from
; inside itself when hx_nmi_resend_icr is set (that one must wait for
; this handler's IRET: SDM Vol. 3A 6.7.1, NMI blocking).
hx_nmi_handler:
	push rax
	push rcx
	push rdx
	mov rax, [rsp + 24]
	mov ecx, [hx_nmi_count]
	cmp ecx, 2
	jae .counted
	lea rdx, [hx_nmi_rip]
	mov [rdx + 8 * rcx], rax
.counted:
	inc dword [hx_nmi_count]
	cmp byte [rax], 0xf4
	jne .resend
	inc qword [rsp + 24]
.resend:
	mov rax, [hx_nmi_resend_icr]
	test rax, rax
	jz .out
	mov qword [hx_nmi_resend_icr], 0
	mov ecx, [hx_nmi_resend_value]
	mov [rax], ecx
	; a few instructions in which a second NMI must not arrive
	pause
	pause
	mov ecx, [hx_nmi_count]
	mov [hx_nmi_count_in_handler], ecx
.out:	pop rdx
	pop rcx
	pop rax
	iretq

; #GP and #UD in front of the nested test's stubs.
%macro CHAIN 3 ; name, vector, 1 if the CPU pushes an error code
%1:
%if %3 == 0
	push 0
%endif
	push rax
	push rcx
	push rsi
	mov rax, [rsp + 32]		; RIP (above RSI, RCX, RAX, error code)
	lea rsi, [hx_fixups]
	lea rcx, [hx_fixups_end]
.next:	cmp rsi, rcx
	jae .theirs
	cmp rax, [rsi]
	je .ours
	add rsi, 16
	jmp .next
.ours:	mov rax, [rsi + 8]
	mov [rsp + 32], rax
	mov dword [nx_fault_vector], %2
	mov rax, [rsp + 24]
	mov [nx_fault_error], rax
	pop rsi
	pop rcx
	pop rax
	add rsp, 8
	iretq
.theirs:
	pop rsi
	pop rcx
	pop rax
%if %3 == 0
	add rsp, 8
%endif
	jmp [nx_exc_stub_table + 8 * %2]
%endmacro

CHAIN hx_gp_handler, 13, 1
CHAIN hx_ud_handler, 6, 0

; ---- L2 ----
; The attacks of item 1: L2 clears the bit R8B of the byte at RDI (L1's
; bitmap, which L2 reaches through L1's identity map) after VM entry, then
; makes the access that bit governed: the exit must still be L1's.
global hx_l2_flip_wrmsr, hx_l2_flip_wrmsr_at, hx_l2_flip_rdmsr, hx_l2_flip_rdmsr_at
global hx_l2_flip_out, hx_l2_flip_out_at, hx_l2_rdmsr, hx_l2_wrmsr, hx_l2_out, hx_l2_in

hx_l2_flip_wrmsr:
	not r8b
	and [rdi], r8b
hx_l2_flip_wrmsr_at:
	wrmsr
	vmcall
hx_l2_flip_rdmsr:
	not r8b
	and [rdi], r8b
hx_l2_flip_rdmsr_at:
	rdmsr
	vmcall
hx_l2_flip_out:
	not r8b
	and [rdi], r8b
hx_l2_flip_out_at:
	out dx, al
	vmcall
; Plain accesses (item 4: bitmaps L0 cannot read).
hx_l2_rdmsr:
	rdmsr
	vmcall
hx_l2_wrmsr:
	wrmsr
	vmcall
hx_l2_out:
	out dx, al
	vmcall
hx_l2_in:
	in al, dx
	vmcall

section .data
align 8
hx_nmi_rip: dq 0, 0
hx_nmi_resend_icr: dq 0
hx_nmi_count: dd 0
hx_nmi_count_in_handler: dd 0
hx_nmi_resend_value: dd 0
align 8
hx_fixups:
	dq hx_read64.insn, hx_read64.fault
	dq hx_write64.insn, hx_write64.fault
	dq hx_mov_cr4.insn, hx_mov_cr4.fault
hx_fixups_end:

section .note.GNU-stack noalloc noexec nowrite progbits
