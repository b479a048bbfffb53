; safe_insn.asm - RDMSR, WRMSR and XSETBV that report a #GP instead of
; taking the hypervisor down.  Each faulting instruction has an entry in
; the .fixup table (pairs: address of the instruction, where to resume);
; idt_exception_dispatch looks the faulting RIP up there first.
; L0 executes these on L1's behalf, with L1-chosen operands.

bits 64
default rel
section .text

; bool safe_rdmsr(uint32_t msr, uint64_t *value)
global safe_rdmsr
safe_rdmsr:
	mov ecx, edi
.insn:
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov [rsi], rax
	mov eax, 1
	ret
.fault:
	xor eax, eax
	ret

; bool safe_wrmsr(uint32_t msr, uint64_t value)
global safe_wrmsr
safe_wrmsr:
	mov ecx, edi
	mov rax, rsi
	mov rdx, rsi
	shr rdx, 32
.insn:
	wrmsr
	mov eax, 1
	ret
.fault:
	xor eax, eax
	ret

; bool safe_xsetbv(uint32_t xcr, uint64_t value)
global safe_xsetbv
safe_xsetbv:
	mov ecx, edi
	mov rax, rsi
	mov rdx, rsi
	shr rdx, 32
.insn:
	xsetbv
	mov eax, 1
	ret
.fault:
	xor eax, eax
	ret

section .fixup progbits alloc noexec write align=8
	dq safe_rdmsr.insn, safe_rdmsr.fault
	dq safe_wrmsr.insn, safe_wrmsr.fault
	dq safe_xsetbv.insn, safe_xsetbv.fault

section .note.GNU-stack noalloc noexec nowrite progbits
