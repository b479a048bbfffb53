; nested_vmx.asm - the L1 side of the nested test hypervisor in assembly
; (tests/payload/nested_test.c): the VMX instructions as probes that may
; succeed, fail or fault, VM entry and the VM-exit stub, and the exception
; handlers of L1's own IDT.
;
; Probe results (nested_test.h): RFLAGS right after the instruction (CF:
; VMfailInvalid, ZF: VMfailValid, SDM Vol. 3C 31.2), or NX_FAULT (bit 63)
; | vector when the instruction raised an exception.  The exception stubs
; look the faulting RIP up in nx_fixups (pairs of instruction address and
; resume address, like l1_probe.asm); a fault anywhere else is reported by
; nx_unexpected_exception (C), which ends the run.
;
; nx_enter(how) enters L2 with the GPRs of nx_l2_gpr (x86 register
; numbering, RSP unused: the VMCS holds it).  how: 0 VMLAUNCH, 1 VMRESUME,
; 2 VMLAUNCH right after MOV SS (blocking by MOV SS, SDM 31.3 VMLAUNCH).
; It sets HOST_RSP to its own stack; HOST_RIP is nx_exit_stub, which saves
; L2's GPRs and returns 0 from nx_enter.  A failed VMLAUNCH/VMRESUME
; returns NX_ENTRY_FAILED (bit 62) | RFLAGS.

bits 64
default rel
section .text

global nx_vmxon, nx_vmxoff, nx_vmclear, nx_vmptrld, nx_vmptrst, nx_vmread, nx_vmwrite
global nx_invept, nx_invvpid, nx_rdmsr, nx_wrmsr, nx_hypercall, nx_ud2, nx_reload_ds
global nx_enter, nx_exit_stub
global nx_l2_gpr, nx_ss_sel, nx_fault_vector, nx_fault_error, nx_exc_stub_table
extern nx_unexpected_exception

%define VMCS_HOST_RSP 0x6c14

; The result of a probe that faulted: bit 63 | the vector.
%macro FAULTED 0
	mov eax, [nx_fault_vector]
	bts rax, 63
%endmacro

; uint64_t nx_vmxon(uint64_t pa) and the other instructions with a
; 64-bit physical-address operand in memory.
%macro PA_PROBE 2
%1:
	push rdi
.insn:	%2 [rsp]
	pushfq
	pop rax
	pop rdi
	ret
.fault:	FAULTED
	pop rdi
	ret
%endmacro

PA_PROBE nx_vmxon, vmxon
PA_PROBE nx_vmclear, vmclear
PA_PROBE nx_vmptrld, vmptrld

; uint64_t nx_vmxoff(void)
nx_vmxoff:
.insn:	vmxoff
	pushfq
	pop rax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_vmptrst(uint64_t *pa)
nx_vmptrst:
.insn:	vmptrst [rdi]
	pushfq
	pop rax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_vmread(uint64_t field, uint64_t *value)
nx_vmread:
	xor eax, eax
.insn:	vmread rax, rdi
	mov [rsi], rax
	pushfq
	pop rax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_vmwrite(uint64_t field, uint64_t value)
nx_vmwrite:
.insn:	vmwrite rdi, rsi
	pushfq
	pop rax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_invept(uint64_t type, const void *descriptor)
nx_invept:
.insn:	invept rdi, [rsi]
	pushfq
	pop rax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_invvpid(uint64_t type, const void *descriptor)
nx_invvpid:
.insn:	invvpid rdi, [rsi]
	pushfq
	pop rax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_rdmsr(uint32_t msr, uint64_t *value): 0 or NX_FAULT | vector
nx_rdmsr:
	mov ecx, edi
.insn:	rdmsr
	shl rdx, 32
	or rax, rdx
	mov [rsi], rax
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_wrmsr(uint32_t msr, uint64_t value): 0 or NX_FAULT | vector
nx_wrmsr:
	mov ecx, edi
	mov rax, rsi
	mov rdx, rsi
	shr rdx, 32
.insn:	wrmsr
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_hypercall(uint64_t regs[4]): VMCALL with RAX, RBX, RCX, RDX
; in and out (docs/hypercalls.md); 0 or NX_FAULT | vector.
nx_hypercall:
	push rbx
	mov r8, rdi
	mov rax, [r8]
	mov rbx, [r8 + 8]
	mov rcx, [r8 + 16]
	mov rdx, [r8 + 24]
.insn:	vmcall
	mov [r8], rax
	mov [r8 + 8], rbx
	mov [r8 + 16], rcx
	mov [r8 + 24], rdx
	xor eax, eax
	pop rbx
	ret
.fault:	FAULTED
	pop rbx
	ret

; uint64_t nx_ud2(void): always NX_FAULT | 6 when L1's IDT works
nx_ud2:
.insn:	ud2
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_reload_ds(void): DS reloaded from the GDT; 0 or NX_FAULT | vector
nx_reload_ds:
	mov ax, ds
.insn:	mov ds, ax
	xor eax, eax
	ret
.fault:	FAULTED
	ret

; uint64_t nx_enter(unsigned how)
nx_enter:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	mov [nx_enter_how], edi
	mov eax, VMCS_HOST_RSP
