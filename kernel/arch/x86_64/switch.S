/* SPDX-License-Identifier: MIT */
/*
 * Thread switching.  Only callee-saved registers need saving: the switch
 * is an ordinary function call from schedule()'s point of view.
 */
	.text
	.globl arch_context_switch
arch_context_switch:		/* rdi = &prev->saved_rsp, rsi = next saved rsp */
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* First switch into a new thread lands here with its start function in rbx. */
	.globl thread_trampoline
thread_trampoline:
	xorl %ebp, %ebp
	call *%rbx
	ud2

/* rdi = top of the user frame: unwind it like a return from a trap. */
	.globl arch_enter_user
arch_enter_user:
	leaq -176(%rdi), %rsp
	jmp trap_return
