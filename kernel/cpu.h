/* SPDX-License-Identifier: MIT */
/*
 * CPUs.  Each CPU has one struct cpu in cpus[], index = its Ferry id (0 is
 * the boot CPU; the others in MADT order).  GS.base points at it while the
 * CPU runs kernel code, so this_cpu() is one load from GS:0; the syscall
 * entry reads the first fields by offset (asserted below).
 *
 * States: ABSENT -> STARTING (INIT-SIPI-SIPI sent) -> ONLINE (the CPU set
 * up its tables, its local APIC and its idle thread, and schedules) ; a
 * CPU that does not answer in time is GIVEN_UP and never used (it checks
 * for that state before it does anything, so a late start is harmless).
 *
 * Who writes what: a CPU's scheduling fields (current, idle, vm, root,
 * need_resched) are written by that CPU under the kernel lock, except
 * vm/root, which a retire request (mm/tlb.h) may clear while the sender
 * holds the lock and waits.  Counters are written only by their own CPU
 * and summed by readers.  parked and state are read by other CPUs
 * without the lock, with atomics.
 */
#ifndef CPU_H
#define CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPU_MAX	8	/* CPUs Ferry uses (MADT_CPUS_MAX) */

struct thread;
struct proc;
struct vm_space;

enum cpu_state { CPU_ABSENT, CPU_STARTING, CPU_ONLINE, CPU_GIVEN_UP };

struct cpu {
	struct cpu *self;		/* GS:0 */
	uint64_t kernel_rsp;		/* GS:8, top of current thread's kernel stack */
	uint64_t user_rsp;		/* GS:16, scratch during syscall entry */
	unsigned id;			/* index in cpus[] */
	uint32_t apic_id;
	int state;			/* enum cpu_state, atomic */
	struct thread *current;
	struct thread *idle;
	struct thread *dead_thread;	/* freed once this CPU is off its stack */
	uint64_t io_owner_pid;		/* whose I/O ports this CPU's TSS bitmap opens */
	struct vm_space *vm;		/* whose page tables CR3 holds (lazily, for
					   kernel threads), NULL: the kernel's */
	bool tlb_lazy;			/* runs a kernel or idle thread: vm's user
					   translations are unused (mm/tlb.h) */
	bool tlb_stale;			/* a shootdown skipped it while lazy */
	bool need_resched;
	bool halted;			/* in the idle loop's hlt, kernel lock released */
	bool parked;			/* stopped by another CPU (smp.h), atomic */
	bool waiting;			/* halted in smp_wait_until(), atomic */
	uint64_t context_switches;
	uint64_t syscalls;
	uint64_t halted_cycles;		/* idle in hlt, waiting for an interrupt */
	uint64_t halt_since;		/* when the halt it is in began (halted) */
	uint64_t ticks;			/* its own timer interrupts */
	uint64_t ipis_sent, ipis_received;
	uint64_t ipis_sent_kind[4];	/* by enum ipi_kind (arch.h) */
	uint64_t tlb_requests_served;	/* shootdowns this CPU answered */
	/* ipc_call is queueing a request whose caller blocks right after:
	 * the receiver it wakes runs here (sched.c). */
	bool waking_for_call;
	/* Message IRQs this CPU took (irq.c): a driver's, the kernel's. */
	uint64_t irqs_message, irqs_message_kernel;
};

#define CPU_OFF_KERNEL_RSP	8
#define CPU_OFF_USER_RSP	16
_Static_assert(offsetof(struct cpu, kernel_rsp) == CPU_OFF_KERNEL_RSP, "syscall.S");
_Static_assert(offsetof(struct cpu, user_rsp) == CPU_OFF_USER_RSP, "syscall.S");

extern struct cpu cpus[CPU_MAX];
extern unsigned cpu_count;		/* entries of cpus[] in use: ids 0..cpu_count-1 */

/*
 * Volatile: a thread may resume on another CPU after any schedule(), so
 * the compiler must read GS:0 afresh every time, never reuse a result.
 */
static inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("movq %%gs:0, %0" : "=r"(c));
	return c;
}

static inline struct thread *current_thread(void)
{
	return this_cpu()->current;
}

static inline bool cpu_online(unsigned id)
{
	return id < cpu_count && __atomic_load_n(&cpus[id].state, __ATOMIC_ACQUIRE) == CPU_ONLINE;
}

static inline uint64_t cpu_bit(unsigned id)
{
	return 1ULL << id;
}

#endif
