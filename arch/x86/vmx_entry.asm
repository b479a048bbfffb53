; vmx_entry.asm - VM-exit entry and the launch checkpoint.
;
; vmx_exit_entry is HOST_RIP of every vmcs01 and vmcs02.  HOST_RSP points
; at the `vcpu` member of the CPU's struct guest_regs (vmx/vcpu.h), at the
; top of its host stack.  The stub pushes the 16 GPR slots below it in
; architectural order (rax lowest; rsp's slot is a dummy: the guest RSP is
; in the VMCS), calls vmx_exit_dispatch(frame), pops the (possibly
; updated) registers and enters the current VMCS again: VMRESUME, or
; VMLAUNCH when the dispatcher returned nonzero (a fresh vmcs02 for L2).
; 16 pushes keep RSP 16-byte aligned (HOST_RSP is), as the System V ABI
; wants at the call.  Between the call and the entry only pops and LEA
; run, so the flags of `test eax, eax` survive to the branch.
;
; Extended state (x87/SSE/AVX, XCR0): the core is built with
; -mgeneral-regs-only and never touches it, so L1's extended state stays
; live in the registers across the exit; nothing is saved here.

bits 64
default rel
section .text

extern vmx_exit_dispatch
extern vmx_resume_failed

global vmx_exit_entry
vmx_exit_entry:
	push r15
	push r14
	push r13
	push r12
	push r11
	push r10
	push r9
	push r8
	push rdi
	push rsi
	push rbp
	push rax		; the rsp slot (unused)
	push rbx
	push rdx
	push rcx
	push rax
	mov rdi, rsp
	call vmx_exit_dispatch
.enter:				; eax: 0 = VMRESUME, else VMLAUNCH
	test eax, eax
	pop rax
	pop rcx
	pop rdx
	pop rbx
	lea rsp, [rsp + 8]
	pop rbp
	pop rsi
	pop rdi
	pop r8
	pop r9
	pop r10
	pop r11
	pop r12
	pop r13
	pop r14
	pop r15
	jnz .launch
	vmresume
	jmp .failed
.launch:
	vmlaunch
.failed:
	; Only a failed VMRESUME/VMLAUNCH gets here: CF = VMfailInvalid, ZF = VMfailValid.
	setc al
	setz cl
	sub rsp, 128		; back over the frame (its contents are intact)
	mov rdi, rsp
	movzx esi, al
	movzx edx, cl
	call vmx_resume_failed	; returns only when L1 goes on (L0 could not enter L2)
	jmp .enter

; int vmx_launch_checkpoint(struct launch_ctx *ctx)
; Saves the callee-saved registers, RSP and the return address in ctx, then
; VMLAUNCH.  A successful launch never comes back here (the guest runs at
; GUEST_RIP).  Returns 1 for VMfailInvalid, 2 for VMfailValid; a VM-entry
; failure that exits to HOST_RIP comes back through vmx_launch_abort.
global vmx_launch_checkpoint
vmx_launch_checkpoint:
	mov [rdi + 0], rbx
	mov [rdi + 8], rbp
	mov [rdi + 16], r12
	mov [rdi + 24], r13
	mov [rdi + 32], r14
	mov [rdi + 40], r15
	lea rax, [rsp + 8]
	mov [rdi + 48], rax
	mov rax, [rsp]
	mov [rdi + 56], rax
	vmlaunch
	jc .fail_invalid
	mov eax, 2
	ret
.fail_invalid:
	mov eax, 1
	ret

; void vmx_launch_abort(struct launch_ctx *ctx, int code): returns `code`
; from the vmx_launch_checkpoint call that filled ctx.
global vmx_launch_abort
vmx_launch_abort:
	mov rbx, [rdi + 0]
	mov rbp, [rdi + 8]
	mov r12, [rdi + 16]
	mov r13, [rdi + 24]
	mov r14, [rdi + 32]
	mov r15, [rdi + 40]
	mov rsp, [rdi + 48]
	mov eax, esi
	jmp [rdi + 56]

section .note.GNU-stack noalloc noexec nowrite progbits
