/* SPDX-License-Identifier: MIT */
/*
 * The two ways the kernel enters user code.  Both arrive with rsp 16-byte
 * aligned and no return address, so a plain call gives the C function the
 * stack alignment the SysV ABI expects.  rbp is cleared so that frame-
 * pointer backtraces stop here.
 */
	.text

/* Process start: rdi = argument string, rsi = own pid. */
	.globl _start
	.type _start, @function
_start:
	xor	%ebp, %ebp
	call	ferry_start
	ud2
	.size _start, . - _start

/* Thread start (sys_thread_create): rdi = struct thread_boot *. */
	.globl ferry_thread_entry
	.type ferry_thread_entry, @function
ferry_thread_entry:
	xor	%ebp, %ebp
	call	thread_run
	ud2
	.size ferry_thread_entry, . - ferry_thread_entry

	.section .note.GNU-stack, "", @progbits
