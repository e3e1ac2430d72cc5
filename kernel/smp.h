/* SPDX-License-Identifier: MIT */
/*
 * Several CPUs: start-up, requests between CPUs, stopping the world.
 * (struct cpu and its states are in cpu.h, the kernel lock in lock.h.)
 *
 * Start-up.  The boot CPU is cpus[0] from the first instruction of
 * kmain().  Once interrupts are set up it starts the other CPUs the
 * firmware lists (arch_cpu_ids(): the MADT's enabled ones), one at a
 * time: an idle thread each, then arch_start_cpu() (INIT-SIPI-SIPI into a
 * real-mode trampoline below 1 MiB); the new CPU loads its own tables,
 * then smp_ap_main() marks it online, takes the kernel lock and makes it
 * its idle thread.  One that is not online within SMP_START_WAIT_NS is
 * given up and put back to sleep (INIT); `cpus=N` caps how many are used.
 *
 * Requests between CPUs, by IPI; none of them takes the kernel lock:
 *   reschedule  "your run queue changed": a woken thread for an idle CPU,
 *               a preemption; the IPI is an ordinary kernel entry that
 *               takes the lock (or just ends the idle loop's hlt);
 *   tlb         a shootdown (mm/tlb.h): invalidate, acknowledge;
 *   stop        park until resumed (kdb, a panic), still answering tlb;
 *   wake        "what you wait for may have happened" (smp_wait_until).
 * A CPU that spins with interrupts off (for a lock, or for the
 * acknowledgements of its own shootdown) calls smp_poll() in its loop,
 * which serves tlb and stop requests as the IPIs would: so no CPU ever
 * waits for one that is waiting for it.
 */
#ifndef SMP_H
#define SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/arch.h"
#include "cpu.h"

#define SMP_START_WAIT_NS	(2ULL * 1000000000)	/* TCG on a loaded host is slow */
#define SMP_STOP_WAIT_NS	(1ULL * 1000000000)

/* cpus[0] is this CPU: GS set, so this_cpu() works.  First thing in kmain. */
void smp_init_boot_cpu(void);
/* Starts the firmware's other CPUs; => how many CPUs are online now. */
unsigned smp_start_cpus(void);
/* A started CPU, its own tables loaded, GS set: never returns. */
_Noreturn void smp_ap_main(void);

/* In every spin loop with interrupts off: serve tlb and stop requests. */
void smp_poll(void);
/*
 * Waits, interrupts off, until done(ctx): spinning a little, then halted
 * until an IPI (tlb, stop and wake pass; device interrupts and the tick
 * wait), serving tlb and stop requests all along.  Under multi-threaded
 * TCG a spinning vCPU burns a host core the CPU it waits for may need;
 * halted, it sleeps.  Whoever makes done() true calls smp_wake() after.
 */
void smp_wait_until(bool (*done)(const void *ctx), const void *ctx);
void smp_wake(unsigned cpu);		/* if it waits: an IPI_WAKE */
void smp_wake_all(void);
/* arch trap code: a tlb or stop IPI arrived (interrupts off, no lock). */
void smp_ipi_received(enum ipi_kind kind);
void smp_send_ipi(unsigned cpu, enum ipi_kind kind);
uint64_t smp_online_mask(void);

/*
 * Stops every other online CPU: each parks with interrupts off, serving
 * only tlb requests, until smp_resume_others().  Waits for them at most
 * SMP_STOP_WAIT_NS; => a mask of those that did not park (a CPU stuck
 * with interrupts off: a panic reports it).  Only one CPU stops the world
 * at a time; a second one parks until the first resumes.
 */
uint64_t smp_stop_others(void);
void smp_resume_others(void);
bool smp_world_stopped(void);

#endif
