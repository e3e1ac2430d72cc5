/* SPDX-License-Identifier: MIT */
/*
 * Exception and interrupt entry.  Every vector gets a stub that makes the
 * stack look the same (a dummy error code where the CPU pushes none, then
 * the vector number), and one common path saves the registers as a
 * struct trap_frame (trap.h) and calls trap_dispatch().
 *
 * swapgs: GS.base holds the per-CPU pointer while in the kernel; when the
 * trap came from user mode (CS RPL 3) we swap on entry and again on exit.
 */
	.text

/*
 * 256 stubs, 16 bytes apart (idt.c relies on the spacing).  Vectors whose
 * exceptions push an error code: 8 10 11 12 13 14 17 21 29 30.
 */
	.globl trap_vectors_start
	.balign 16
trap_vectors_start:
	.set n, 0
	.rept 256
	.balign 16
	.if (n == 8) || (n >= 10 && n <= 14) || (n == 17) || (n == 21) || (n == 29) || (n == 30)
	.else
	pushq $0
	.endif
	pushq $n
	jmp trap_common
	.set n, n + 1
	.endr

trap_common:
	testb $3, 24(%rsp)		/* CS of the interrupted context */
	jz 1f
	swapgs
1:	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	/* A frame record pointing at the interrupted rip, so backtraces
	   continue through the trap into the code that was running. */
	pushq 17*8(%rsp)
	pushq %rbp
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	.globl trap_return
trap_return:
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp			/* vector and error code */
	testb $3, 8(%rsp)
	jz 2f
	swapgs
2:	iretq
