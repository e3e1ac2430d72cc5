/* SPDX-License-Identifier: MIT */
/*
 * First instructions: GRUB (multiboot2) enters _start in 32-bit protected
 * mode, paging off, at the physical load address.  We build nothing at run
 * time: the boot page tables below are static and map the first 1 GiB three
 * times (identity, direct map at 0xffff800000000000, kernel at -2 GiB), which
 * is all the C code needs until arch_paging_init() builds the real tables.
 *
 * Every symbol is linked at its higher-half address, so 32-bit code uses
 * PHYS(sym).  %edi/%esi carry the multiboot2 magic and info pointer into
 * kmain(magic, info_phys).
 *
 * long_mode_high is the outermost frame, said twice: its CFI marks the
 * return address undefined (gdb's unwinder stops there), and kmain's
 * caller frame is a null record {rbp 0, return address 0} (frame-pointer
 * walks, arch_backtrace and gdb's fallback, stop there).  Without either,
 * a backtrace walks on through whatever lies above the boot stack.
 */
#define KERNEL_VMA 0xFFFFFFFF80000000
#define PHYS(x) ((x) - KERNEL_VMA)

#define MB2_MAGIC	0xE85250D6
#define MB2_ARCH_I386	0

#define CR0_PE		(1 << 0)
#define CR0_WP		(1 << 16)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define MSR_EFER	0xC0000080
#define EFER_LME	(1 << 8)
#define EFER_NXE	(1 << 11)

	.cfi_sections .debug_frame	/* .eh_frame is discarded by kernel.ld */

	.section .multiboot, "a"
	.balign 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* entry address tag: the ELF entry is a high address GRUB cannot use */
	.balign 8
	.short 3, 0
	.long 12
	.long PHYS(_start)
	.balign 8
	.short 0, 0		/* end tag */
	.long 8
mb2_header_end:

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	movl $PHYS(boot_stack_top), %esp
	movl %eax, %edi			/* multiboot2 magic */
	movl %ebx, %esi			/* multiboot2 info (physical) */

	/* Long mode must exist, or we stop here with a message. */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	testl $(1 << 29), %edx
	jz no_long_mode

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $PHYS(boot_pml4), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0

	lgdt PHYS(boot_gdt_ptr)
	ljmp $0x08, $PHYS(long_mode_low)

no_long_mode:
	movl $PHYS(no_long_mode_msg), %ebx
1:	movb (%ebx), %al
	testb %al, %al
	jz 3f
	movw $0x3FD, %dx		/* COM1 line status: wait for THR empty */
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movb (%ebx), %al
	movw $0x3F8, %dx
	outb %al, %dx
	incl %ebx
	jmp 1b
3:	hlt
	jmp 3b

	.code64
long_mode_low:
	/* Still running at the physical address: jump up to the link address. */
	movabsq $long_mode_high, %rax
	jmp *%rax

	.section .text
long_mode_high:
	.cfi_startproc
	.cfi_undefined rip
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movabsq $boot_stack_top, %rsp
	pushq $0			/* null return address ... */
	pushq $0			/* ... and null saved rbp: the last frame */
	movq %rsp, %rbp			/* (two pushes keep %rsp 16-byte aligned) */
	call kmain
1:	cli
	hlt
	jmp 1b
	.cfi_endproc

	.section .boot.data, "aw"
no_long_mode_msg:
	.asciz "Ferry: this CPU has no long mode; stopping.\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF	/* 0x08: 64-bit kernel code */
	.quad 0x00CF92000000FFFF	/* 0x10: kernel data */
boot_gdt_end:
boot_gdt_ptr:
	.short boot_gdt_end - boot_gdt - 1
	.long PHYS(boot_gdt)

	.balign 4096
	.globl boot_pml4
boot_pml4:
	.quad PHYS(boot_pdpt_low) + 0x3		/* identity, for the jump up */
	.fill 255, 8, 0
	.quad PHYS(boot_pdpt_low) + 0x3		/* 256: direct map */
	.fill 254, 8, 0
	.quad PHYS(boot_pdpt_high) + 0x3	/* 511: kernel */
boot_pdpt_low:
	.quad PHYS(boot_pd) + 0x3
	.fill 511, 8, 0
boot_pdpt_high:
	.fill 510, 8, 0
	.quad PHYS(boot_pd) + 0x3		/* 510: -2 GiB */
	.quad 0
boot_pd:					/* 512 x 2 MiB = first 1 GiB */
	.set i, 0
	.rept 512
	.quad (i << 21) | 0x83
	.set i, i + 1
	.endr

	.section .bss
	.balign 16
	.globl boot_stack_top
	.globl boot_stack
boot_stack:
	.skip 16384
boot_stack_top:
