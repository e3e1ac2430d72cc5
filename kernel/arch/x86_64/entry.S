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
#include "frame.h"

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
1:	SAVE_GPRS
	cld
	CALL_WITH_FRAME trap_dispatch
	.globl trap_return
trap_return:
	RESTORE_GPRS
	addq $16, %rsp			/* vector and error code */
	testb $3, 8(%rsp)
	jz 2f
	swapgs
2:	iretq
