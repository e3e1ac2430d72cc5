// SPDX-License-Identifier: MIT
/*
 * The kernel starts a thread at an entry point with one argument and
 * requires that it never returns.  So every thread enters through
 * ferry_thread_entry (crt0.S), whose argument points at this boot record
 * kept at the top of the thread's own stack, and ends in sys_thread_exit.
 */
#include <ferry/sys.h>
#include <stdint.h>
#include <stdnoreturn.h>
#include <thread.h>

#define THREAD_STACK_MIN	256

struct thread_boot {
	void (*fn)(void *arg);
	void *arg;
};

_Static_assert(sizeof(struct thread_boot) == 16, "keeps the stack top 16-byte aligned");

void ferry_thread_entry(void);
noreturn void thread_run(struct thread_boot *boot);

/* Called from crt0.S on the new thread's stack. */
noreturn void thread_run(struct thread_boot *boot)
{
	boot->fn(boot->arg);
	for (;;)
		sys_thread_exit(0);
}

long thread_start(void (*fn)(void *arg), void *arg, void *stack, size_t size)
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	struct thread_boot *boot = (struct thread_boot *)top - 1;

	if (size < THREAD_STACK_MIN)
		return ERR_INVAL;
	boot->fn = fn;
	boot->arg = arg;
	/* The record sits just above the initial rsp, where nothing overwrites it. */
	return sys_thread_create((void *)ferry_thread_entry, boot, (long)boot);
}
