; tables.asm - descriptor-table switches that C cannot express.
;
; gdt_load(gdtr, cs, ds, ss): LGDT, then a far return to reload CS (the only
; way to change CS in 64-bit mode without a gate), then DS/ES and SS.
; System V ABI: rdi = gdtr, rsi = cs, rdx = ds, rcx = ss.

bits 64
default rel
section .text

global gdt_load
gdt_load:
	lgdt [rdi]
	push rsi
	lea rax, [.reloaded]
	push rax
	o64 retf
.reloaded:
	mov ds, dx
	mov es, dx
	mov ss, cx
	ret

section .note.GNU-stack noalloc noexec nowrite progbits
