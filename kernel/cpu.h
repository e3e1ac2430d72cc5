/* SPDX-License-Identifier: MIT */
/*
 * Per-CPU state, all of it in one struct so SMP can come later by making
 * an array of these.  GS.base points at it while the CPU is in the kernel;
 * the syscall entry reads the first fields by offset (asserted below).
 */
#ifndef CPU_H
#define CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct thread;
struct proc;

struct cpu {
	struct cpu *self;		/* GS:0 */
	uint64_t kernel_rsp;		/* GS:8, top of current thread's kernel stack */
	uint64_t user_rsp;		/* GS:16, scratch during syscall entry */
	struct thread *current;
	struct thread *idle;
	struct proc *io_owner;		/* whose I/O ports the TSS bitmap opens */
	bool need_resched;
	uint64_t context_switches;
	uint64_t syscalls;
	uint64_t halted_cycles;		/* idle in hlt, waiting for an interrupt */
};

#define CPU_OFF_KERNEL_RSP	8
#define CPU_OFF_USER_RSP	16
_Static_assert(offsetof(struct cpu, kernel_rsp) == CPU_OFF_KERNEL_RSP, "syscall.S");
_Static_assert(offsetof(struct cpu, user_rsp) == CPU_OFF_USER_RSP, "syscall.S");

extern struct cpu cpu0;

static inline struct cpu *this_cpu(void)
{
	return &cpu0;	/* one CPU for now; SMP reads GS:0 */
}

static inline struct thread *current_thread(void)
{
	return this_cpu()->current;
}

#endif
