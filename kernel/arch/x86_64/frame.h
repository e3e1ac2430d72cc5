/* SPDX-License-Identifier: MIT */
/*
 * Assembler macros that build and unwind the general-register part of a
 * struct trap_frame (trap.h), shared by every entry path (entry.S for
 * traps and interrupts, syscall.S for system calls), so the layout is
 * written down exactly once.
 */
#ifndef X86_64_FRAME_H
#define X86_64_FRAME_H

.macro SAVE_GPRS
	pushq %rax
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
.endm

.macro RESTORE_GPRS
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
.endm

/* A frame record pointing at the interrupted rip, so backtraces continue
 * through the trap into the code that was running; rdi = the frame. */
.macro CALL_WITH_FRAME fn
	movq %rsp, %rdi
	pushq 17*8(%rsp)
	pushq %rbp
	movq %rsp, %rbp
	call \fn
	addq $16, %rsp
.endm

#endif
