/* SPDX-License-Identifier: MIT */
/*
 * syscall entry.  The CPU leaves the user rip in rcx and rflags in r11,
 * masks IF (SFMASK), and changes neither stack nor GS.  We swap to the
 * per-CPU GS, save the user rsp there, move to the thread's kernel stack
 * and build a struct trap_frame exactly like entry.S does, so a thread
 * blocked in a syscall looks like one blocked after any trap.
 *
 * Return: sysretq, after restoring rcx/r11 from the frame.  The frame's
 * rip is always canonical: user memory ends a page below the canonical
 * hole (USER_LIMIT), so the instruction after a syscall is too.
 */
#define CPU_KERNEL_RSP	8
#define CPU_USER_RSP	16
#define USER_CS		(0x28 | 3)
#define USER_SS		(0x20 | 3)

#include "frame.h"

	.text
	.globl syscall_entry
syscall_entry:
	swapgs
	movq %rsp, %gs:CPU_USER_RSP
	movq %gs:CPU_KERNEL_RSP, %rsp
	pushq $USER_SS
	pushq %gs:CPU_USER_RSP
	pushq %r11
	pushq $USER_CS
	pushq %rcx
	pushq $0			/* error code */
	pushq $0x100			/* VEC_SYSCALL */
	SAVE_GPRS
	CALL_WITH_FRAME syscall_from_user
	RESTORE_GPRS
	addq $16, %rsp			/* vector, error code */
	movq 0(%rsp), %rcx		/* rip */
	movq 16(%rsp), %r11		/* rflags */
	movq 24(%rsp), %rsp		/* user stack: interrupts are still off */
	swapgs
	sysretq