.hrsp:	vmwrite rax, rsp
	mov rcx, [nx_l2_gpr + 1 * 8]
	mov rdx, [nx_l2_gpr + 2 * 8]
	mov rbx, [nx_l2_gpr + 3 * 8]
	mov rbp, [nx_l2_gpr + 5 * 8]
	mov rsi, [nx_l2_gpr + 6 * 8]
	mov rdi, [nx_l2_gpr + 7 * 8]
	mov r8, [nx_l2_gpr + 8 * 8]
	mov r9, [nx_l2_gpr + 9 * 8]
	mov r10, [nx_l2_gpr + 10 * 8]
	mov r11, [nx_l2_gpr + 11 * 8]
	mov r12, [nx_l2_gpr + 12 * 8]
	mov r13, [nx_l2_gpr + 13 * 8]
	mov r14, [nx_l2_gpr + 14 * 8]
	mov r15, [nx_l2_gpr + 15 * 8]
	cmp dword [nx_enter_how], 1
	mov rax, [nx_l2_gpr]
	je .resume
	ja .movss
.launch:
	vmlaunch
	jmp .failed
.resume:
	vmresume
	jmp .failed
.movss:
	mov ss, [nx_ss_sel]
.launch2:
	vmlaunch
.failed:
	pushfq
	pop rax
	bts rax, 62
	jmp nx_enter_out
.fault:	FAULTED
	jmp nx_enter_out

; HOST_RIP: RSP is HOST_RSP, the stack nx_enter left.
nx_exit_stub:
	mov [nx_l2_gpr + 0 * 8], rax
	mov [nx_l2_gpr + 1 * 8], rcx
	mov [nx_l2_gpr + 2 * 8], rdx
	mov [nx_l2_gpr + 3 * 8], rbx
	mov [nx_l2_gpr + 5 * 8], rbp
	mov [nx_l2_gpr + 6 * 8], rsi
	mov [nx_l2_gpr + 7 * 8], rdi
	mov [nx_l2_gpr + 8 * 8], r8
	mov [nx_l2_gpr + 9 * 8], r9
	mov [nx_l2_gpr + 10 * 8], r10
	mov [nx_l2_gpr + 11 * 8], r11
	mov [nx_l2_gpr + 12 * 8], r12
	mov [nx_l2_gpr + 13 * 8], r13
	mov [nx_l2_gpr + 14 * 8], r14
	mov [nx_l2_gpr + 15 * 8], r15
	xor eax, eax
nx_enter_out:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

; L1's exception stubs, vectors 0-31: a uniform frame (vector, error code,
; then the CPU's frame).
%macro EXC_STUB 1
exc_stub_%1:
%if %1 != 8 && %1 != 17 && %1 != 21 && %1 != 29 && %1 != 30 && (%1 < 10 || %1 > 14)
	push 0
%endif
	push %1
	jmp exc_common
%endmacro

%assign v 0
%rep 32
EXC_STUB v
%assign v v + 1
%endrep

exc_common:
	push rax
	push rcx
	push rsi
	; [rsp+24] vector, [rsp+32] error code, [rsp+40] RIP
	mov rax, [rsp + 40]
	lea rsi, [nx_fixups]
	lea rcx, [nx_fixups_end]
.next:	cmp rsi, rcx
	jae .unexpected
	cmp rax, [rsi]
	je .ours
	add rsi, 16
	jmp .next
.ours:	mov rax, [rsi + 8]
	mov [rsp + 40], rax
	mov rax, [rsp + 24]
	mov [nx_fault_vector], eax
	mov rax, [rsp + 32]
	mov [nx_fault_error], rax
	pop rsi
	pop rcx
	pop rax
	add rsp, 16
	iretq
.unexpected:
	mov rdi, [rsp + 24]
	mov rsi, [rsp + 32]
	mov rdx, [rsp + 40]
	and rsp, -16
	call nx_unexpected_exception
.stop:	cli
	hlt
	jmp .stop

section .data
align 8
nx_l2_gpr: times 16 dq 0
nx_fault_error: dq 0
nx_fault_vector: dd 0
nx_enter_how: dd 0
nx_ss_sel: dw 0
align 8
nx_exc_stub_table:
%assign v 0
%rep 32
	dq exc_stub_ %+ v
%assign v v + 1
%endrep
nx_fixups:
	dq nx_vmxon.insn, nx_vmxon.fault
	dq nx_vmclear.insn, nx_vmclear.fault
	dq nx_vmptrld.insn, nx_vmptrld.fault
	dq nx_vmxoff.insn, nx_vmxoff.fault
	dq nx_vmptrst.insn, nx_vmptrst.fault
	dq nx_vmread.insn, nx_vmread.fault
	dq nx_vmwrite.insn, nx_vmwrite.fault
	dq nx_invept.insn, nx_invept.fault
	dq nx_invvpid.insn, nx_invvpid.fault
	dq nx_rdmsr.insn, nx_rdmsr.fault
	dq nx_wrmsr.insn, nx_wrmsr.fault
	dq nx_hypercall.insn, nx_hypercall.fault
	dq nx_ud2.insn, nx_ud2.fault
	dq nx_reload_ds.insn, nx_reload_ds.fault
	dq nx_enter.hrsp, nx_enter.fault
	dq nx_enter.launch, nx_enter.fault
	dq nx_enter.resume, nx_enter.fault
	dq nx_enter.launch2, nx_enter.fault
nx_fixups_end:

section .note.GNU-stack noalloc noexec nowrite progbits
