; launch.asm - the loader's side of the late launch.
;
; int launch_this_cpu_as_l1(uint64_t core_launch, void *unused)
;
; Saves the callee-saved registers, then calls the core's launch function
; (System V ABI) with the RSP and RIP at which this CPU must continue once
; it runs as L1: right here, in the loader's own code (which L1's EPT maps,
; unlike the core).  The VM entry keeps every GPR except RSP/RIP/RFLAGS, so
; restoring the saved registers from the stack at .as_l1 makes the launch
; look like an ordinary call that returned 0.  If the launch fails, the
; core's function returns its error code, which is returned as is.

bits 64
default rel
section .text

global launch_this_cpu_as_l1
launch_this_cpu_as_l1:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	mov rax, rdi
	mov rdi, rsp		; L1's RSP: the six saved registers are on top
	lea rsi, [.as_l1]	; L1's RIP
	sub rsp, 8		; 16-byte alignment for the call
	call rax
	add rsp, 8
	jmp .out
.as_l1:
	xor eax, eax
.out:
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

section .note.GNU-stack noalloc noexec nowrite progbits
