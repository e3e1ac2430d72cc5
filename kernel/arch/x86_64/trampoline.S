/* SPDX-License-Identifier: MIT */
/*
 * Where a started CPU begins: a start-up IPI (smp.c) sends it to physical
 * AP_TRAMPOLINE_PHYS in real mode, CS:IP = page:0.  This code is copied
 * there (it is never run where it is linked), so every address in it is
 * AP_TRAMPOLINE_PHYS + an offset from ap_trampoline.  It climbs to long
 * mode on the boot page tables (boot.S: they map the first GiB
 * identically, and the kernel image at -2 GiB), then jumps to
 * ap_start64 in the kernel image, which loads the kernel's own tables
 * before it touches the stack (a direct-map address the boot tables may
 * not cover).  The boot CPU fills the data block at the end for each CPU
 * it starts, one at a time.
 */
#include "memlayout.h"

#define AT(x)		(AP_TRAMPOLINE_PHYS + ((x) - ap_trampoline))

#define CR0_PE		(1 << 0)
#define CR0_WP		(1 << 16)
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)
#define CR4_PGE		(1 << 7)
#define MSR_EFER	0xC0000080
#define EFER_LME	(1 << 8)
#define EFER_NXE	(1 << 11)

	.section .rodata
	.balign 16
	.globl ap_trampoline
ap_trampoline:
	.code16
	cli
	cld
	ljmp $0, $AT(1f)		/* CS = 0: offsets are physical addresses */
1:	xorw %ax, %ax
	movw %ax, %ds
	lgdtl AT(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $0x08, $AT(tramp32)

	.code32
tramp32:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl %cr4, %eax
	orl $(CR4_PAE | CR4_PGE), %eax
	movl %eax, %cr4
	movl AT(tramp_boot_cr3), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_WP), %eax
	movl %eax, %cr0
	ljmpl $0x18, $AT(tramp64)

	.code64
tramp64:
	movq AT(tramp_stack), %rsi
	movq AT(tramp_cpu), %rdi
	movq AT(tramp_entry), %rax
	jmp *%rax			/* ap_start64, in the kernel image */

	.balign 8
tramp_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF	/* 0x08: 32-bit code */
	.quad 0x00CF92000000FFFF	/* 0x10: data */
	.quad 0x00AF9A000000FFFF	/* 0x18: 64-bit code */
tramp_gdt_ptr:
	.short tramp_gdt_ptr - tramp_gdt - 1
	.long AT(tramp_gdt)

	.balign 8
	.globl ap_trampoline_data
ap_trampoline_data:			/* struct trampoline_data (smp.c) */
tramp_boot_cr3:	.quad 0
tramp_stack:	.quad 0
tramp_cpu:	.quad 0
tramp_entry:	.quad 0
	.globl ap_trampoline_end
ap_trampoline_end:

/*
 * In the kernel image, still on the boot tables: rdi = the struct cpu,
 * rsi = the top of its idle thread's stack.  The kernel's tables first,
 * then the stack, then C with a terminated frame chain.
 */
	.text
	.globl ap_start64
ap_start64:
	movq ap_kernel_root(%rip), %rax
	movq %rax, %cr3
	movq %rsi, %rsp
	pushq $0
	pushq $0
	movq %rsp, %rbp
	call ap_entry
	ud2
