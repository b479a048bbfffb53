; l1_probe.asm - probes for the L1 test payload: instructions that may
; fault (#GP) under microhv, run with a #GP handler that resumes after
; them, and VMCALL with the full register ABI.
;
; The #GP handler looks the faulting RIP up in probe_fixups (pairs of
; instruction address, resume address); anything else is not ours and goes
; to the firmware's original handler.

bits 64
default rel
section .text

global probe_read64, probe_write64, probe_rdmsr, probe_wrmsr, probe_gp_handler
global hv_vmcall
global probe_gp_count, probe_gp_last_error, probe_fw_gp_handler

; int probe_read64(uint64_t addr, uint64_t *out): 0 ok, 1 #GP
probe_read64:
	xor eax, eax
.insn:	mov rcx, [rdi]
	mov [rsi], rcx
	ret
.fault:	mov eax, 1
	ret

; int probe_write64(uint64_t addr, uint64_t value)
probe_write64:
	xor eax, eax
.insn:	mov [rdi], rsi
	ret
.fault:	mov eax, 1
	ret

; int probe_rdmsr(uint32_t msr, uint64_t *out)
probe_rdmsr:
	mov ecx, edi
.insn:	rdmsr
	shl rdx, 32
	or rax, rdx
	mov [rsi], rax
	xor eax, eax
	ret
.fault:	mov eax, 1
	ret

; int probe_wrmsr(uint32_t msr, uint64_t value)
probe_wrmsr:
	mov ecx, edi
	mov rax, rsi
	mov rdx, rsi
	shr rdx, 32
.insn:	wrmsr
	xor eax, eax
	ret
.fault:	mov eax, 1
	ret

; void hv_vmcall(uint64_t regs[4]): in/out RAX, RBX, RCX, RDX
hv_vmcall:
	push rbx
	mov r8, rdi
	mov rax, [r8]
	mov rbx, [r8 + 8]
	mov rcx, [r8 + 16]
	mov rdx, [r8 + 24]
	vmcall
	mov [r8], rax
	mov [r8 + 8], rbx
	mov [r8 + 16], rcx
	mov [r8 + 24], rdx
	pop rbx
	ret

; The #GP handler installed in the firmware's IDT while probing.
probe_gp_handler:
	push rax
	push rcx
	push rsi
	mov rax, [rsp + 32]		; RIP (above the error code)
	lea rsi, [probe_fixups]
	lea rcx, [probe_fixups_end]
.next:	cmp rsi, rcx
	jae .not_ours
	cmp rax, [rsi]
	je .ours
	add rsi, 16
	jmp .next
.ours:	mov rax, [rsi + 8]
	mov [rsp + 32], rax
	mov rax, [rsp + 24]		; error code
	mov [probe_gp_last_error], rax
	inc qword [probe_gp_count]
	pop rsi
	pop rcx
	pop rax
	add rsp, 8			; drop the error code
	iretq
.not_ours:
	pop rsi
	pop rcx
	pop rax
	jmp [probe_fw_gp_handler]

section .data
align 8
probe_gp_count: dq 0
probe_gp_last_error: dq 0
probe_fw_gp_handler: dq 0
probe_fixups:
	dq probe_read64.insn, probe_read64.fault
	dq probe_write64.insn, probe_write64.fault
	dq probe_rdmsr.insn, probe_rdmsr.fault
	dq probe_wrmsr.insn, probe_wrmsr.fault
probe_fixups_end:

section .note.GNU-stack noalloc noexec nowrite progbits
