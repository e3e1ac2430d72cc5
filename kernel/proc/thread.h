/* SPDX-License-Identifier: MIT */
/*
 * Threads and the scheduler.
 *
 * A thread is always in exactly one state (enum thread_state, <ferry/abi.h>):
 *
 *   READY ──schedule──> RUNNING ──thread_block──> BLOCKED_* ──thread_wake──> READY
 *                          │                                                 ▲
 *                          └─── preempted (slice over, higher priority) ─────┘
 *   any ──exit/kill──> DEAD (freed by the next schedule() on another stack)
 *
 * Blocked states say why ("recv", "call", "pager-io", ...) and wait_object
 * says on what, so ps and the debug console can answer "why is it stuck".
 *
 * Concurrency: the kernel lock (lock.h) and interrupts disabled except in
 * user mode and the idle loop's hlt.  So kernel code is never preempted: a
 * thread switches only inside schedule(), called from thread_block(),
 * sched_yield() or on the way back to user mode, and the run queues, wait
 * queues and thread states are the lock's.  A thread runs on one CPU at a
 * time (`cpu`: the last one it ran on), not always the same one.
 */
#ifndef THREAD_H
#define THREAD_H

#include <ferry/abi.h>
#include <stdbool.h>
#include <stdint.h>

#include "../cpu.h"
#include "../list.h"

#define KSTACK_PAGES	4
#define PRIO_MIN	1
#define PRIO_MAX	31
#define PRIO_IDLE	0
#define SLICE_TICKS	2	/* 20 ms at CLOCK_HZ 100 */

struct wait_queue {
	struct list_node head;
};

struct thread {
	uint64_t saved_rsp;		/* while switched out */
	void *kstack;			/* KSTACK_PAGES pages, direct map */
	struct proc *proc;		/* NULL for kernel threads */
	uint64_t tid;
	enum thread_state state;
	int priority;
	int slice;
	unsigned cpu;			/* where it runs, or last ran */
	struct list_node run_link;	/* run queue, or the wait queue it sleeps on */
	struct wait_queue *wq;		/* set while blocked on a queue */
	struct list_node proc_link;
	struct list_node all_link;	/* every thread, idle ones too (kdb ps) */
	struct list_node timer_link;	/* on the timeout list while deadline != 0 */
	uint64_t deadline_ns;
	uint64_t wait_object;		/* what a blocked thread waits on, for display */
	long wait_result;		/* handed over by the waker */
	void *ipc;			/* IPC hand-over while blocked (ipc/port.c) */
	uint64_t cpu_ns, run_start_ns;
	void (*kentry)(void *);
	void *karg;
	char name[PROC_NAME_MAX];
};

/* The boot CPU's idle thread is the boot flow (on the boot stack). */
void sched_init(void);
/* Another CPU's idle thread, with its stack (the CPU starts on it). */
struct thread *sched_new_idle(struct cpu *c);
uint64_t sched_idle_stack_top(const struct thread *idle);
/* What each CPU's idle thread runs, kernel lock held: never returns. */
_Noreturn void sched_idle_loop(void);
void schedule(void);
void sched_yield(void);
uint64_t sched_halted_cycles(const struct cpu *c);
void sched_tick(void);
void sched_make_ready(struct thread *t);
/* Called on every return to user mode: preemption and deferred kills. */
void sched_exit_to_user(void);

struct thread *thread_create_kernel(const char *name, void (*fn)(void *), void *arg, int prio);
struct thread *thread_create_user(struct proc *p, uint64_t entry, uint64_t stack_top,
				  uint64_t arg0, uint64_t arg1, int prio);
_Noreturn void thread_exit(void);
/* Unlinks a thread that is not running from any queue; it will never run again. */
void thread_reap(struct thread *t);

void wait_queue_init(struct wait_queue *wq);
/*
 * Blocks the current thread on wq (may be NULL) in `state` until woken,
 * killed, or timeout_ns passes (< 0: no timeout).  Returns the waker's
 * result, ERR_TIMEOUT, or ERR_DEAD when the process is being killed.
 */
long thread_block(struct wait_queue *wq, enum thread_state state, uint64_t wait_object,
		  int64_t timeout_ns);
void thread_wake(struct thread *t, long result);
struct thread *wait_queue_first(struct wait_queue *wq);
void wait_queue_wake_all(struct wait_queue *wq, long result);
const char *thread_state_name(enum thread_state s);
/* Every thread in creation order, idle threads first: NULL gives the first. */
struct thread *thread_next(struct thread *prev);
uint64_t thread_count(void);

#endif
