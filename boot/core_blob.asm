; core_blob.asm - carries build/core.bin inside hv.efi.
; In .data (not .rodata) because gnu-efi's linker script folds both into
; one section anyway and the loader only reads it.

bits 64
section .data
align 4096
global core_blob_start
global core_blob_end
core_blob_start:
	incbin CORE_BIN
core_blob_end:

section .note.GNU-stack noalloc noexec nowrite progbits
