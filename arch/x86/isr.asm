; isr.asm - exception entry stubs for the core's IDT (see idt.h).
;
; Stub v lives at isr_stubs + 16 * v.  Vectors where the CPU pushes no error
; code push a 0 so that every frame has the same shape; then the vector is
; pushed and all 15 general-purpose registers are saved in struct
; exception_frame order.  The CPU aligns RSP to 16 before pushing its
; 5-quadword frame (SDM Vol. 3A 6.14.2), so after 2 + 15 more pushes RSP is
; 16-byte aligned again for the call, as the System V ABI wants.

bits 64
default rel
section .text

extern idt_exception_dispatch
global isr_stubs

%define HAS_ERROR_CODE(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

align 16
isr_stubs:
%assign v 0
%rep 32
align 16
%if HAS_ERROR_CODE(v) == 0
	push qword 0
%endif
	push qword v
	jmp isr_common
%assign v v + 1
%endrep

isr_common:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rbp
	push rdi
	push rsi
	push rdx
	push rcx
	push rbx
	push rax
	mov rdi, rsp
	cld
	call idt_exception_dispatch
	pop rax
	pop rbx
	pop rcx
	pop rdx
	pop rsi
	pop rdi
	pop rbp
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	add rsp, 16 ; vector and error code
	iretq

section .note.GNU-stack noalloc noexec nowrite progbits
